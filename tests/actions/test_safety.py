"""Safety around actions, against the simulator: the API's own answer to "may I" before an
action is offered, errors explained (RBAC, a missing CRD, a field manager's conflict), one
action at a time, and every outcome audited (done, cancelled, refused)."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmd_console.actions.audit import AuditLog
from llmd_console.actions.catalog import Catalog, Request
from llmd_console.actions.deploy_plan import plan_deploy, preview_object, secret_present
from llmd_console.actions.facts import read_facts
from llmd_console.actions.plan import Plan
from llmd_console.actions.runner import carry_out
from llmd_console.actions.safety import NEEDS, TAKE_OVER, OneAtATime, explain, permitted
from llmd_console.actions.scale import plan_replicas, read_scale, scale_replicas
from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config, DeployConfig
from llmd_console.gke import NodePoolClient
from llmd_console.manifests import render
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import DECODE_NAME, NAMESPACE

SERVICE = f"/api/v1/namespaces/{NAMESPACE}/services/conflict-check"


async def no(plan: Plan) -> bool:
    return False


async def yes(plan: Plan) -> bool:
    return True


async def test_every_action_is_allowed_for_the_simulators_admin(kube: KubeClient) -> None:
    for action in NEEDS:
        assert (await permitted(kube, action, NAMESPACE)).allowed, action
    assert not (await permitted(kube, "format-disk", NAMESPACE)).allowed


async def test_a_forbidden_action_is_not_offered_and_its_refusal_is_explained(
    sim: SimCluster, kube: KubeClient, config: Config
) -> None:
    sim.call(lambda: sim.ctx.denied.add("deployments.apps"))
    try:
        verdict = await permitted(kube, "scale", NAMESPACE)
        assert not verdict.allowed
        assert f"not allowed to patch deployments/scale.apps in {NAMESPACE}" in verdict.reason
        with pytest.raises(KubeError) as caught:
            await scale_replicas(kube, NAMESPACE, DECODE_NAME, 1, 5.0)
        said = explain(caught.value)
        assert said.startswith("forbidden by RBAC") and "deployments" in said
    finally:
        sim.call(lambda: sim.ctx.denied.discard("deployments.apps"))
    assert (await permitted(kube, "scale", NAMESPACE)).allowed


async def test_a_conflict_names_the_other_field_manager(kube: KubeClient) -> None:
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "conflict-check", "namespace": NAMESPACE},
        "spec": {"selector": {"app": "a"}, "ports": [{"name": "http", "port": 80}]},
    }
    await kube.apply(SERVICE, service, field_manager="helm")
    service["spec"]["selector"] = {"app": "b"}
    with pytest.raises(KubeError) as caught:
        await kube.apply(SERVICE, service, field_manager="llmd-console")
    assert caught.value.status == 409
    said = explain(caught.value)
    assert "field manager helm" in said and "force" in said
    forced = await kube.apply(SERVICE, service, field_manager="llmd-console", force=True)
    assert forced["spec"]["selector"] == {"app": "b"}


async def test_a_deploy_over_another_managers_fields_is_refused_then_taken_over(
    kube: KubeClient, config: Config, gke: NodePoolClient
) -> None:
    ns = "taken-over"
    config = replace(config, deploy=DeployConfig(namespace=ns))
    await kube.send("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    route = next(m for m in render(config, ns) if m.kind == "HTTPRoute")
    helms = copy.deepcopy(route.obj)
    helms["spec"]["rules"][0]["backendRefs"][0]["weight"] = 2  # a Helm release set it otherwise
    await kube.apply(route.path, helms, field_manager="helm")

    plain = await plan_deploy(kube, config)
    (refused,) = [d for d in plain.diffs if d.change == "refused"]
    assert refused.label == route.label and "field manager helm" in refused.error
    assert f"'{TAKE_OVER}' in the command palette (ctrl+p)" in " ".join(plain.warnings)

    prepared = await Catalog(kube, config, lambda: gke, ns).prepare(Request("deploy-take-over"))
    forced = prepared.plan
    assert forced.action == "deploy-take-over" and "--force-conflicts" in forced.command
    assert {d.change for d in forced.diffs} >= {"update"} and "refused" not in {d.change for d in forced.diffs}
    (taken,) = [d for d in forced.diffs if d.change == "update"]
    assert taken.label == route.label and any(line.startswith("+") and "weight: 1" in line for line in taken.lines)
    assert any(
        w.startswith(f"{route.label}: takes over the field(s) owned by field manager helm") for w in forced.warnings
    )
    assert (await kube.get(route.path))["spec"]["rules"][0]["backendRefs"][0]["weight"] == 2  # only a preview


async def test_the_preview_changes_nothing(kube: KubeClient, config: Config) -> None:
    await kube.send("POST", "/api/v1/namespaces", {"metadata": {"name": "preview-only"}})
    plan = await plan_deploy(kube, replace(config, deploy=DeployConfig(namespace="preview-only")))
    assert any("Secret huggingface-token is missing in preview-only" in w for w in plan.warnings), plan.warnings
    assert not any("Secret" in w for w in (await plan_deploy(kube, config)).warnings)
    assert await secret_present(kube, NAMESPACE, "huggingface-token") is True
    nowhere = await plan_deploy(kube, replace(config, deploy=DeployConfig(namespace="nowhere")))
    assert "namespace nowhere does not exist: create it first (kubectl create namespace nowhere)" in nowhere.warnings
    assert {d.change for d in nowhere.diffs} == {"refused"}
    for m in render(config, "preview-only"):
        diff, _ = await preview_object(kube, m)
        assert diff.change == "create", (diff.label, diff.error)
        with pytest.raises(KubeError) as caught:
            await kube.get(m.path)
        assert caught.value.status == 404


async def test_cancel_and_read_only_change_nothing_and_are_audited(
    kube: KubeClient, config: Config, tmp_path: Path
) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    current = await read_scale(kube, NAMESPACE, DECODE_NAME)
    plan = plan_replicas(current, 0, await read_facts(kube), config.prices)
    run = lambda: scale_replicas(kube, NAMESPACE, DECODE_NAME, 0, 5.0)  # noqa: E731
    cancelled = await carry_out(plan, run, confirm=no, audit=audit, context="sim", read_only=False)
    refused = await carry_out(plan, run, confirm=yes, audit=audit, context="sim", read_only=True)
    assert (cancelled.outcome, refused.outcome) == ("cancelled", "refused")
    assert (await read_scale(kube, NAMESPACE, DECODE_NAME)).replicas == current.replicas
    records = audit.read()
    assert [r["outcome"] for r in records] == ["cancelled", "refused"]
    first = records[0]
    assert first["action"] == "scale" and first["target"] == DECODE_NAME and first["context"] == "sim"
    assert first["command"] == f"kubectl scale deployment {DECODE_NAME} --replicas=0 -n {NAMESPACE}"
    assert first["diff"] == "$5.00/h -> $0.00/h" and first["user"] and first["time"]


async def test_a_second_action_while_one_runs_is_refused(config: Config, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    guard = OneAtATime()
    release, started = asyncio.Event(), asyncio.Event()
    plan = Plan("restart", "Restart deployment x", "x", NAMESPACE, (), ("kubectl", "rollout", "restart", "x"))

    async def slow() -> str:
        started.set()
        await release.wait()
        return "restarted"

    first = asyncio.create_task(
        carry_out(plan, slow, confirm=yes, audit=audit, context="sim", read_only=False, guard=guard)
    )
    await started.wait()
    second = await carry_out(plan, slow, confirm=yes, audit=audit, context="sim", read_only=False, guard=guard)
    assert second.outcome == "refused" and "still running" in second.message
    release.set()
    assert (await first).outcome == "done"
    assert [r["outcome"] for r in audit.read()] == ["refused", "done"]
    assert guard.running is None


async def test_a_missing_crd_names_the_install_step(sim: SimCluster, kube: KubeClient, config: Config) -> None:
    # Last in the module: the InferencePool API goes away.
    await kube.delete(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/inferencepools.inference.networking.k8s.io"
    )
    pool = next(m for m in render(config, NAMESPACE) if m.kind == "InferencePool")

    async def gone() -> bool:
        diff, _ = await preview_object(kube, pool)
        return diff.change == "refused" and "install-gateway-provider-dependencies.sh" in diff.error

    for _ in range(100):
        if await gone():
            break
        await asyncio.sleep(0.1)
    diff, _ = await preview_object(kube, pool)
    assert diff.change == "refused"
    assert "CRD is not installed" in diff.error and "install-gateway-provider-dependencies.sh" in diff.error
