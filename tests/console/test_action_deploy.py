"""Undeploy and deploy from the console's keys against the simulator: the namespace's llm-d
objects removed (typed namespace), then Pattern 1 deployed from the config with every object's
diff and the cost in the preview, reported done only when a first inference has answered;
deploying again changes nothing; a failing deploy step stops the deploy with its error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from llmd_console.actions.audit import AuditLog
from llmd_console.config import Config, DeployConfig
from llmd_console.sim import SimCluster, SimOptions
from tests.console.action_support import (
    NAMESPACE,
    action_app,
    connected,
    ended,
    outcomes,
    preview,
    preview_shown,
    type_name,
)
from tests.console.conftest import CONSOLE_SPEED, until

ROUTE = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/pattern1-route"


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=23)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


def status_of(cluster: SimCluster, path: str) -> int:
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        return http.get(path).status_code


async def test_undeploy_then_deploy_then_deploy_again(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        screen = await preview(app, pilot, "U")
        assert screen.plan.confirm_word == NAMESPACE and {d.change for d in screen.plan.diffs} == {"delete"}
        await type_name(app, pilot, NAMESPACE[:-1])  # a near miss confirms nothing
        assert app.screen is screen
        await pilot.press(NAMESPACE[-1], "enter")
        assert await ended(app, pilot) == "done", app.action_bar.detail
        assert status_of(sim, ROUTE) == 404
        await until(pilot, lambda: not app.snapshot.pods, what="the pods pane emptied")

        screen = await preview(app, pilot, "D")
        plan = screen.plan
        assert [d.change for d in plan.diffs] == ["create"] * 10
        assert plan.cost is not None and (plan.cost.chips_before, plan.cost.chips_after) == (0, 4)
        shown = preview_shown(screen)
        assert "kubectl apply --server-side" in shown and "create    HTTPRoute/pattern1-route" in shown
        assert "+kind: HTTPRoute" in shown  # the object as it would be created
        await type_name(app, pilot, NAMESPACE)
        await until(pilot, lambda: app.action_bar.running, what="the deploy to start")
        # While the model server starts, the bar says what the deploy waits for; not done yet.
        await until(pilot, lambda: "rollout" in app.action_bar.detail, limit=30, what="the rollout followed")
        assert await ended(app, pilot, limit=180) == "done", app.action_bar.detail
        assert "first inference answered" in app.action_bar.detail
        record = audit.read()[-1]
        assert (record["action"], record["outcome"]) == ("deploy", "done") and record["diff"].startswith("10 create")
        lines = "\n".join(app.action_bar.lines)
        assert "apply HTTPRoute/pattern1-route: done" in lines and "first inference: done" in lines
        await until(pilot, lambda: any(p.is_ready and p.role == "decode" for p in app.snapshot.pods.values()))

        screen = await preview(app, pilot, "D")
        assert {d.change for d in screen.plan.diffs} == {"unchanged"}, screen.plan.changes
        assert all(not d.lines for d in screen.plan.diffs)
        await pilot.press("escape")
        await until(pilot, lambda: outcomes(audit)[-1] == ("deploy", "cancelled"), what="the second deploy cancelled")
        assert outcomes(audit) == [("undeploy", "done"), ("deploy", "done"), ("deploy", "cancelled")]


async def test_a_failing_deploy_step_stops_with_its_error(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    steps = (("true",), ("false",), ("kubectl", "version", "--client"))
    config = replace(Config(), deploy=DeployConfig(steps=steps))
    app = action_app(sim, kubeconfig, audit, config)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        screen = await preview(app, pilot, "D")
        assert screen.plan.steps == steps
        assert "1. true" in preview_shown(screen) and "2. false" in preview_shown(screen)
        await type_name(app, pilot, NAMESPACE)
        assert await ended(app, pilot) == "failed"
        assert "false" in app.action_bar.detail and "exit" in app.action_bar.detail, app.action_bar.detail
        lines = "\n".join(app.action_bar.lines)
        assert "[1/3] true: done" in lines and "[2/3] false: failed" in lines and "[3/3]" not in lines
        record = audit.read()[-1]
        assert (record["action"], record["outcome"]) == ("deploy", "failed") and "false" in record["detail"]
