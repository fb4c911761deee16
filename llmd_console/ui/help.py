"""The help screen: one table of every key as it is typed, what it does, where it works,
and the action id to remap it with (``keys:`` in the config)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from llmd_console.ui.keys import key_label
from llmd_console.ui.registry import PaneSpec

EVERYWHERE = "everywhere"
TABLES = "tables"
# Textual's own keys carry no description; what they do in the console.
SYSTEM_WHAT = {
    "help_quit": "Copy the selected text (a text field's, or the mouse's); with none, say which key quits",
}
# The single-letter keys and digits listed "everywhere" are text in a text field.
TEXT_FIELD_NOTE = (
    "In a text field the keys above that are letters, digits, ! or ? are typed as text. Leave the field"
    " first: Tab in the prompt; Enter (keeps it) or esc (clears it) in a filter; esc closes a dialog."
)


@dataclass(frozen=True)
class HelpRow:
    """One line of the help table."""

    keys: str  # as typed: "?", "/", "ctrl+d"
    what: str
    where: str  # EVERYWHERE, TABLES or a pane's title
    action_id: str  # for ``keys:`` in the config ("" when not remappable)


def help_rows(
    app_bindings: Iterable[BindingType],
    panes: Sequence[PaneSpec],
    *,
    layout: Sequence[tuple[str, str]],
    keymap: Mapping[str, str],
    read_only: bool,
    app_mutations: frozenset[str] = frozenset(),
) -> list[HelpRow]:
    """Every key: the app's, then each pane's (mutations left out in read-only mode).

    ``layout`` is the current layout's panes as (id, title), in the order the digit keys
    reach them: the digits are listed by the pane they go to, not as "Pane 1..9"."""

    def keys_of(b: Binding) -> str:
        return key_label(keymap.get(b.id, b.key) if b.id else b.key)

    rows: list[HelpRow] = []
    for b in app_bindings:
        if not isinstance(b, Binding):
            continue
        if b.action.startswith("focus_pane("):
            index = int(b.action.removeprefix("focus_pane(").rstrip(")"))
            if index <= len(layout):
                rows.append(HelpRow(keys_of(b), f"Go to the {layout[index - 1][1]} pane", EVERYWHERE, b.id or ""))
            continue
        if read_only and b.action in app_mutations:
            continue
        what = b.tooltip or b.description or SYSTEM_WHAT.get(b.action, "")
        rows.append(HelpRow(keys_of(b), what, EVERYWHERE, b.id or ""))
    rows.append(HelpRow("tab", "Next pane or field", EVERYWHERE, ""))
    rows.append(HelpRow("shift+tab", "Previous pane or field", EVERYWHERE, ""))
    rows.append(HelpRow("ctrl+p", "Command palette: every action by name", EVERYWHERE, ""))
    for spec in panes:
        for b in spec.bindings:
            if read_only and b.action in spec.mutations:
                continue
            rows.append(HelpRow(keys_of(b), b.tooltip or b.description, spec.title, b.id or ""))
    rows.append(HelpRow("↑ ↓", "Move the cursor", TABLES, ""))
    rows.append(HelpRow("pgup pgdn", "Move the cursor a page", TABLES, ""))
    rows.append(HelpRow("home end", "First / last row", TABLES, ""))
    return rows


def help_table(rows: Sequence[HelpRow]) -> Table:
    """The rows as a table, a rule between places."""
    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("KEY", style="bold cyan", max_width=10)
    table.add_column("WHAT IT DOES", ratio=1)
    table.add_column("WHERE", style="magenta", max_width=12)
    table.add_column("ACTION ID", style="dim", overflow="fold")
    previous = None
    for row in rows:
        if previous is not None and row.where != previous:
            table.add_section()
        previous = row.where
        table.add_row(Text(row.keys), Text(row.what), Text(row.where), Text(row.action_id))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key, in one table; it opens scrollable from the keyboard (Down, PageDown, End)."""

    AUTO_FOCUS = "#help-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, rows: Sequence[HelpRow]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        """A title line, the table, how to remap and close."""
        title = Text("llmd-console keys", style="bold")
        title.append("   remap with keys: {action id: key} in config.yaml", style="dim")
        with VerticalScroll(id="help-body"):
            yield Static(title, id="help-title")
            yield Static(help_table(self.rows), id="help-table")
            yield Static(Text(TEXT_FIELD_NOTE, style="italic"), id="help-note")
            yield Static(Text("esc, q or ? closes this help", style="dim"), id="help-close")
