"""Text that looks like Rich markup, from the cluster, the config or the command line, is
shown as written and never crashes the console."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.config import Config, UiConfig
from llmd_console.models import Phase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.panes.pods import PodsPane
from tests.console.conftest import CONSOLE_SPEED, make_app, until

MARKUP = "P[/]x[bold]y[/bold][link=http://evil]z"


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=17)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


async def test_markup_from_the_cluster_is_drawn_literally(cluster: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = cluster
    app = make_app(kubeconfig, Config(ui=UiConfig(theme="[/]")), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        pods = app.query_one(PodsPane)
        await until(pilot, lambda: pods.selected is not None, what="a selected pod")
        namespace, _, name = (pods.selected or "").partition("/")
        event = {
            "metadata": {"name": "odd-event", "namespace": namespace},
            "involvedObject": {"kind": "Pod", "name": name, "namespace": namespace},
            "reason": "P[/]",
            "message": MARKUP,
            "type": "Warning",
            "count": 1,
            "lastTimestamp": "2099-01-01T00:00:00Z",  # the newest, so the pane lists it
        }
        sim.call(lambda: sim.ctx.create("events", event))  # events carry any text a controller writes
        await until(pilot, lambda: MARKUP in str(pods.events.render()), what="the event")
        assert "P[/]" in str(pods.events.render())
        # A pane notice quoting a server's error with markup in it (on a pane no snapshot redraws).
        prompt = app.panes["prompt"]
        prompt.show_notice(f"disconnected, retrying - {MARKUP}")
        await pilot.pause()
        assert MARKUP in str(prompt.notice.render())
        pods = app.query_one(PodsPane)
        # The config warning about the theme named "[/]" was shown as a toast, as written.
        assert any("'[/]'" in n.message for n in app._notifications)
        pods.notify(MARKUP)  # a widget's notify defaults to markup; the console's never parses
        await pilot.pause()
        assert app.is_running and app.connection.phase is Phase.CONNECTED


async def test_markup_in_the_context_name_and_key_ids(tmp_path: Path, cluster: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = cluster
    app = make_app(kubeconfig, Config(keys={"[/]": "x"}), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED, what="connected")
        assert any("[/]" in n.message for n in app._notifications)
    bad_context = make_app(kubeconfig, layout="default")
    bad_context.session.target = type(bad_context.session.target)(str(kubeconfig), "[/]", None)
    async with bad_context.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: bad_context.connection.phase is Phase.FAILED, what="the failure")
        await pilot.pause()
        assert "'[/]'" in bad_context.connection.reason and bad_context.is_running


async def test_v_steps_over_a_broken_user_layout(
    tmp_path: Path, cluster: tuple[SimCluster, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kubeconfig = cluster
    layouts = tmp_path / "xdg" / "llmd-console" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "broken.yaml").write_text("rows: [[/]]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    app = make_app(kubeconfig, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.layout_name == "oncall", what="oncall")
        await pilot.press("v")  # after oncall comes broken (sorted): refused, named, still oncall
        await until(pilot, lambda: any("broken.yaml" in n.message for n in app._notifications), what="the error")
        assert app.layout_name == "oncall"
        await pilot.press("v")
        await until(pilot, lambda: app.layout_name == "compact", what="the next layout after the broken one")
