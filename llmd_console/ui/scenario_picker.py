"""The fault scenario picker: the healthy world first, then each scenario with one line on what
it breaks; the active one marked. Enter applies the highlighted one."""

from __future__ import annotations

from typing import ClassVar

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
        options = [Option(self._line("healthy world", "clear every fault", active is None), id="@healthy")]
        options += [Option(self._line(s.name, s.summary, s.name == active), id=s.name) for s in self.scenarios.offered]
        with Vertical(id="scenario-box"):
            yield Label(Text("Fault scenarios of the simulated cluster (Enter applies, Esc closes)", style="bold"))
            yield OptionList(*options, id="scenario-list")

    @staticmethod
    def _line(name: str, summary: str, active: bool) -> Text:
        text = Text("● " if active else "  ", style="bold yellow")
        text.append(f"{one_line(name, 40):<22}", style="bold")
        text.append(one_line(summary, 82), style="dim" if not active else "")
        return text

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
