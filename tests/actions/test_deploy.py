"""Deploy and undeploy against the simulator, end to end: the runbook's objects removed
(cleanup option 2), then Pattern 1 deployed from the config into the emptied namespace until a
first inference answers; a failing step stops the deploy with its error."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from llmd_console.actions.audit import AuditLog
from llmd_console.actions.deploy import FollowTimes, deploy, run_deploy
from llmd_console.actions.deploy_plan import plan_deploy
from llmd_console.actions.facts import read_facts
from llmd_console.actions.plan import Plan, Risk
from llmd_console.actions.runner import carry_out
from llmd_console.actions.steps import StepFailed
from llmd_console.actions.undeploy import plan_undeploy, undeploy
from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config, DeployConfig, ResourcesConfig
from llmd_console.manifests import render
from llmd_console.sim.worlds.world import NAMESPACE
from tests.actions.conftest import Recorder

TIMES = FollowTimes(rollout=90.0, path=60.0, inference=60.0)


async def yes(plan: Plan) -> bool:
    return True


async def test_undeploy_then_deploy_answers_a_first_inference(kube: KubeClient, config: Config, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    gone = await plan_undeploy(kube, config, NAMESPACE)
    assert gone.risk is Risk.DISRUPTIVE and gone.confirm_word == NAMESPACE
    assert {d.change for d in gone.diffs} == {"delete"} and len(gone.diffs) == 10, gone.changes
    result = await carry_out(
        gone, lambda: undeploy(kube, config, NAMESPACE), confirm=yes, audit=audit, context="sim", read_only=False
    )
    assert result.outcome == "done", result.message
    with pytest.raises(KubeError):
        await kube.get(f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/pattern1-route")

    plan = await plan_deploy(kube, config, await read_facts(kube))
    assert [d.change for d in plan.diffs] == ["create"] * 10, plan.diffs
    assert plan.cost is not None and (plan.cost.chips_before, plan.cost.chips_after) == (0, 4)
    assert plan.cost.per_hour_after == pytest.approx(4 * config.prices["tpu-v6e-slice"])
    assert plan.command[:3] == ("kubectl", "apply", "--server-side")
    assert plan.command_input.count("\nkind: ") + plan.command_input.startswith("kind: ") == 10
    progress = Recorder()
    result = await carry_out(
        plan, lambda: deploy(kube, config, progress, TIMES), confirm=yes, audit=audit, context="sim", read_only=False
    )
    assert result.outcome == "done", result.message
    assert "first inference answered" in result.message
    states = progress.states()
    assert ("apply HTTPRoute/pattern1-route", "done") in states
    assert states[-1] == ("first inference", "done")
    # While the model server starts (minutes on a real TPU), the progress says what it waits for.
    waits = [p.detail for p in progress.seen if p.step.startswith("rollout ms-") and p.state == "running" and p.detail]
    assert waits and "Ready" in waits[0], waits
    assert not any(state == "failed" for _, state in states)
    records = audit.read()
    assert [(r["action"], r["outcome"]) for r in records] == [("undeploy", "done"), ("deploy", "done")]
    assert records[1]["diff"].startswith("10 create")


async def test_a_field_another_manager_owns_is_a_refusal_naming_it(kube: KubeClient, config: Config) -> None:
    path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{config.resources.decode_deployment}"
    helm = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": config.resources.decode_deployment}}
    await kube.apply(path, {**helm, "spec": {"replicas": 2}}, field_manager="helm", force=True)
    try:
        plan = await plan_deploy(kube, config)
        decode = next(d for d in plan.diffs if d.label == f"Deployment/{config.resources.decode_deployment}")
        assert decode.change == "refused" and "field manager helm" in decode.error, decode
    finally:
        # The whole manifest: an apply that left fields out would remove them (server-side apply).
        (manifest,) = [m for m in render(config) if m.path == path]
        await kube.apply(path, manifest.obj, field_manager="llmd-console", force=True)
    assert (await kube.get(path))["spec"]["replicas"] == 1


async def test_deploying_again_changes_nothing(kube: KubeClient, config: Config) -> None:
    plan = await plan_deploy(kube, config)
    assert [(d.label, d.change, d.error) for d in plan.diffs if d.change != "unchanged"] == []
    assert all(d.lines == () for d in plan.diffs)


async def test_a_failing_step_stops_the_deploy_with_its_error(kube: KubeClient, config: Config, tmp_path: Path) -> None:
    marker = tmp_path / "second-step-ran"
    steps = (
        (sys.executable, "-c", "import sys; print('helmfile: release failed'); sys.exit(1)"),
        (sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"),
    )
    failing = replace(config, deploy=DeployConfig(steps=steps))
    plan = await plan_deploy(kube, failing)
    assert plan.steps == steps and plan.diffs == () and plan.diff_summary == "2 step(s)"
    progress = Recorder()
    with pytest.raises(StepFailed) as caught:
        await run_deploy(kube, failing, progress)
    assert "exit status 1" in str(caught.value) and "helmfile: release failed" in str(caught.value)
    assert [state for _, state in progress.states()] == ["running", "failed"]
    assert not marker.exists()


async def test_a_manifest_the_server_rejects_stops_the_deploy(kube: KubeClient, config: Config) -> None:
    await kube.send("POST", "/api/v1/namespaces", {"metadata": {"name": "rejected-deploy"}})
    bad = replace(
        config,
        deploy=DeployConfig(namespace="rejected-deploy", replicas=0),
        resources=replace(ResourcesConfig(), http_route="Not_A_Valid_Name"),
    )
    plan = await plan_deploy(kube, bad)
    (refused,) = [d for d in plan.diffs if d.change == "refused"]
    assert refused.label == "HTTPRoute/Not_A_Valid_Name" and refused.error
    assert any("HTTPRoute/Not_A_Valid_Name" in w for w in plan.warnings)
    progress = Recorder()
    with pytest.raises(StepFailed) as caught:
        await run_deploy(kube, bad, progress)
    assert caught.value.step == "apply HTTPRoute/Not_A_Valid_Name"
    assert progress.seen[-1].state == "failed" and progress.seen[-1].detail
