"""Restart (rollout restart, and one pod deleted) and rollback against the simulator: each is
done only when new pods are Ready; a rollback is previewed as a diff of the pod template."""

from __future__ import annotations

import pytest

from llmd_console.actions.facts import read_facts
from llmd_console.actions.follow import NotReady, rollout_done
from llmd_console.actions.plan import Risk
from llmd_console.actions.restart import RESTARTED_AT, delete_and_replace, plan_restart, restart, surge_warnings
from llmd_console.actions.rollback import NoPreviousRevision, plan_rollback, read_rollback, rollback
from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.sim.worlds.world import DECODE_NAME, EPP_NAME, NAMESPACE

DEPLOYMENT = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{DECODE_NAME}"


async def decode_pods(kube: KubeClient) -> set[str]:
    pods, _ = await kube.list(KINDS["pods"], NAMESPACE)
    return {
        p["metadata"]["name"]
        for p in pods
        if (p["metadata"].get("labels") or {}).get("llm-d.ai/role") == "decode"
        and not p["metadata"].get("deletionTimestamp")
    }


async def test_rollback_without_history_is_refused(kube: KubeClient) -> None:
    await rollout_done(kube, NAMESPACE, DECODE_NAME, 60.0)
    with pytest.raises(NoPreviousRevision):
        await read_rollback(kube, NAMESPACE, DECODE_NAME)


async def test_rollout_restart_replaces_the_pods(kube: KubeClient) -> None:
    path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{EPP_NAME}"
    pods, _ = await kube.list(KINDS["pods"], NAMESPACE)
    before = {p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith(EPP_NAME)}
    plan = plan_restart(NAMESPACE, EPP_NAME, 1, surge_warnings(await kube.get(path), await read_facts(kube)))
    assert plan.command == ("kubectl", "rollout", "restart", f"deployment/{EPP_NAME}", "-n", NAMESPACE)
    assert plan.risk is Risk.ROUTINE and plan.warnings == ()
    said = await restart(kube, NAMESPACE, EPP_NAME, 90.0)
    assert "1/1 Ready" in said
    pods, _ = await kube.list(KINDS["pods"], NAMESPACE)
    after = {p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith(EPP_NAME)}
    assert after and not after & before
    assert RESTARTED_AT in (await kube.get(path))["spec"]["template"]["metadata"]["annotations"]


async def test_a_decode_restart_that_cannot_fit_is_warned_and_fails_with_the_reason(kube: KubeClient) -> None:
    # One TPU node, its 4 chips held by the running pod: the surge pod cannot be scheduled.
    warnings = surge_warnings(await kube.get(DEPLOYMENT), await read_facts(kube))
    assert warnings and "stay Pending" in warnings[0]
    with pytest.raises(NotReady, match=r"Insufficient google\.com/tpu"):
        await restart(kube, NAMESPACE, DECODE_NAME, 3.0)


async def test_rollback_undoes_the_restart(kube: KubeClient) -> None:
    dep, revision, template = await read_rollback(kube, NAMESPACE, DECODE_NAME)
    assert revision == 1
    plan = plan_rollback(dep, revision, template)
    (diff,) = plan.diffs
    assert diff.change == "update"
    assert any(line.startswith("-") and RESTARTED_AT in line for line in diff.lines), diff.lines
    assert plan.command == ("kubectl", "rollout", "undo", f"deployment/{DECODE_NAME}", "-n", NAMESPACE)
    said = await rollback(kube, NAMESPACE, DECODE_NAME, template, 90.0)
    assert "1/1 Ready" in said
    dep = await kube.get(DEPLOYMENT)
    assert RESTARTED_AT not in (dep["spec"]["template"]["metadata"].get("annotations") or {})


async def test_deleting_a_pod_is_done_when_its_replacement_is_ready(kube: KubeClient) -> None:
    (pod,) = await decode_pods(kube)
    said = await delete_and_replace(kube, NAMESPACE, pod, DECODE_NAME, 90.0)
    assert "deleted and replaced" in said
    assert pod not in await decode_pods(kube)
