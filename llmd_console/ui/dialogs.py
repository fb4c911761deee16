"""Small modal dialogs."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class AskScreen(ModalScreen[str | None]):
    """Ask for one value; ``validate`` returns an error message or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="ask.cancel")]
    AUTO_FOCUS = "#ask-input"

    def __init__(self, prompt: str, value: str, validate: Callable[[str], str | None]) -> None:
        super().__init__()
        self.prompt = prompt
        self.value = value
        self.validate = validate

    def compose(self) -> ComposeResult:
        """Prompt, input, error line."""
        with Vertical(id="ask-box"):
            yield Label(self.prompt)
            yield Input(value=self.value, id="ask-input")
            yield Static("", id="ask-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Accept a valid value."""
        value = event.value.strip()
        error = self.validate(value)
        if error:
            self.query_one("#ask-error", Static).update(error)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Leave unchanged."""
        self.dismiss(None)
