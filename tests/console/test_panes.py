"""Pilot tests: the console against the simulated Pattern 1 cluster."""

from __future__ import annotations

import time
from pathlib import Path

from llmd_console.models import Phase, StreamPhase
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.layout import PaneTabs
from llmd_console.ui.live_table import LiveTable
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.nodes import NodesPane
from llmd_console.ui.panes.pods import PodsPane
from tests.console.conftest import make_app, until

DECODE = "ms-pattern1-llm-d-modelservice-decode"


def pods_pane(app: ConsoleApp) -> PodsPane:
    return app.query_one(PodsPane)


def decode_keys(app: ConsoleApp) -> list[str]:
    return [k for k, row in app.snapshot.pods.items() if row.role == "decode"]


def ready_decode(app: ConsoleApp) -> bool:
    return any(app.snapshot.pods[k].ready == "1/1" for k in decode_keys(app))


async def test_every_pane_shows_the_pattern1_world(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(
            pilot, lambda: app.connection.phase is Phase.CONNECTED and ready_decode(app), what="a Ready decode pod"
        )
        pods = pods_pane(app)
        names = {row.name for row in app.snapshot.pods.values()}
        assert any(n.startswith(DECODE) for n in names) and any(n.startswith("gaie-pattern1-epp") for n in names)
        assert pods.table.row_count == len(app.snapshot.pods)
        nodes = app.query_one(NodesPane)
        await until(pilot, lambda: nodes.table.row_count == 2, what="two nodes")
        assert "tpu-v6e-pool 1/1 ready ct6e-standard-4t 4 chips $5.00/h" in str(nodes.pools.render())
        chips = str(nodes.chips.render())
        assert chips.startswith("TPU 2x2 tpu-v6e-slice  4 allocated, 0 free") and chips.count(" A ") == 4 + 1
        gateway = app.query_one(GatewayPane)
        await until(pilot, lambda: [h.light for h in gateway.hops] == ["ok"] * 5, what="a healthy request path")
        assert [h.kind for h in gateway.hops] == ["Gateway", "HTTPRoute", "InferencePool", "EPP", "Model pods"]
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: logs.target is not None and logs.target.pod.startswith(DECODE), what="decode logs")
        await until(pilot, lambda: any("vLLM API server version" in text for _, text in logs.lines), what="log lines")


async def test_event_ages_move_on_with_the_clock(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    later = [0.0]
    app = make_app(kubeconfig, layout="default", now=lambda: time.time() + later[0])
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: ready_decode(app), what="a Ready decode pod")
        pods = pods_pane(app)

        def shown_ready_decode() -> str | None:
            rows = pods.table.keys()
            return next((k for k in decode_keys(app) if app.snapshot.pods[k].ready == "1/1" and k in rows), None)

        await until(pilot, lambda: shown_ready_decode() is not None, what="a Ready decode pod in the table")
        key = shown_ready_decode()
        assert key is not None
        pods.table.move_to_key(key)
        await until(pilot, lambda: "Scheduled" in str(pods.events.render()), what="the decode pod's events")
        later[0] = 3 * 3600.0  # three hours on, and no new event since
        pods.tick()
        ages = [line.split()[0] for line in str(pods.events.render()).splitlines()[1:]]
        assert ages and all(age.startswith("3h") for age in ages), ages


async def test_a_deleted_pod_is_replaced_and_walks_its_startup(world: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = world
    app = make_app(kubeconfig, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: ready_decode(app), what="a Ready decode pod")
        old = decode_keys(app)[0]
        name = old.split("/", 1)[1]

        def delete() -> None:
            pod = sim.ctx.store.get("pods", NAMESPACE, name)
            assert pod is not None
            sim.ctx.delete(sim.ctx.rt("pods"), pod)

        sim.call(delete)
        await until(pilot, lambda: old not in app.snapshot.pods, what="the old pod to go")
        await until(pilot, lambda: old not in pods_pane(app)._shown, what="the old row to go")
        assert not pods_pane(app).table.has_row(old)
        await until(pilot, lambda: decode_keys(app), what="a replacement pod")
        new = decode_keys(app)[0]
        assert new != old
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: logs.target is not None and logs.target.pod == new.split("/", 1)[1], what="logs")
        # The tracker sees every phase, ending with the server up.
        await until(pilot, lambda: logs.tracker.ready_at is not None, limit=30, what="the server to be ready")
        assert sorted(logs.tracker.started) == [0, 1, 2, 3, 4]
        states = [state for _, _, state in logs.tracker.durations(app.now())]
        assert states == ["done"] * 5
        await until(pilot, lambda: ready_decode(app), what="the replacement to be Ready")


