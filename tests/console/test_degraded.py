"""A cluster that forbids a kind or lacks a CRD is a state to show, not a crash;
keys are remappable; help and the command palette list every action."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.config import Config, LogsConfig, UiConfig
from llmd_console.models import Phase, StreamPhase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.help import HelpScreen
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.pods import PodsPane
from llmd_console.views.gateway import POOL_CRD_FIX
from tests.console.conftest import CONSOLE_SPEED, make_app, until


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=9)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


def hop(app: ConsoleApp, kind: str) -> object:
    return next((h for h in app.query_one(GatewayPane).hops if h.kind == kind), None)


async def test_a_forbidden_kind_is_named_and_the_rest_works(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster
    sim.call(lambda: sim.ctx.denied.add("gateways.gateway.networking.k8s.io"))
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.snapshot.status_of("gateways").status == "forbidden", what="forbidden gateways")
        pane = app.query_one(GatewayPane)
        await until(pilot, lambda: "forbidden" in str(pane.notice.render()), what="the pane to say so")
        assert 'User "llmd-sim" cannot list resource "gateways"' in str(pane.notice.render())
        gateway = pane.hops[0]
        assert gateway.kind == "Gateway" and gateway.light == "unknown" and "forbidden" in gateway.problem
        await until(pilot, lambda: app.query_one(PodsPane).table.row_count == 2, what="pods still listed")
        assert app.connection.phase is Phase.CONNECTED


async def test_a_missing_crd_is_named_with_the_runbook_fix(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster

    def drop_crd() -> None:
        crds = "customresourcedefinitions.apiextensions.k8s.io"
        sim.ctx.store.delete(sim.ctx.rt(crds), "", "inferencepools.inference.networking.k8s.io")

    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED, what="connected")
        sim.call(drop_crd)
        await until(pilot, lambda: app.snapshot.status_of("inferencepools").status == "missing", what="missing pools")
        await until(pilot, lambda: getattr(hop(app, "InferencePool"), "fix", "") == POOL_CRD_FIX, what="the fix")
        pool = hop(app, "InferencePool")
        assert "InferencePool CRD" in getattr(pool, "problem", "")


async def test_keys_are_remappable_and_help_lists_them(cluster: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = cluster
    app = make_app(kubeconfig, Config(keys={"layout": "y"}), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.layout_name == "default")
        await pilot.press("v")
        assert app.layout_name == "default"  # the old key no longer switches
        await pilot.press("y")
        await until(pilot, lambda: app.layout_name != "default", what="the remapped key to switch layout")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        rows = app.help_rows()
        everywhere = {row.action_id: row.keys for row in rows if row.where == "everywhere"}
        assert everywhere["layout"] == "y"
        logs_ids = {row.action_id for row in rows if row.where == "Logs"}
        assert {"logs.follow", "logs.filter", "logs.previous", "logs.save"} <= logs_ids
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help to close")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        wanted_titles = (
            "Switch namespace",
            "Layout: compact",
            "Go to pane: logs",
            "Logs: Follow/pause",
            "Pods: Filter",
        )
        for wanted in (*wanted_titles, "Help", "Quit"):
            assert wanted in titles


async def test_api_down_at_start_then_up(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster
    sim.stop_api()
    app = make_app(kubeconfig, layout="default")
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: app.connection.phase is Phase.RECONNECTING, what="disconnected at start")
            pods = app.query_one(PodsPane)
            status = app.status_bar
            await until(pilot, lambda: "API server unreachable since" in str(status.render()), what="the status bar")
            assert "connection refused" in str(status.render())
            sim.restart_api()
            await until(pilot, lambda: app.connection.phase is Phase.CONNECTED, limit=30, what="connected once up")
            await until(pilot, lambda: pods.table.row_count == 2, what="pods")
    finally:
        sim.restart_api()


async def test_watch_410_relists_without_a_glitch(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED and pods.table.row_count == 2, what="pods")
        shown = dict(pods._shown)
        removed: list[object] = []
        original_remove = pods.table.remove_row

        def remove_row(key: object) -> None:
            removed.append(key)
            original_remove(key)  # type: ignore[arg-type]

        pods.table.remove_row = remove_row  # type: ignore[method-assign]
        assert app.session.hub is not None
        relists = app.session.hub.relists

        def expire() -> None:
            # Drop every watch, move on, and forget history: resuming from the old version gets 410 Gone.
            sim.ctx.store.close_all_watches()
            sim.ctx.create("configmaps", {"metadata": {"name": "bump", "namespace": "default"}, "data": {}})
            sim.ctx.store.compact()

        sim.call(expire)
        await until(
            pilot,
            lambda: app.session.hub is not None and app.session.hub.relists >= relists + len(app.session.hub.kinds),
            what="relists",
        )
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED)
        assert removed == []  # no row flickered out and back
        assert set(pods._shown) == set(shown)


async def test_a_chatty_pod_keeps_memory_bounded_and_keys_answered(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster
    config = Config(logs=LogsConfig(max_lines=1000, tail=100))
    pod = {
        "metadata": {"name": "chatty", "namespace": NAMESPACE},
        "spec": {"containers": [{"name": "yes", "image": "busybox:1.36", "command": ["yes", "INFO flood"]}]},
    }
    sim.call(lambda: sim.ctx.create("pods", pod))
    app = make_app(kubeconfig, config, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)
        pods = app.query_one(PodsPane)
        key = f"{NAMESPACE}/chatty"
        await until(pilot, lambda: key in pods._shown and logs.target is not None, what="the chatty pod")
        pods.table.move_cursor(row=pods.table.get_row_index(key))  # the operator selects it
        await until(pilot, lambda: logs.target is not None and logs.target.pod == "chatty", what="its log")
        await until(
            pilot,
            lambda: logs.received > 5000,
            what=f"a flood of lines ({logs.target}, {logs.received}, {logs.stream_state})",
        )
        assert len(logs.lines) <= 1000 and logs.log_view.line_count <= 1000
        logs.log_view.focus()
        await pilot.press("f")  # pausing still works mid-flood
        assert not logs.following
        await pilot.press("f")
        assert logs.following


async def test_previous_container_tail_timestamps_and_save(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    assert sim.faults is not None
    faults = sim.faults
    sim.call(lambda: faults.set("no-tpu-devices"))
    config = Config(logs=LogsConfig(save_dir=str(tmp_path / "saved")))
    app = make_app(kubeconfig, config, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)

        def crashed() -> bool:
            rows = [r for r in app.snapshot.pods.values() if r.role == "decode" and r.restarts >= 1]
            return bool(rows) and logs.target is not None and logs.target.pod == rows[0].name

        await until(pilot, crashed, limit=30, what="a restarted decode pod in the log view")
        # The next restart is marked in the log and starts the tracker over.
        await until(pilot, lambda: any("container restarted" in t for _, t in logs.lines), limit=30, what="a marker")
        logs.log_view.focus()
        await pilot.press("p")
        assert logs.target is not None and logs.target.previous
        await until(pilot, lambda: logs.stream_state.phase is StreamPhase.COMPLETE, what="the previous log")
        await until(pilot, lambda: any("No TPU devices found" in t for _, t in logs.lines), what="the crash")
        await pilot.press("T")
        await until(pilot, lambda: logs.log_view.lines and logs.log_view.lines[0][:2] == "20", what="timestamps")
        await pilot.press("s")
        saved = list((tmp_path / "saved").glob("*.log"))
        assert len(saved) == 1 and "No TPU devices found" in saved[0].read_text()
        before = logs.tail
        await pilot.press("t")
        assert logs.tail != before and logs.target is not None and logs.target.tail == logs.tail


async def test_unknown_theme_and_key_ids_are_named_not_fatal(cluster: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = cluster
    config = Config(ui=UiConfig(theme="no-such-theme"), keys={"qiut": "x", "quit": "ctrl+q"})
    app = make_app(kubeconfig, config, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.layout_name == "default")
        assert any("ui.theme: unknown theme 'no-such-theme'" in w for w in app.config_warnings)
        assert any("keys: unknown action id(s) qiut" in w for w in app.config_warnings)
        assert app.theme != "no-such-theme"


async def test_no_kubeconfig_says_where_it_looked(tmp_path: Path) -> None:
    app = make_app(tmp_path / "missing-kubeconfig", layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.connection.phase is Phase.FAILED, what="the failure")
        assert f"no kubeconfig at {tmp_path / 'missing-kubeconfig'}" in app.connection.reason
        pods = app.query_one(PodsPane)
        await until(pilot, lambda: "not connected" in str(pods.notice.render()), what="the pane to say so")


async def test_a_malformed_object_does_not_take_the_console_down(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await until(pilot, lambda: pods.table.row_count == 2, what="pods")
        epp = next(k for k, row in app.snapshot.pods.items() if row.role == "epp")

        def corrupt() -> None:
            ns, name = epp.split("/", 1)
            sim.ctx.store.mutate(
                sim.ctx.rt("pods"),
                ns,
                name,
                lambda d: d["status"]["containerStatuses"][0].__setitem__("restartCount", "lots"),
                status_only=True,
            )

        sim.call(corrupt)
        await until(pilot, lambda: app.snapshot.pods[epp].status.startswith("unreadable"), what="the bad row")
        assert app.is_running and pods.table.row_count == 2


async def test_a_failing_worker_is_reported_in_its_pane_and_once_as_a_toast(
    cluster: tuple[SimCluster, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmd_console.cluster.logs import LogStream

    async def exploded(self: LogStream) -> None:
        raise RuntimeError("the stream exploded")

    monkeypatch.setattr(LogStream, "run", exploded)  # a bug in a worker, injected
    _, kubeconfig = cluster
    app = make_app(kubeconfig, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: "the stream exploded" in str(logs.notice.render()), what="the pane to say so")
        assert "pod log stream stopped: RuntimeError" in str(logs.notice.render())
        assert sum("the stream exploded" in n.message for n in app._notifications) == 1
        assert app.is_running and app.connection.phase is Phase.CONNECTED  # the rest goes on
