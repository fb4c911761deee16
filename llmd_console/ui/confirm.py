"""The one confirmation screen for every mutation: the plan in words, the equivalent
command, and Cancel focused. A routine plan is confirmed with ``y`` or the Confirm
button; a disruptive one only by typing the target's name."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from llmd_console.actions.plan import Plan, Risk
from llmd_console.sanitize import one_line


class ConfirmScreen(ModalScreen[bool]):
    """Shows a plan; dismisses with True only on an explicit confirmation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "confirm", "Confirm", id="confirm.yes", show=False),
    ]
    AUTO_FOCUS = "#confirm-cancel"

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        """Title, changes, command, (the name to type), buttons."""
        plan = self.plan
        body = Text(one_line(plan.title, 200), style="bold")
        body.append(f"\nnamespace {one_line(plan.namespace, 63)}", style="dim")
        body.append("\n\nWhat will happen:\n", style="bold")
        for line in plan.changes:
            body.append(f"  • {one_line(line, 300)}\n")
        body.append("\nEquivalent command:\n", style="bold")
        body.append(f"  {one_line(plan.command_line, 400)}\n", style="cyan")
        with Vertical(id="confirm-box"):
            yield Static(body, id="confirm-body")
            if plan.risk is Risk.DISRUPTIVE:
                yield Static(Text(f"Type {one_line(plan.confirm_word, 200)} to confirm:", style="bold yellow"))
                yield Input(placeholder=one_line(plan.confirm_word, 200), id="confirm-word")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="confirm-cancel", variant="primary")
                yield Button("Confirm", id="confirm-ok", variant="error", disabled=plan.risk is Risk.DISRUPTIVE)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Enable Confirm once the target's name is typed exactly."""
        self.query_one("#confirm-ok", Button).disabled = event.value != self.plan.confirm_word

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the name field confirms when the name matches."""
        event.stop()
        if event.value == self.plan.confirm_word:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Confirm or cancel."""
        self.dismiss(event.button.id == "confirm-ok")

    def action_cancel(self) -> None:
        """Leave everything as it is."""
        self.dismiss(False)

    def action_confirm(self) -> None:
        """``y`` confirms routine plans only (a disruptive one needs the name typed)."""
        if self.plan.risk is Risk.ROUTINE:
            self.dismiss(True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the name field has focus, ``y`` is a letter, not an answer."""
        return not (action == "confirm" and isinstance(self.focused, Input))