async def test_log_filter_highlights_without_hiding_then_hides(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: len(logs.lines) > 20, what="log lines")
        await until(pilot, lambda: logs.log_view.line_count >= len(logs.lines))
        logs.log_view.focus()
        await pilot.pause()
        await pilot.press("slash")
        await pilot.press(*"precompile")
        await pilot.press("enter")
        assert logs.highlighter.pattern is not None
        total = len(logs.lines)
        assert logs.log_view.line_count >= total  # highlighting hides nothing
        await pilot.press("h")
        matching = [t for _, t in logs.lines if "precompile" in t.lower()]
        assert 0 < logs.log_view.line_count == len(matching)
        await pilot.press("h")
        assert logs.log_view.line_count >= total


async def test_layout_and_namespace_switching(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: ready_decode(app), what="a settled world")
        before = app.layout_name
        await pilot.press("v")
        await until(pilot, lambda: app.layout_name != before, what="another layout")
        # The new layout's panes draw everything known, not just what the last batch changed.
        app.switch_layout("oncall")  # as from the palette, once the world has settled
        await until(pilot, lambda: app.layout_name == "oncall" and app.query(PodsPane), what="oncall")
        await until(pilot, lambda: pods_pane(app).table.row_count > 0, what="rows")
        assert pods_pane(app).table.row_count == len(app.snapshot.pods) == 2
        await pilot.press("n")
        await pilot.press(*("ctrl+a", "ctrl+k"))
        await pilot.press(*"kube-system")
        await pilot.press("enter")
        await until(pilot, lambda: app.namespace == "kube-system", what="the namespace switch")
        await until(pilot, lambda: app.snapshot.kinds.get("pods") and app.snapshot.status_of("pods").status == "live")
        assert app.snapshot.pods == {}


async def test_compact_layout_at_80x24(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig)  # layout "auto"
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.layout_name == "compact", what="the compact layout")
        tabs = app.query_one(PaneTabs)
        await until(pilot, lambda: pods_pane(app).table.row_count > 0, what="pods in the first tab")
        await pilot.press("3")
        await until(
            pilot, lambda: app.query_one(GatewayPane).display and app.query_one(GatewayPane).hops, what="gateway"
        )
        assert tabs.query_one("#pane-switcher").current == "pane-gateway"  # type: ignore[attr-defined]
        await pilot.press("1")
        assert pods_pane(app).display
        table = pods_pane(app).query_one(LiveTable)
        assert table.size.width <= 80


async def test_hostile_log_lines_are_inert(world: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = world
    app = make_app(kubeconfig, layout="oncall")
    hostile = "pwn \x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07 \x1b[2J\x1b[H \x1b]0;owned\x07 \x1b[10A done"
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)
        await until(
            pilot, lambda: logs.target is not None and logs.stream_state.phase is StreamPhase.LIVE, what="a live log"
        )
        target = logs.target
        assert target is not None

        def write() -> None:
            pod = sim.ctx.store.get("pods", target.namespace, target.pod)
            assert pod is not None
            sink = sim.ctx.logs.current(pod["metadata"]["uid"], logs.container)
            assert sink is not None
            sink.write(sim.ctx.clock.now(), hostile)

        sim.call(write)
        await until(pilot, lambda: any("pwn" in line for line in logs.log_view.lines), what="the hostile line")
        shown = next(line for line in logs.log_view.lines if "pwn" in line)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "\u241b]52;c;" in shown and "\u241b[2J" in shown
        svg = app.export_screenshot()
        assert "\x1b" not in svg


async def test_api_outage_is_shown_and_recovered(world: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED and ready_decode(app), what="connected")
        sim.stop_api()
        try:
            await until(pilot, lambda: app.connection.phase is Phase.RECONNECTING, what="the outage to show")
            pods = pods_pane(app)
            await until(pilot, lambda: pods.has_class("-stale"), what="the pane dimmed")
            assert pods.table.row_count > 0  # what was known stays on screen
            assert not pods.notice.display  # the status bar says why, once, not every pane
            assert pods.border_title == "Pods (stale)"

            def line() -> str:
                return str(app.status_bar.render())

            # The open watches are cut first ("dropped"); the next tries are refused.
            await until(pilot, lambda: "connection refused" in line(), what="the refusal in the status bar")
            assert "API server unreachable since" in line() and "retrying" in line(), line()
        finally:
            sim.restart_api()
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED, limit=30, what="the reconnect")
        await until(pilot, lambda: not pods_pane(app).has_class("-stale"), what="the pane to brighten")
        # The watch works again: a new object shows up.
        sim.call(
            lambda: sim.ctx.create(
                "pods",
                {
                    "metadata": {"name": "after-outage", "namespace": NAMESPACE},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            )
        )
        await until(pilot, lambda: f"{NAMESPACE}/after-outage" in app.snapshot.pods, what="a pod created after")
