"""The fault scenario picker: the healthy world first, then each scenario with what it breaks;
the active one marked. Enter applies the highlighted one. Each row is a grid: the name column
as wide as the longest name, never cut; the summary wraps in its own column, so a narrow
terminal shows it whole on indented lines and a wide one on one line."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from llmd_console.cluster.simcontrol import Scenarios
from llmd_console.sanitize import one_line

HEALTHY = ""  # the picker's answer for "clear every fault"
HEALTHY_NAME = "healthy world"
MAX_NAME = 40  # a scenario's name is shown whole up to this many characters
MAX_SUMMARY = 300


def _row(name: str, summary: str, active: bool, name_width: int) -> Table:
    """One option: the active marker, the name (never wrapped nor cut), the summary wrapping
    under itself. Both are plain text from the simulator."""
    grid = Table.grid(padding=(0, 1, 0, 0), expand=True)
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(width=name_width, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row(
        Text("●" if active else " ", style="bold yellow"),
        Text(name, style="bold"),
        Text(summary, style="" if active else "dim"),
    )
    return grid


class ScenarioPicker(ModalScreen[str | None]):
    """Dismissed with a scenario's name, :data:`HEALTHY`, or None (cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="scenarios.cancel")]
    AUTO_FOCUS = "#scenario-list"

    def __init__(self, scenarios: Scenarios) -> None:
        super().__init__()
        self.scenarios = scenarios

    def compose(self) -> ComposeResult:
        """A title and the list."""
        active = self.scenarios.active
        offered = self.scenarios.offered
        rows = [(HEALTHY_NAME, "clear every fault", active is None, "@healthy")]
        rows += [
            (one_line(s.name, MAX_NAME), one_line(s.summary, MAX_SUMMARY), s.name == active, s.name) for s in offered
        ]
        width = max(cell_len(name) for name, *_ in rows)
        options = [Option(_row(name, summary, on, width), id=key) for name, summary, on, key in rows]
        with Vertical(id="scenario-box"):
            yield Label(Text("Fault scenarios of the simulated cluster (Enter applies, Esc closes)", style="bold"))
            yield OptionList(*options, id="scenario-list")

    def on_mount(self) -> None:
        """The active scenario highlighted (else the healthy world)."""
        names = [s.name for s in self.scenarios.offered]
        active = self.scenarios.active
        self.query_one(OptionList).highlighted = names.index(active) + 1 if active in names else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Apply the chosen one."""
        self.dismiss(HEALTHY if event.option.id == "@healthy" else event.option.id)

    def action_cancel(self) -> None:
        """Change nothing."""
        self.dismiss(None)
