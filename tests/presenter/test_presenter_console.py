"""Faults on cue from inside the console: the picker applies and clears every scenario of the
simulator (the status bar names the active one, each switch is audited); read-only refuses it;
a scripted tour advances by its key and by its timers, doing each step to the cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from llmd_console.actions.audit import AuditLog
from llmd_console.config import Config, UiConfig
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.scenarios import SCENARIOS
from llmd_console.tour import parse_tour
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.scenario_picker import ScenarioPicker
from tests.console.conftest import CONSOLE_SPEED, make_app, until


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=31)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


def active(cluster: SimCluster) -> str | None:
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        value = http.get("/llmd-sim/v1/scenarios").json()["active"]
    return str(value) if value else None


def delete_pod(cluster: SimCluster, name: str) -> None:
    with httpx.Client(base_url=cluster.url, timeout=10) as http:
        http.delete(f"/api/v1/namespaces/llm-d-inference-scheduling/pods/{name}").raise_for_status()


def status_line(app: ConsoleApp) -> str:
    return str(app.status_bar.render())


async def pick(app: ConsoleApp, pilot: Pilot[Any], option: str) -> None:
    """F, highlight ``option`` (a scenario, or @healthy), Enter."""
    await pilot.press("F")
    await until(pilot, lambda: isinstance(app.screen, ScenarioPicker), what="the scenario picker")
    await until(pilot, lambda: app.screen.query(OptionList), what="the picker's list")  # composed after the push
    options = app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(option)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, ScenarioPicker), what="the picker to close")


async def test_the_picker_applies_and_clears_every_scenario(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = make_app(kubeconfig, audit=audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.session.client is not None, what="the connection")
        for name in SCENARIOS:
            await pick(app, pilot, name)
            await until(pilot, lambda n=name: active(sim) == n, what=f"scenario {name} active")  # type: ignore[misc]
            await until(pilot, lambda n=name: f"fault: {n}" in status_line(app), what="the status bar")  # type: ignore[misc]
        await pick(app, pilot, "@healthy")
        await until(pilot, lambda: active(sim) is None, what="the healthy world")
        await until(pilot, lambda: "fault:" not in status_line(app), what="the status bar cleared")
        records = audit.read()
        assert [(r["action"], r["target"], r["outcome"]) for r in records] == [
            *(("scenario", name, "done") for name in SCENARIOS),
            ("scenario", "healthy", "done"),
        ]
        assert records[0]["command"] == f"llmd-console scenario set {next(iter(SCENARIOS))}"


async def test_read_only_refuses_a_scenario(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = make_app(kubeconfig, Config(ui=UiConfig(read_only=True)), audit=audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.session.client is not None, what="the connection")
        await pick(app, pilot, "httproute-missing")
        await until(pilot, lambda: len(audit.read()) == 1, what="the refusal audited")
        assert audit.read()[0]["outcome"] == "refused" and active(sim) is None


TOUR = """
name: test tour
steps:
  - caption: Look at the request path
    focus: gateway
  - caption: Break the route
    scenario: httproute-missing
  - caption: A pause that ends by itself
    wait: 0.1
    advance: 0.5
  - caption: Fix it
    clear: true
  - caption: The end
"""


async def test_the_tour_advances_by_key_and_timer(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    app = make_app(kubeconfig, tour=parse_tour(TOUR, "tour.yaml"), audit=AuditLog(tmp_path / "audit.jsonl"))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.session.client is not None, what="the connection")
        bar = app.tour_bar
        await until(pilot, lambda: "TOUR 1/5" in str(bar.render()), what="the first caption")
        assert "Look at the request path" in str(bar.render())
        await until(pilot, lambda: app._focused_pane() == "gateway", what="the gateway pane in front")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: active(sim) == "httproute-missing", what="the route broken")
        await pilot.press("right_square_bracket")
        # The pause step moves on by itself after half a second, to the fix.
        await until(pilot, lambda: app.tour_at == 3, what="the timer to advance the tour")
        await until(pilot, lambda: active(sim) is None, what="the fix applied")
        assert "Fix it" in str(bar.render())
        app.focus_pane("prompt")  # a text field keeps "]": ctrl+n still advances
        await pilot.pause()
        await pilot.press("ctrl+n")
        await until(pilot, lambda: "end of the tour" in str(bar.render()), what="the last step")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.tour_at == 4


async def test_the_demo_layout_follows_the_model_server_in_high_contrast(
    cluster: tuple[SimCluster, Path], tmp_path: Path
) -> None:
    sim, kubeconfig = cluster
    config = Config(ui=UiConfig(theme="llmd-high-contrast"))
    app = make_app(kubeconfig, config, layout="demo", audit=AuditLog(tmp_path / "audit.jsonl"))
    async with app.run_test(size=(160, 45)) as pilot:
        assert app.theme == "llmd-high-contrast" and not app.config_warnings
        logs = app.query_one(LogsPane)

        def following() -> str:
            target = logs.target
            pod = app.snapshot.pods.get(target.key) if target is not None else None
            return pod.role if pod is not None else ""

        await until(pilot, lambda: following() == "decode", what="the logs on the model server")
        first = logs.target.key if logs.target else ""
        # Replaced (deleted; its ReplicaSet makes a new one): the logs move to the new pod.
        name = first.split("/")[1]
        delete_pod(sim, name)
        await until(
            pilot,
            lambda: logs.target is not None and logs.target.key != first and following() == "decode",
            limit=30,
            what="the logs on the replacement",
        )
