"""The pods pane's actions end to end against the simulator: key -> preview -> confirm -> the
cluster changes -> the panes show it -> reported done only when true; cancel changes nothing;
bad counts are refused; a second press while one runs is refused; RBAC and read-only mode
keep actions from being offered; every outcome is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmd_console.actions.audit import AuditLog
from llmd_console.config import Config, UiConfig
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.confirm import ConfirmScreen
from llmd_console.ui.dialogs import NumberDialog
from llmd_console.ui.messages import ActionRequested
from tests.console.action_support import (
    NAMESPACE,
    action_app,
    answer,
    connected,
    ended,
    outcomes,
    pod_of,
    preview,
    preview_shown,
    select_pod,
    status_of,
    type_name,
)
from tests.console.conftest import CONSOLE_SPEED, until

EPP = "gaie-pattern1-epp"
DECODE = "ms-pattern1-llm-d-modelservice-decode"


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=21)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


def template_annotations(cluster: SimCluster, name: str) -> dict[str, str]:
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        dep = http.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}").json()
    return dict(dep["spec"]["template"]["metadata"].get("annotations") or {})


def _pods(cluster: SimCluster) -> list[dict[str, Any]]:
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        return list(http.get(f"/api/v1/namespaces/{NAMESPACE}/pods").json()["items"])


def pod_names(cluster: SimCluster) -> list[str]:
    """The pods the API server has now."""
    return [p["metadata"]["name"] for p in _pods(cluster)]


def ready_pods(cluster: SimCluster, role: str) -> list[bool]:
    """Whether each pod of ``role`` (a name part) is Ready, as the API server has it now."""
    return [
        any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
        for p in _pods(cluster)
        if role in p["metadata"]["name"] and not p["metadata"].get("deletionTimestamp")
    ]


def deny(cluster: SimCluster, denial: dict[str, str]) -> None:
    """Refuse the simulator's user one verb on one resource (its RBAC model)."""
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        http.post("/llmd-sim/v1/access/denials", json=denial).raise_for_status()


async def test_restart_then_rollback_of_the_epp(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        old = pod_of(app, "epp")
        await select_pod(app, pilot, old)

        screen = await preview(app, pilot, "r")
        assert screen.plan.command == ("kubectl", "rollout", "restart", f"deployment/{EPP}", "-n", NAMESPACE)
        assert f"kubectl rollout restart deployment/{EPP}" in preview_shown(screen)
        await pilot.press("escape")  # cancelled: nothing changes, and it is recorded
        await until(pilot, lambda: outcomes(audit) == [("restart", "cancelled")], what="the cancel audited")
        assert "kubectl.kubernetes.io/restartedAt" not in template_annotations(sim, EPP)

        await preview(app, pilot, "r")
        await pilot.press("y")
        assert await ended(app, pilot) == "done", app.action_bar.detail
        # Done means the API has one EPP pod, new and Ready (the pods pane follows its watch).
        assert ready_pods(sim, "epp") == [True] and old.split("/")[1] not in pod_names(sim)

        def epps_shown() -> list[bool]:
            return [p.is_ready for p in app.snapshot.pods.values() if p.role == "epp"]

        await until(pilot, lambda: old not in app.snapshot.pods and epps_shown() == [True], what="the pods pane")
        assert "kubectl.kubernetes.io/restartedAt" in template_annotations(sim, EPP)
        record = audit.read()[-1]
        assert (record["action"], record["outcome"]) == ("restart", "done")
        assert record["command"] == f"kubectl rollout restart deployment/{EPP} -n {NAMESPACE}"
        assert record["context"] and record["user"] and "Ready" in record["detail"]
        assert any("started" in line for line in app.action_bar.lines)

        # Rollback: the previous template, previewed as a diff that removes the annotation.
        await select_pod(app, pilot, pod_of(app, "epp"))
        screen = await preview(app, pilot, "b")
        shown = preview_shown(screen)
        assert "update" in shown and "-" in shown and "restartedAt" in shown, shown
        await type_name(app, pilot, EPP)
        assert await ended(app, pilot) == "done", app.action_bar.detail
        assert "kubectl.kubernetes.io/restartedAt" not in template_annotations(sim, EPP)
        assert outcomes(audit)[-1] == ("rollback", "done")


async def test_scale_refuses_bad_counts_then_scales(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        await select_pod(app, pilot, pod_of(app, "epp"))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, NumberDialog), what="the replica count dialog")
        await pilot.press("escape")  # cancelled before a plan: recorded all the same
        await until(pilot, lambda: outcomes(audit) == [("scale", "cancelled")], what="the cancel audited")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, NumberDialog), what="the replica count dialog")
        dialog = await answer(app, pilot, "two")
        assert app.screen is dialog and "whole number" in status_of(dialog)
        dialog = await answer(app, pilot, "99")
        assert app.screen is dialog and "at most 16" in status_of(dialog)
        dialog = await answer(app, pilot, "-1")
        assert app.screen is dialog and "whole number" in status_of(dialog)
        await answer(app, pilot, "2")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the preview")
        assert isinstance(app.screen, ConfirmScreen)
        plan = app.screen.plan
        assert plan.command == ("kubectl", "scale", "deployment", EPP, "--replicas=2", "-n", NAMESPACE)
        assert plan.cost is not None and "Accelerators:" in preview_shown(app.screen)
        await pilot.press("y")
        assert await ended(app, pilot) == "done", app.action_bar.detail
        ready = [p for p in app.snapshot.pods.values() if p.role == "epp" and p.is_ready]
        assert len(ready) == 2
        assert outcomes(audit) == [("scale", "cancelled"), ("scale", "done")]
        assert audit.read()[1]["detail"].endswith("2/2 Ready")


