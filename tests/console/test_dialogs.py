"""The dialogs on small and large terminals: the confirmation keeps its name field and buttons
on screen with the preview scrolling above them (and scrollable from the name field); old
toasts never cover a new dialog; the fault scenario picker's rows fit its box, names whole;
the help opens scrollable, says what ctrl+c does and that a text field takes typed keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList

from llmd_console.actions.audit import AuditLog
from llmd_console.config import Config, DeployConfig
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.scenarios import SCENARIOS
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.help import HelpScreen
from llmd_console.ui.panes.prompt import PromptInput, PromptPane
from llmd_console.ui.scenario_picker import ScenarioPicker
from tests.console.action_support import action_app, connected, outcomes, preview
from tests.console.conftest import CONSOLE_SPEED, make_app, screen_text, until

SIZES = ((160, 45), (80, 24))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimCluster, Path]]:
    """A Pattern 1 world."""
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=23)) as c:
        yield c, c.write_kubeconfig(tmp_path_factory.mktemp("dialogs") / "kubeconfig")


async def test_the_confirmation_keeps_name_field_and_buttons_on_screen(
    cluster: tuple[SimCluster, Path], tmp_path: Path
) -> None:
    sim, kubeconfig = cluster
    # A deploy into a namespace of its own creates every object: a preview longer than any box.
    config = Config(deploy=DeployConfig(namespace="dialogs-elsewhere"))
    app = action_app(sim, kubeconfig, AuditLog(tmp_path / "audit.jsonl"), config)
    async with app.run_test(size=SIZES[0]) as pilot:
        await connected(app, pilot)
        screen = await preview(app, pilot, "D")
        await until(pilot, lambda: app.focused is not None, what="the name field focused")
        scroll = screen.query_one("#confirm-scroll", VerticalScroll)
        word = screen.query_one("#confirm-word", Input)
        for size in (*SIZES, (100, 14)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            box = screen.query_one("#confirm-box").content_region
            assert screen.region.contains_region(box), size
            assert scroll.max_scroll_y > 0, size  # longer than the box: the preview scrolls
            for part in ("#confirm-word", "#confirm-cancel", "#confirm-ok"):
                region = screen.query_one(part).region
                assert region.height == 1 and box.contains_region(region), (size, part)
                assert scroll.region.bottom <= region.y, (size, part)  # the preview above, not over
        # The name field keeps the focus while PageDown/PageUp and ctrl+down/up scroll the preview.
        assert app.focused is word
        await pilot.press("pagedown")
        await until(pilot, lambda: scroll.scroll_y >= scroll.region.height - 1, what="a page down")
        page = scroll.scroll_y
        await pilot.press("ctrl+down")
        await until(pilot, lambda: scroll.scroll_y == page + 1, what="a line down")
        await pilot.press("pageup", "pageup", "ctrl+up")
        await until(pilot, lambda: scroll.scroll_y == 0, what="back to the top")
        await pilot.press("l", "l")
        assert app.focused is word and word.value == "ll"


async def test_old_toasts_do_not_cover_a_new_dialog(cluster: tuple[SimCluster, Path], tmp_path: Path) -> None:
    sim, kubeconfig = cluster
    audit = AuditLog(tmp_path / "audit.jsonl")
    app = action_app(sim, kubeconfig, audit)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await connected(app, pilot)
        await preview(app, pilot, "D")
        await pilot.press("escape")
        await until(pilot, lambda: "cancelled" in screen_text(app), what="the cancel's toast")
        screen = await preview(app, pilot, "D")
        await pilot.pause()
        assert "cancelled" not in screen_text(app)  # the toast went with the new dialog
        assert outcomes(audit) == [("deploy", "cancelled")]  # what it said is kept
        app.notify("raised while the dialog is open")  # news about the dialog stays
        await until(pilot, lambda: "raised while the dialog is open" in screen_text(app), what="the new toast")
        assert app.screen is screen


def picker_rows(app: ConsoleApp, width: int) -> list[tuple[str, str]]:
    """(name, summary) of each scenario whose row is wholly in view in the picker, read off the
    screen: a row starts with a name in the name column; its summary may go on, indented, on the
    lines below."""
    options = app.screen.query_one(OptionList)
    area = options.scrollable_content_region
    lines = screen_text(app).splitlines()[area.y : area.bottom]
    names = {s.name for s in SCENARIOS.values()} | {"healthy world"}
    rows: list[tuple[str, list[str]]] = []
    column = None
    for line in (text[area.x : area.right] for text in lines):
        body = line.strip("▊▎ ")
        name = next((n for n in names if body.lstrip("● ").startswith(n + " ")), None)
        if name is not None:
            column = line.index(name) + width + 1
            rows.append((name, [line[column:].strip()]))
        elif rows and column is not None and line[:column].strip("▊▎ ") == "" and line[column:].strip():
            rows[-1][1].append(line[column:].strip())
    return [(name, " ".join(parts)) for name, parts in rows[:-1]]  # the last may go on out of view


async def test_the_scenario_picker_rows_fit_their_box(cluster: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = cluster
    app = make_app(kubeconfig, layout="default")
    summaries = {s.name: s.summary for s in SCENARIOS.values()} | {"healthy world": "clear every fault"}
    width = max(len(name) for name in summaries)
    async with app.run_test(size=SIZES[0]) as pilot:
        await until(pilot, lambda: bool(app.panes) and app.snapshot.pods, what="connected")
        await pilot.press("F")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker), what="the picker")
        await pilot.pause()
        text = screen_text(app)
        assert all(f"{name:<{width}} {summary}" in text for name, summary in summaries.items())  # one line each
        for size, whole in ((SIZES[1], 3), (SIZES[0], len(summaries) - 1)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            rows = picker_rows(app, width)
            assert len(rows) >= whole, (size, rows)
            for name, summary in rows:
                assert summary == summaries[name], (size, name)  # the name whole, the summary all there


async def test_help_scrolls_at_once_and_explains_text_fields(cluster: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = cluster
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=SIZES[1], notifications=True) as pilot:
        await until(pilot, lambda: bool(app.panes), what="the panes")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert app.focused is body and body.max_scroll_y > 0
        await pilot.press("end")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y, what="the end of the help")
        text = screen_text(app)
        assert "Tab in the prompt" in text and "esc, q or ? closes this help" in text
        await pilot.press("home", "pagedown")
        await until(pilot, lambda: body.scroll_y > 0, what="a page down")
        ctrl_c = next(row for row in app.help_rows() if row.keys == "ctrl+c")
        assert ctrl_c.what.startswith("Copy the selected text")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")

        # What the note says: in the prompt, ? is text; Tab leaves the field; then ? is help.
        prompt = app.query_one(PromptPane)
        app.focus_pane("prompt")
        await until(pilot, lambda: isinstance(app.focused, PromptInput), what="the prompt field")
        await pilot.press("question_mark")
        assert prompt.input.text.endswith("?") and not isinstance(app.screen, HelpScreen)
        await pilot.press("tab", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help after Tab")
        await pilot.press("escape")

        # ctrl+c with nothing selected names the quit key, in plain words.
        app.screen.focus_next()
        await pilot.press("ctrl+c")
        await until(pilot, lambda: "q (or ctrl+q) quits the console" in screen_text(app), what="the quit hint")
        assert "[b]" not in screen_text(app)
