"""The help screen: every key, what it does, and its action id for remapping."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Keys, grouped by where they work."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        """One block per section."""
        text = Text("llmd-console keys", style="bold")
        text.append("   (remap in config.yaml: keys: {action id: key})\n", style="dim")
        for title, rows in self.sections:
            text.append(f"\n{title}\n", style="bold underline")
            for key, description, action_id in rows:
                text.append(f"  {key:<14}", style="bold cyan")
                text.append(f"{description:<34}")
                text.append(f"{action_id}\n", style="dim")
        text.append("\nctrl+p opens the command palette with every action.  Esc closes this help.", style="dim")
        with VerticalScroll(id="help-body"):
            yield Static(text)
