"""What the console's action tests share: an app whose node-pool actions go to the simulator's
Container API, and the steps an operator takes (select, press, answer, confirm)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from llmd_console.actions.audit import AuditLog
from llmd_console.actions.plan import Risk
from llmd_console.config import Config, GkeConfig
from llmd_console.models import Phase
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import CLUSTER, LOCATION, PROJECT
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.confirm import ConfirmScreen
from llmd_console.ui.dialogs import NumberDialog
from llmd_console.ui.panes.pods import PodsPane
from tests.console.conftest import make_app, until

NAMESPACE = "llm-d-inference-scheduling"


def sim_config(cluster: SimCluster, config: Config | None = None) -> Config:
    """``config`` (the default one) with its GKE settings pointed at the simulator."""
    gke = GkeConfig(project=PROJECT, location=LOCATION, cluster=CLUSTER, endpoint=cluster.url + "/", auth="none")
    return replace(config or Config(), gke=gke)


def action_app(cluster: SimCluster, kubeconfig: Path, audit: AuditLog, config: Config | None = None) -> ConsoleApp:
    """The console on the oncall layout (pods, nodes, gateway, logs), auditing to ``audit``."""
    return make_app(kubeconfig, sim_config(cluster, config), layout="oncall", audit=audit)


async def connected(app: ConsoleApp, pilot: Pilot[Any], pods: int = 2) -> None:
    """Connected, ``pods`` pods known and Ready, and the permissions asked."""
    await until(pilot, lambda: app.connection.phase is Phase.CONNECTED, what="the connection")
    await until(
        pilot,
        lambda: sum(p.is_ready for p in app.snapshot.pods.values()) == pods,
        limit=60,
        what=f"{pods} Ready pods",
    )
    await until(pilot, lambda: "deploy" in app.permissions, what="the permissions")


def pod_of(app: ConsoleApp, role: str) -> str:
    """The key of the (first) pod of ``role``."""
    return next(k for k, p in sorted(app.snapshot.pods.items()) if p.role == role and not p.terminating)


async def select_pod(app: ConsoleApp, pilot: Pilot[Any], key: str) -> None:
    """Focus the pods table with the cursor on ``key``."""
    pods = app.query_one(PodsPane)
    await until(pilot, lambda: key in pods._shown, what="the pod's row")
    pods.table.focus()
    pods.table.move_cursor(row=pods.table.get_row_index(key))
    await until(pilot, lambda: pods.selected == key, what="the selection")


async def preview(app: ConsoleApp, pilot: Pilot[Any], key: str, limit: float = 30.0) -> ConfirmScreen:
    """Press ``key``; the preview is up."""
    await pilot.press(key)

    def ready() -> bool:
        # Pushed is not yet composed and mounted: wait for the body, and for a disruptive plan
        # for the name field to have the focus (the screen's on_mount gives it).
        screen = app.screen
        if not isinstance(screen, ConfirmScreen) or not screen.query("#confirm-body"):
            return False
        return screen.plan.risk is not Risk.DISRUPTIVE or getattr(app.focused, "id", None) == "confirm-word"

    await until(pilot, ready, limit=limit, what=f"the preview after {key!r}")
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen


def preview_shown(screen: ConfirmScreen) -> str:
    """The preview's text as it is on screen."""
    body = screen.query_one("#confirm-body", Static).render()
    return str(body)


async def type_name(app: ConsoleApp, pilot: Pilot[Any], name: str) -> None:
    """Type the name a disruptive plan asks for, and Enter."""
    assert isinstance(app.focused, Input) and app.focused.id == "confirm-word"
    await pilot.press(*name, "enter")


async def answer(app: ConsoleApp, pilot: Pilot[Any], text: str) -> NumberDialog:
    """Replace the count dialog's text with ``text`` and press Enter; the dialog (still up or not)."""
    dialog = app.screen
    assert isinstance(dialog, NumberDialog)
    field = dialog.query_one("#number-input", Input)
    field.value = ""
    await pilot.press(*text, "enter")
    await pilot.pause()
    return dialog


def status_of(dialog: NumberDialog) -> str:
    """What the count dialog says under its field."""
    return str(dialog.query_one("#number-status", Static).render())


async def ended(app: ConsoleApp, pilot: Pilot[Any], limit: float = 90.0) -> str:
    """Wait for the action on the bar to end; its state (done, failed)."""
    await until(pilot, lambda: app.action_bar.state in ("done", "failed"), limit=limit, what="the action's end")
    return app.action_bar.state


def outcomes(audit: AuditLog) -> list[tuple[str, str]]:
    """(action, outcome) of every audit record, in order."""
    return [(r["action"], r["outcome"]) for r in audit.read()]
