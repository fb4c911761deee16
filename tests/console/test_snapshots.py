"""Snapshots of each layout on a deterministic world: a frozen clock, a fixed seed,
and the console's own clock pinned five minutes later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from llmd_console.models import Phase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.logs import LogsPane
from tests.console.conftest import make_app, until

FROZEN = 1_795_000_000.0  # 2026-11-18T11:06:40Z


@pytest.fixture(scope="module")
def frozen_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cluster = SimCluster(SimOptions(speed=100, seed=42, frozen_at=FROZEN)).start()
    if cluster.ctx.gateway_address.startswith("127.0.0.1:"):
        cluster.stop()
        pytest.skip("the Gateway needs port 80 on a loopback address (root) for a stable address")
    yield cluster.write_kubeconfig(tmp_path_factory.mktemp("snap") / "kubeconfig")
    cluster.stop()


def settled(app: ConsoleApp) -> bool:
    """Everything has arrived and nothing is still moving."""
    rows = app.snapshot.pods.values()
    if app.connection.phase is not Phase.CONNECTED or not rows or any(r.ready != "1/1" for r in rows):
        return False
    logs = app.query(LogsPane)
    if logs and (logs.first().tracker.ready_at is None or logs.first().log_view.line_count < len(logs.first().lines)):
        return False
    gateway = app.query(GatewayPane)
    return not gateway or not gateway.first().is_on_screen or [h.light for h in gateway.first().hops] == ["ok"] * 5


def app_for(kubeconfig: Path, layout: str) -> ConsoleApp:
    return make_app(kubeconfig, layout=layout, now=lambda: FROZEN + 300)


async def wait_settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await until(pilot, lambda: settled(app), limit=30, what="a settled world")
    await pilot.pause(0.3)  # one more batch interval and repaint
    await until(pilot, lambda: settled(app), limit=5, what="still settled")


@pytest.mark.parametrize(("layout", "size"), [("default", (160, 45)), ("oncall", (160, 45)), ("demo", (160, 45))])
def test_layout_snapshot(
    frozen_world: Path, snap_compare: Callable[..., bool], layout: str, size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(frozen_world, layout), terminal_size=size, run_before=wait_settled)


def test_compact_snapshot_80x24(frozen_world: Path, snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(app_for(frozen_world, "auto"), terminal_size=(80, 24), run_before=wait_settled)
