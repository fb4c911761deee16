"""The one confirmation screen for every mutation, which is also its preview: the plan in
words, its warnings, chips and cost per hour before and after, the equivalent command (and
each step's), and what each object would become (the server's dry run diffed against the live
object). Cancel is focused. A routine plan is confirmed with ``y`` or the Confirm button; a
disruptive one only by typing the target's name. The preview scrolls; the name field and the
buttons stay put at the foot of the box, whatever the terminal's height, and PageUp/PageDown
(ctrl+up/down a line) scroll the preview from the name field too."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from llmd_console.actions.plan import ObjectDiff, Plan, Risk
from llmd_console.sanitize import one_line


class ConfirmScreen(ModalScreen[bool]):
    """Shows a plan; dismisses with True only on an explicit confirmation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "confirm", "Confirm", id="confirm.yes", show=False),
        # The name field has no use for these: they scroll the preview without leaving it.
        Binding("pageup", "scroll_preview('page_up')", "Scroll up", id="confirm.page_up", show=False),
        Binding("pagedown", "scroll_preview('page_down')", "Scroll down", id="confirm.page_down", show=False),
        Binding("ctrl+up", "scroll_preview('scroll_up')", "Line up", id="confirm.line_up", show=False),
        Binding("ctrl+down", "scroll_preview('scroll_down')", "Line down", id="confirm.line_down", show=False),
    ]
    AUTO_FOCUS = "#confirm-cancel"

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        """The preview (scrolling), then the foot: (the name to type), buttons."""
        plan = self.plan
        with Vertical(id="confirm-box"):
            with VerticalScroll(id="confirm-scroll"):
                yield Static(preview_text(plan), id="confirm-body")
            # Docked at the bottom of the box: the preview gets only the rows the foot leaves.
            with Vertical(id="confirm-foot"):
                if plan.risk is Risk.DISRUPTIVE:
                    yield Static(Text(f"Type {one_line(plan.confirm_word, 200)} to confirm:", style="bold yellow"))
                    yield Input(placeholder=one_line(plan.confirm_word, 200), id="confirm-word", compact=True)
                with Horizontal(id="confirm-buttons"):
                    # Compact (one row): on an 80x24 terminal the preview keeps the rows.
                    yield Button("Cancel", id="confirm-cancel", variant="primary", compact=True)
                    yield Button(
                        "Confirm", id="confirm-ok", variant="error", disabled=plan.risk is Risk.DISRUPTIVE, compact=True
                    )

    def on_mount(self) -> None:
        """A disruptive plan starts in the name field: typing the name is the confirmation, and
        Enter there does nothing until it matches (Cancel stays one Tab or Escape away)."""
        if self.plan.risk is Risk.DISRUPTIVE:
            self.query_one("#confirm-word", Input).focus()

    def action_scroll_preview(self, how: str) -> None:
        """Scroll the preview by a page or a line (``page_up``, ``page_down``, ``scroll_up``, ``scroll_down``)."""
        scroll = self.query_one("#confirm-scroll", VerticalScroll)
        {
            "page_up": scroll.scroll_page_up,
            "page_down": scroll.scroll_page_down,
            "scroll_up": scroll.scroll_up,
            "scroll_down": scroll.scroll_down,
        }[how](animate=False)

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


MAX_DIFF_LINES = 300  # per object: a preview, not a dump


def preview_text(plan: Plan) -> Text:
    """The plan as the operator reads it before confirming; every name in it is plain text."""
    body = Text(one_line(plan.title, 200), style="bold")
    body.append(f"\nnamespace {one_line(plan.namespace, 63)}", style="dim")
    for warning in plan.warnings:
        body.append(f"\n⚠ {one_line(warning, 400)}", style="bold yellow")
    body.append("\n\nWhat will happen:\n", style="bold")
    for line in plan.changes:
        body.append(f"  • {one_line(line, 300)}\n")
    if plan.cost is not None:
        body.append("\nAccelerators: ", style="bold")
        cost = plan.cost
        body.append(
            one_line(cost.text(), 300) + "\n", style="green" if cost.delta < 0 else "yellow" if cost.delta else ""
        )
    body.append("\nEquivalent command:\n", style="bold")
    body.append(f"  {one_line(plan.command_line, 400)}\n", style="cyan")
    if len(plan.steps) > 1:
        body.append("\nSteps, in order:\n", style="bold")
        for i, step in enumerate(plan.steps, 1):
            body.append(f"  {i}. {one_line(' '.join(step), 400)}\n", style="cyan")
    if plan.diffs:
        changed = [d for d in plan.diffs if d.change != "unchanged"]
        body.append(f"\nObjects ({len(plan.diffs)}, {len(changed)} changing):\n", style="bold")
        for diff in plan.diffs:
            _append_diff(body, diff)
    return body


_CHANGE_STYLE = {"create": "green", "update": "yellow", "delete": "red", "refused": "bold red", "unchanged": "dim"}


def _append_diff(body: Text, diff: ObjectDiff) -> None:
    body.append(f"  {diff.change:<9} ", style=_CHANGE_STYLE.get(diff.change, ""))
    body.append(one_line(diff.label, 200) + "\n")
    if diff.error:
        body.append(f"      {one_line(diff.error, 500)}\n", style="red")
    lines = diff.lines
    for line in lines[:MAX_DIFF_LINES]:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        body.append(f"      {one_line(line, 300)}\n", style=style)
    if len(lines) > MAX_DIFF_LINES:
        body.append(f"      ... {len(lines) - MAX_DIFF_LINES} more line(s)\n", style="dim")
