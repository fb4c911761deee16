"""Keys: the help table, the footer that fits, the k9s keys on a pod, and no silent key
anywhere (every binding of every pane, pressed, visibly answers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from llmd_console.actions.audit import AuditLog
from llmd_console.config import Config, LogsConfig, UiConfig
from llmd_console.inference.request import Outcome
from llmd_console.models import Phase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.describe import ObjectScreen
from llmd_console.ui.dialogs import NamespacePicker
from llmd_console.ui.footer import SEPARATOR, Hint, HintsFooter, fit
from llmd_console.ui.help import HelpScreen
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.pods import PodsPane
from llmd_console.ui.panes.prompt import PromptInput, PromptPane, PromptState
from llmd_console.ui.registry import specs
from tests.conftest import require_tool
from tests.console.conftest import CONSOLE_SPEED, make_app, screen_text, until

FROZEN = 1_795_000_000.0


@pytest.fixture(scope="module")
def still_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A world whose clock is frozen: once settled, nothing on screen moves by itself."""
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=5, frozen_at=FROZEN)) as cluster:
        yield cluster.write_kubeconfig(tmp_path_factory.mktemp("keys") / "kubeconfig")


def settled(app: ConsoleApp) -> bool:
    rows = app.snapshot.pods.values()
    logs = app.query(LogsPane)
    return (
        app.connection.phase is Phase.CONNECTED
        and bool(rows)
        and all(r.ready == "1/1" for r in rows)
        and (not logs or logs.first().tracker.ready_at is not None)
    )


async def still(pilot: Pilot[Any], app: ConsoleApp) -> None:
    """Wait until the screen stops changing by itself."""
    previous = ""

    def unchanged() -> bool:
        nonlocal previous
        now = screen_text(app)
        same, previous = now == previous, now
        return same

    await until(pilot, unchanged, limit=20, what="a still screen")


def streaming(state: PromptState) -> bool:
    """The prompt pane's request has started answering."""
    return bool(state.parts)


async def ended(pilot: Pilot[Any], state: PromptState) -> Outcome:
    """The prompt pane's request, once it has ended."""
    await until(pilot, lambda: not state.in_flight and state.outcome is not None, limit=20, what="the request to end")
    assert state.outcome is not None
    return state.outcome


def answer(app: ConsoleApp) -> tuple[object, ...]:
    """Everything by which a key can answer: a toast, a screen, the focus, the picture."""
    return (len(app._notifications), len(app.screen_stack), app.focused, screen_text(app))


async def focus(pilot: Pilot[Any], app: ConsoleApp, name: str) -> None:
    """Focus pane ``name`` and wait until it has the focus."""
    pane = app.panes[name]
    app.focus_pane(name)
    await until(pilot, lambda: app.focused is not None and pane in app.focused.ancestors_with_self, what=name)


def busy(app: ConsoleApp, group: str) -> bool:
    """Work a key started (a fetch, a mutation waiting for its confirmation) is still running."""
    return any(w.group == group and not w.is_finished for w in app.workers)


def answered(app: ConsoleApp, before: tuple[object, ...]) -> Callable[[], bool]:
    """Whether anything by which a key answers has changed since ``before``."""
    return lambda: answer(app) != before


async def back_to_main(pilot: Pilot[Any], app: ConsoleApp, layout: str) -> None:
    while isinstance(app.screen, ModalScreen) or isinstance(app.focused, Input):
        await pilot.press("escape")  # closes a dialog, or a filter box (clearing its filter)
        await pilot.pause()
    if app.layout_name != layout:
        app.switch_layout(layout)
        await until(pilot, lambda: app.layout_name == layout and bool(app.panes), what=f"back to {layout}")
    app.clear_notifications()
    await pilot.pause()


