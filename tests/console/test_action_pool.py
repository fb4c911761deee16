"""The TPU node pool from the nodes pane, through the simulator's GKE Container API: resized to 0
and back (the node goes and returns, the decode pod goes Pending and back to Ready, the preview's
cost delta is the config's price of the pool's chips), and the runbook's scale to zero and back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from llmd_console.actions.audit import AuditLog
from llmd_console.actions.plan import Plan
from llmd_console.config import Config
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.confirm import ConfirmScreen
from llmd_console.ui.dialogs import NumberDialog
from llmd_console.ui.doctor_view import DoctorScreen, DoctorView
from llmd_console.ui.panes.nodes import NodesPane
from tests.console.action_support import action_app, answer, connected, ended, outcomes, preview, type_name
from tests.console.conftest import CONSOLE_SPEED, until
from tests.doctor.helpers import set_scenario

POOL = "tpu-v6e-pool"


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=22)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


def tpu_nodes(app: object) -> list[str]:
    nodes = app.snapshot.nodes  # type: ignore[attr-defined]
    return [n.name for n in nodes.values() if n.pool == POOL]


def ready_decode_pods(cluster: SimCluster) -> int:
    """Ready decode pods as the API server has them now (not as the console last drew them)."""
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        pods = http.get("/api/v1/namespaces/llm-d-inference-scheduling/pods").json()["items"]
    return sum(
        1
        for p in pods
        if "decode" in p["metadata"]["name"]
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
    )


def decode_phases(app: object) -> list[tuple[str, bool]]:
    pods = app.snapshot.pods  # type: ignore[attr-defined]
    return [(p.phase, p.is_ready) for p in pods.values() if p.role == "decode" and not p.terminating]


async def resize_preview(app: ConsoleApp, pilot: Pilot[Any], count: str) -> Plan:
    """``s`` on the nodes pane, ``count`` nodes in the dialog (which names the pool): the plan previewed."""
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, NumberDialog), what="the node count dialog")
    assert isinstance(app.screen, NumberDialog) and POOL in app.screen.title_text
    await answer(app, pilot, count)
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the preview")
    assert isinstance(app.screen, ConfirmScreen)
    return app.screen.plan


async def test_tpu_pool_to_zero_and_back(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    price = Config().prices["tpu-v6e-slice"]
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        app.query_one(NodesPane).table.focus()
        plan = await resize_preview(app, pilot, "0")
        assert plan.cost is not None and plan.cost.delta == pytest.approx(-4 * price)
        assert (plan.cost.chips_before, plan.cost.chips_after) == (4, 0)
        assert any("Ready model pod" in w for w in plan.warnings), plan.warnings
        assert plan.command[:4] == ("gcloud", "container", "clusters", "resize")
        await type_name(app, pilot, POOL)
        assert await ended(app, pilot) == "done", app.action_bar.detail
        await until(pilot, lambda: tpu_nodes(app) == [], what="the TPU node gone from the nodes pane")
        await until(pilot, lambda: decode_phases(app) == [("Pending", False)], limit=30, what="decode Pending")

        # No TPU node to select now: the accelerator pool is still the one resized.
        plan = await resize_preview(app, pilot, "1")
        assert plan.cost is not None and plan.cost.delta == pytest.approx(4 * price)
        await type_name(app, pilot, POOL)
        await until(pilot, lambda: app.action_bar.state == "running", what="the resize to start")
        assert await ended(app, pilot) == "done", app.action_bar.detail
        await until(pilot, lambda: len(tpu_nodes(app)) == 1, what="the TPU node back in the nodes pane")
        await until(pilot, lambda: decode_phases(app) == [("Running", True)], limit=90, what="decode Ready again")
        assert outcomes(audit) == [("scale-pool", "done"), ("scale-pool", "done")]
        assert audit.read()[0]["diff"].endswith("$5.00/h -> $0.00/h")


async def test_scale_to_zero_and_back(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        app.query_one(NodesPane).table.focus()
        screen = await preview(app, pilot, "Z")
        assert screen.plan.action == "scale-to-zero" and screen.plan.cost is not None
        assert screen.plan.cost.per_hour_after == 0
        await pilot.press("escape")
        await until(pilot, lambda: outcomes(audit) == [("scale-to-zero", "cancelled")], what="the cancel")
        assert len(tpu_nodes(app)) == 1 and decode_phases(app) == [("Running", True)]

        await preview(app, pilot, "Z")
        await type_name(app, pilot, POOL)
        assert await ended(app, pilot) == "done", app.action_bar.detail
        await until(pilot, lambda: tpu_nodes(app) == [] and decode_phases(app) == [], what="nothing left to pay for")

        screen = await preview(app, pilot, "B")
        assert screen.plan.action == "scale-back" and "replicas 0 -> 1" in " ".join(screen.plan.changes)
        await type_name(app, pilot, POOL)
        await until(pilot, lambda: app.action_bar.state == "running", what="scale back to start")
        assert await ended(app, pilot, limit=120) == "done", app.action_bar.detail
        assert ready_decode_pods(sim) == 1  # reported done only once the model pod is Ready again
        await until(pilot, lambda: decode_phases(app) == [("Running", True)], what="the pods pane to catch up")
        assert outcomes(audit)[-1] == ("scale-back", "done")


async def test_the_doctor_offers_its_fix_as_the_pool_resize(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    price = Config().prices["tpu-v6e-slice"]
    async with app.run_test(size=(160, 45)) as pilot:
        await connected(app, pilot)
        set_scenario(sim, "tpu-pool-empty")
        await until(pilot, lambda: "tpu-pool-empty" in app.finding_ids(), limit=60, what="the doctor's finding")
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: isinstance(app.screen, DoctorScreen), what="the doctor view")
        view = app.screen.query_one(DoctorView)
        await until(pilot, lambda: any(f.id == "tpu-pool-empty" for f in view.findings), what="the finding listed")
        view.options.highlighted = next(i for i, f in enumerate(view.findings) if f.id == "tpu-pool-empty")
        await pilot.press("a")  # the fix, as the console's own action
        await until(pilot, lambda: isinstance(app.screen, NumberDialog), what="the node count dialog")
        assert app.screen.query_one("#number-input", Input).value == "1"  # the pool is at 0: one node suggested
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the preview")
        plan = app.screen.plan  # type: ignore[attr-defined]
        assert plan.action == "scale-pool" and plan.cost is not None and plan.cost.delta == pytest.approx(4 * price)
        await type_name(app, pilot, POOL)
        assert await ended(app, pilot) == "done", app.action_bar.detail
        await until(pilot, lambda: decode_phases(app) == [("Running", True)], limit=90, what="the model server back")
        await until(pilot, lambda: "tpu-pool-empty" not in app.finding_ids(), what="the finding cleared")
        assert outcomes(audit) == [("scale-pool", "done")]
