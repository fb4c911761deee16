"""The mutation plumbing end to end: plan, confirmation (Cancel focused; y/n or the name
typed), execution through the API, the audit log, and the read-only gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from llmd_console.actions.audit import AuditLog
from llmd_console.config import Config, UiConfig
from llmd_console.models import Phase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.confirm import ConfirmScreen
from tests.console.action_support import select_pod
from tests.console.conftest import CONSOLE_SPEED, make_app, until


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=13)) as c:
        yield c, c.write_kubeconfig(tmp_path / "kubeconfig")


def key_of(app: ConsoleApp, role: str) -> str:
    return next(k for k, p in app.snapshot.pods.items() if p.role == role)


async def open_delete(app: ConsoleApp, pilot: Pilot[Any], role: str) -> str:
    """Connect, select the pod of ``role``, press ctrl+d; the confirmation is up. Returns the pod's key."""
    await until(pilot, lambda: app.connection.phase is Phase.CONNECTED and len(app.snapshot.pods) == 2)
    key = key_of(app, role)
    await select_pod(app, pilot, key)
    await pilot.press("ctrl+d")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
    return key


async def test_routine_delete_is_confirmed_with_y_executed_and_audited(
    cluster: tuple[SimCluster, Path], tmp_path: Path
) -> None:
    _, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = make_app(kubeconfig, layout="oncall", audit=audit)
    async with app.run_test(size=(160, 45)) as pilot:
        epp = await open_delete(app, pilot, "epp")
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        assert isinstance(app.focused, Button) and app.focused.id == "confirm-cancel"
        assert screen.plan.command == ("kubectl", "delete", "pod", epp.split("/")[1], "-n", epp.split("/")[0])
        await pilot.press("escape")  # cancelled: nothing changes, the attempt is audited
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the screen to close")
        await until(pilot, lambda: len(audit.read()) == 1, what="the cancel in the audit log")
        assert audit.read()[0]["outcome"] == "cancelled" and epp in app.snapshot.pods
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation again")
        await pilot.press("y")
        await until(pilot, lambda: len(audit.read()) == 2, what="the deletion in the audit log")
        record = audit.read()[1]
        assert record["outcome"] == "done" and record["action"] == "delete-pod"
        assert record["command"].startswith("kubectl delete pod gaie-pattern1-epp")
        # The ReplicaSet replaces it: the result comes back through the watches.
        await until(pilot, lambda: epp not in app.snapshot.pods, what="the pod to go")
        await until(pilot, lambda: any(p.role == "epp" for p in app.snapshot.pods.values()), what="a replacement")


async def test_disruptive_delete_needs_the_name_typed(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    _, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = make_app(kubeconfig, layout="oncall", audit=audit)
    async with app.run_test(size=(160, 45)) as pilot:
        name = (await open_delete(app, pilot, "decode")).split("/")[1]
        ok = app.screen.query_one("#confirm-ok", Button)
        assert ok.disabled
        word = app.screen.query_one("#confirm-word", Input)
        assert app.focused is word  # a disruptive plan starts in the name field
        await pilot.press("y")  # a letter of the name there, never an answer
        assert isinstance(app.screen, ConfirmScreen) and audit.read() == [] and ok.disabled
        word.value = ""
        await pilot.press(*name[:-1])
        assert ok.disabled  # a near miss does not count
        await pilot.press(name[-1])
        assert not ok.disabled
        await pilot.press("enter")
        await until(pilot, lambda: len(audit.read()) == 1, what="the audit record")
        assert audit.read()[0]["outcome"] == "done" and audit.read()[0]["target"] == name


async def test_read_only_hides_and_refuses_mutations(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    _, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = make_app(kubeconfig, Config(ui=UiConfig(read_only=True)), layout="oncall", audit=audit)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED and len(app.snapshot.pods) == 2)
        await select_pod(app, pilot, key_of(app, "epp"))
        assert "delete_pod" not in {b.binding.action for b in app.active_bindings.values()}
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("read-only" in str(n.message) for n in app._notifications)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Pods: Delete" not in titles and "Pods: Filter" in titles
        help_actions = {row.action_id for row in app.help_rows()}
        assert "pods.delete" not in help_actions
        assert audit.read() == [] and len(app.snapshot.pods) == 2