async def test_every_key_answers(still_world: Path, tmp_path: Path) -> None:
    config = Config(logs=LogsConfig(save_dir=str(tmp_path / "logs")), ui=UiConfig(screenshot_dir=str(tmp_path)))
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = make_app(still_world, config, layout="default", now=lambda: FROZEN + 300, audit=audit)
    pressed: list[str] = []
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: settled(app), limit=40, what="a settled world")
        walks: list[tuple[str | None, str, str]] = [
            (spec.pane_id, b.key.split(",")[0], b.action) for spec in specs() for b in spec.bindings
        ]
        app_bindings = app.app_bindings()  # the mixins' keys too (the doctor's !)
        walks += [(None, b.key.split(",")[0], b.action) for b in app_bindings if b.action != "quit"]
        for pane_id, key, action in walks:
            if pane_id is not None:
                await focus(pilot, app, pane_id)
                pane = app.panes[pane_id]
                if action == "clear_filter":  # Escape is a key of the pane only while there is a filter
                    assert not pane.check_action("clear_filter", ())
                    await pilot.press("slash")
                    await pilot.pause()
                if action == "cancel" and isinstance(pane, PromptPane):  # ... or while a request is going
                    assert not pane.check_action("cancel", ())
                    pane.state.request = dataclasses.replace(pane.state.request, max_tokens=1500)
                    pane.input.load_text("Tell me everything about Kubernetes.")
                    await pilot.press("ctrl+r")
                    await until(pilot, partial(streaming, pane.state), limit=30, what="a request streaming")
                    # At once, while the answer streams (waiting for a still screen would let it end):
                    # Escape answers by ending the request as cancelled.
                    await pilot.press(key)
                    outcome = await ended(pilot, pane.state)
                    assert outcome.failure is not None and outcome.failure.kind == "cancelled", outcome
                    pressed.append(f"{pane_id}:{key}")
                    await back_to_main(pilot, app, "default")
                    continue
            elif action.startswith("focus_pane("):  # from another pane than the one it goes to
                names = list(app.panes)
                index = int(action.removeprefix("focus_pane(").rstrip(")"))
                await focus(pilot, app, names[-1] if index == 1 else names[0])
            await still(pilot, app)
            before = answer(app)
            await pilot.press(key)
            await until(pilot, answered(app, before), limit=10, what=f"{key} ({action}) to answer after {pressed}")
            await until(pilot, lambda: not busy(app, "objects"), what="the key's fetch to finish")
            # An action's key answers at once on the action bar; its dialog comes once it is planned.
            await until(
                pilot,
                lambda: not busy(app, "action-plan") or isinstance(app.screen, ModalScreen),
                limit=60,
                what="the key's plan to be read (or its dialog open)",
            )
            pressed.append(f"{pane_id or 'app'}:{key}")
            await back_to_main(pilot, app, "default")
            await until(pilot, lambda: not busy(app, "actions"), what="a cancelled mutation to end")
    assert {"pods:enter", "pods:d", "pods:y", "pods:ctrl+d", "app:5", "app:6", "logs:p"} <= set(pressed)


async def test_number_keys_focus_panes_the_prompt_at_its_input(still_world: Path) -> None:
    app = make_app(still_world, layout="default", now=lambda: FROZEN + 300)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: bool(app.panes))
        await pilot.press("5")
        await until(pilot, lambda: app._focused_pane() == "metrics", what="the metrics pane focused")
        await pilot.press("6")
        await until(pilot, lambda: isinstance(app.focused, PromptInput), what="the prompt's input focused")
        await pilot.press(*"5z")  # typed into the prompt, not taken as keys of the app
        assert app._focused_pane() == "prompt" and app.screen.maximized is None
        assert app.query_one(PromptInput).text == "5z"


async def test_pod_keys_open_logs_describe_and_yaml(still_world: Path) -> None:
    app = make_app(still_world, layout="default", now=lambda: FROZEN + 300)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: settled(app), limit=40, what="a settled world")
        pods = app.query_one(PodsPane)
        epp = next(k for k, p in app.snapshot.pods.items() if p.role == "epp")
        pods.table.focus()
        pods.table.move_to_key(epp)
        await until(pilot, lambda: pods.selected == epp, what="the EPP selected")
        await pilot.press("enter")
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: app.focused is not None and logs in app.focused.ancestors_with_self)
        assert logs.target is not None and logs.target.key == epp
        pods.table.focus()
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ObjectScreen), what="describe")
        screen = app.screen
        assert isinstance(screen, ObjectScreen)
        text = "\n".join(screen.lines)
        assert f"Name:             {epp.split('/')[1]}" in text and "Events:" in text
        assert "Scheduled" in text and "Controlled By:  ReplicaSet/" in text
        await pilot.press("slash", *"image", "enter")
        assert screen.matches and screen.at == 0
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ObjectScreen), what="describe to close")
        decode = next(k for k, p in app.snapshot.pods.items() if p.role == "decode")
        pods.table.move_to_key(decode)
        await until(pilot, lambda: pods.selected == decode)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ObjectScreen), what="YAML")
        text = "\n".join(app.screen.lines)  # type: ignore[attr-defined]
        assert "kind: Pod" in text and "secretKeyRef:" in text and "managedFields" not in text


async def test_z_zooms_the_focused_pane_and_back(still_world: Path) -> None:
    app = make_app(still_world, layout="default", now=lambda: FROZEN + 300)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: settled(app), limit=40, what="a settled world")
        pods = app.query_one(PodsPane)
        pods.table.focus()
        await pilot.press("z")
        assert app.screen.maximized is pods
        await pilot.pause(0.1)
        assert "Gateway path" not in screen_text(app) and pods.table.has_focus
        await pilot.press("down")  # the zoomed pane's keys still work
        await pilot.press("z")
        assert app.screen.maximized is None
        await pilot.pause(0.1)
        assert "Gateway path" in screen_text(app) and pods.table.has_focus