async def test_a_second_press_while_an_action_runs_is_refused(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        decode = pod_of(app, "decode")
        await select_pod(app, pilot, decode)
        # All four chips are held by the running pod: a rolling restart's new pod cannot be
        # scheduled, and the preview says so before anything changes.
        screen = await preview(app, pilot, "r")
        assert any("stay Pending" in w for w in screen.plan.warnings), screen.plan.warnings
        assert "stay Pending" in preview_shown(screen)
        await pilot.press("y")
        await until(pilot, lambda: app.action_bar.running, what="the restart to run")
        await until(
            pilot,
            lambda: any(p.role == "decode" and p.phase == "Pending" for p in app.snapshot.pods.values()),
            what="the surge pod Pending in the pods pane",
        )
        await pilot.press("r")
        await until(pilot, lambda: ("restart", "refused") in outcomes(audit), what="the second press refused")
        assert "still running" in audit.read()[-1]["detail"]
        # Never reported done: its new pod cannot start.
        assert app.action_bar.running and "Pending" in app.action_bar.detail


async def test_a_forbidden_action_is_not_offered(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    deny(sim, {"verb": "patch", "resource": "deployments", "namespace": NAMESPACE, "group": "apps"})
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        await select_pod(app, pilot, pod_of(app, "epp"))
        active = {b.binding.action for b in app.active_bindings.values()}
        assert "restart" not in active and "rollback" not in active and "deploy" not in active
        assert "scale" in active  # deployments/scale is another resource, still allowed
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Pods: Restart" not in titles and "Deploy Pattern 1" not in titles and "Pods: Scale" in titles
        await pilot.press("r")
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        assert any("not allowed to patch deployments.apps" in s for s in said), said
        assert not isinstance(app.screen, ConfirmScreen) and audit.read() == []


async def test_read_only_offers_no_action_and_refuses_a_request(
    cluster: tuple[SimCluster, Path], tmp_path: Path
) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit, Config(ui=UiConfig(read_only=True)))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: len(app.snapshot.pods) == 2, what="the pods")
        await select_pod(app, pilot, pod_of(app, "epp"))
        active = {b.binding.action for b in app.active_bindings.values()}
        assert not active & {"restart", "scale", "rollback", "delete_pod", "deploy"}
        assert not any(c.title.startswith(("Deploy", "Scale", "Undeploy")) for c in app.get_system_commands(app.screen))
        assert not {"deploy", "undeploy", "pods.restart"} & {row.action_id for row in app.help_rows()}
        await pilot.press("D")
        await pilot.pause()
        assert any("read-only" in str(n.message) for n in app._notifications)
        # A request from elsewhere (a doctor finding) is refused and recorded, never planned.
        app.post_message(ActionRequested("scale-to-zero"))
        await until(pilot, lambda: outcomes(audit) == [("scale-to-zero", "refused")], what="the refusal audited")
        assert audit.read()[0]["detail"] == "read-only"
        assert len(app.snapshot.nodes) == 2
