"""Snapshots of each layout on a deterministic world: a frozen clock, a fixed seed,
and the console's own clock pinned five minutes later."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from llmd_console.config import Config, RefreshConfig
from llmd_console.models import Phase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.messages import PodSelected
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.metrics import MetricsPane
from llmd_console.ui.panes.prompt import PromptPane
from tests.conftest import wait_for
from tests.console.conftest import make_app, until

FROZEN = 1_795_000_000.0  # 2026-11-18T11:06:40Z


@pytest.fixture(scope="module")
def frozen_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cluster = SimCluster(SimOptions(speed=100, seed=42, frozen_at=FROZEN)).start()
    if cluster.ctx.gateway_address.startswith("127.0.0.1:"):
        cluster.stop()
        pytest.skip("the Gateway needs port 80 on a loopback address (root) for a stable address")
    try:
        forget_probe_failures(cluster)
        yield cluster.write_kubeconfig(tmp_path_factory.mktemp("snap") / "kubeconfig")
    finally:
        cluster.stop()


def forget_probe_failures(cluster: SimCluster) -> None:
    """Once every pod is Ready, delete the Unhealthy events: how many probes fail before a server
    answers depends on how busy the machine is (the probe and the server race in real time), and
    a snapshot must not."""

    def ready() -> bool:
        pods = httpx.get(f"{cluster.url}/api/v1/pods", timeout=10).json()["items"]
        return bool(pods) and all(
            any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])) for p in pods
        )

    wait_for(ready, timeout=60, message="every pod Ready")
    for event in httpx.get(f"{cluster.url}/api/v1/events", timeout=10).json()["items"]:
        if event.get("reason") == "Unhealthy":
            meta = event["metadata"]
            url = f"{cluster.url}/api/v1/namespaces/{meta['namespace']}/events/{meta['name']}"
            httpx.delete(url, timeout=10).raise_for_status()


def settled(app: ConsoleApp) -> bool:
    """Everything has arrived and nothing is still moving."""
    rows = app.snapshot.pods.values()
    if app.connection.phase is not Phase.CONNECTED or not rows or any(r.ready != "1/1" for r in rows):
        return False
    logs = app.query(LogsPane)
    if logs and (logs.first().tracker.ready_at is None or logs.first().log_view.line_count < len(logs.first().lines)):
        return False
    metrics = app.query(MetricsPane)
    if metrics and metrics.first().is_on_screen and metrics.first().rounds < 1:
        return False  # one round, and only one (see app_for)
    prompt = app.prompting.state
    if app.query(PromptPane) and (prompt is None or not prompt.models):
        return False  # the endpoint and the served model, found
    if app.doctor_summary.state != "healthy":
        return False  # the problems strip: "no problems found"
    gateway = app.query(GatewayPane)
    return not gateway or not gateway.first().is_on_screen or [h.light for h in gateway.first().hops] == ["ok"] * 5


# One metrics round in a snapshot's life: a sparkline grows by a bar each round.
ONE_ROUND = dataclasses.replace(Config(), refresh=RefreshConfig(metrics_seconds=3600))


def app_for(kubeconfig: Path, layout: str) -> ConsoleApp:
    return make_app(kubeconfig, ONE_ROUND, layout=layout, now=lambda: FROZEN + 300)


def epp_shown(app: ConsoleApp, epp: str) -> bool:
    """The EPP pod is selected and its log has arrived in full."""
    logs = app.query(LogsPane)
    if not logs:
        return app.selected_pod == epp
    pane = logs.first()
    return pane.target is not None and pane.target.key == epp and 0 < len(pane.lines) <= pane.log_view.line_count


async def wait_settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await until(pilot, lambda: settled(app), limit=30, what="a settled world")
    # The EPP pod is the one shown: the decode pod's count of failed startup probes depends on
    # how busy the machine was while it started (the probe and the server race in real time).
    epp = next(key for key, pod in app.snapshot.pods.items() if pod.role == "epp")
    app.post_message(PodSelected(epp))
    await until(pilot, lambda: epp_shown(app, epp), limit=30, what="the EPP pod and its log")
    await pilot.pause(0.3)  # one more batch interval and repaint
    await until(pilot, lambda: epp_shown(app, epp) and app.connection.phase is Phase.CONNECTED, limit=5, what="still")


@pytest.mark.parametrize(("layout", "size"), [("default", (160, 45)), ("oncall", (160, 45)), ("demo", (160, 45))])
def test_layout_snapshot(
    frozen_world: Path, snap_compare: Callable[..., bool], layout: str, size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(frozen_world, layout), terminal_size=size, run_before=wait_settled)


def test_compact_snapshot_80x24(frozen_world: Path, snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(app_for(frozen_world, "auto"), terminal_size=(80, 24), run_before=wait_settled)


async def metrics_zoomed(pilot: Pilot[Any]) -> None:
    """The settled world, then the metrics pane focused (its number) and zoomed to the screen."""
    await wait_settled(pilot)
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await pilot.press(str(list(app.panes).index("metrics") + 1))
    await pilot.pause(0.1)
    if app.layout_name != "compact":
        await pilot.press("z")
    await until(pilot, lambda: app.query_one(MetricsPane).is_on_screen, limit=5, what="the metrics pane")
    await pilot.pause(0.2)


@pytest.mark.parametrize(("layout", "size"), [("default", (160, 45)), ("compact", (80, 24))])
def test_metrics_pane_snapshot(
    frozen_world: Path, snap_compare: Callable[..., bool], layout: str, size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(frozen_world, layout), terminal_size=size, run_before=metrics_zoomed)