def test_fit_drops_whole_hints_from_the_least_important() -> None:
    hints = [Hint("?", "Help"), Hint("q", "Quit"), Hint("/", "Filter"), Hint("ctrl+d", "Delete")]
    assert fit(hints, 100) == hints
    assert fit(hints, len("? Help  q Quit  / Filter")) == hints[:3]
    assert fit(hints, len("? Help  q Quit  / Filter") - 1) == hints[:2]
    assert fit(hints, 3) == []


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_footer_fits_with_every_pane_focused(still_world: Path, size: tuple[int, int]) -> None:
    app = make_app(still_world, layout="auto", now=lambda: FROZEN + 300)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: settled(app), limit=40, what="a settled world")
        footer = app.query_one(HintsFooter)
        for name in list(app.panes):
            await focus(pilot, app, name)
            await pilot.pause()
            shown = fit(footer.hints(), footer.size.width - 2)
            line = str(footer.render())
            assert line == " " + SEPARATOR.join(f"{h.key} {h.description}" for h in shown)
            assert len(line) <= size[0]
            if isinstance(app.focused, PromptInput):  # typing: ? and q are letters there
                assert shown[0] == Hint("ctrl+r", "Send")
            else:
                assert shown[:2] == [Hint("?", "Help"), Hint("q", "Quit")]
            bottom = screen_text(app).splitlines()[-1]
            assert bottom.rstrip() == line.rstrip()  # drawn whole: no hint cut mid-word


async def test_help_is_a_table_of_keys_as_typed(still_world: Path) -> None:
    app = make_app(still_world, layout="default", now=lambda: FROZEN + 300)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: bool(app.panes))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.pause()
        text = screen_text(app)
        assert "question_mark" not in text and "slash" not in text and "Pane 1" not in text
        rows = {(r.keys, r.where): r for r in app.help_rows()}
        assert rows[("?", "everywhere")].action_id == "help"
        assert rows[("/", "Pods")].action_id == "pods.filter"
        assert rows[("ctrl+d", "Pods")].action_id == "pods.delete"
        assert rows[("1", "everywhere")].what == "Go to the Nodes & accelerators pane"
        for line in ("KEY", "WHAT IT DOES", "WHERE", "ACTION ID"):
            assert line in text
        assert "Go to the Gateway path pane" in text


async def test_namespace_picker_lists_filters_and_validates_on_enter_only(still_world: Path) -> None:
    app = make_app(still_world, layout="default", now=lambda: FROZEN + 300)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.phase is Phase.CONNECTED, what="connected")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NamespacePicker), what="the picker")
        picker = app.screen
        assert isinstance(picker, NamespacePicker)
        await until(pilot, lambda: "kube-system" in picker.names, what="the namespaces listed")
        assert picker.names[0] == "all" and "llm-d-inference-scheduling" in picker.names
        status = picker.query_one("#namespace-status", Static)
        for letter in "al":  # no complaint while typing
            await pilot.press(letter)
            await pilot.pause()
            assert "lowercase" not in str(status.render())
        assert picker.shown == [n for n in picker.names if "al" in n] and picker.shown[0] == "all"
        await pilot.press("backspace", "backspace", *"Bad_Name!")
        await pilot.pause()
        assert picker.shown == [] and "lowercase" not in str(status.render())
        await pilot.press("enter")  # checked on Enter
        await until(pilot, lambda: "lowercase letters" in str(status.render()), what="the error on Enter")
        assert isinstance(app.screen, NamespacePicker)
        await pilot.press(*["backspace"] * 9, *"kube-sys")
        await pilot.pause()
        assert picker.shown == ["kube-system"]
        await pilot.press("enter")
        await until(pilot, lambda: app.namespace == "kube-system", what="the namespace switch")


async def test_screenshot_saves_svg_and_png_in_the_configured_directory(still_world: Path, tmp_path: Path) -> None:
    converter = require_tool("rsvg-convert")
    del converter
    shots = tmp_path / "shots"  # created on first use
    app = make_app(still_world, Config(ui=UiConfig(screenshot_dir=str(shots))), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: bool(app.panes))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("screenshot saved" in n.message for n in app._notifications), what="saved")
        said = next(n.message for n in app._notifications if "screenshot saved" in n.message)
        svg = next(shots.glob("*.svg"))
        assert f"screenshot saved: {svg} and {svg.with_suffix('.png').name}" == said
        assert svg.read_text().startswith("<svg") and svg.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
        # From the command palette: Textual's own (to ~/Downloads) is replaced by this one.
        commands = [c for c in app.get_system_commands(app.screen) if c.title == "Screenshot"]
        assert len(commands) == 1 and str(shots) in commands[0].help
        app.clear_notifications()
        commands[0].callback()
        await until(pilot, lambda: any("screenshot saved" in n.message for n in app._notifications), what="again")
        assert len(list(shots.glob("*.svg"))) == len(list(shots.glob("*.png"))) == 2


async def test_screenshot_to_an_unwritable_directory_says_why(still_world: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    app = make_app(still_world, Config(ui=UiConfig(screenshot_dir=str(blocker / "shots"))), layout="default")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(app.panes))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("cannot save" in n.message for n in app._notifications), what="the refusal")
        said = next(n for n in app._notifications if "cannot save" in n.message)
        assert said.severity == "error"
        assert said.message == (
            f"cannot save a screenshot in {blocker / 'shots'}: Not a directory (set ui.screenshot_dir in the config)"
        )
