"""Small modal dialogs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from llmd_console.sanitize import one_line


class NamespacePicker(ModalScreen[str | None]):
    """Pick a namespace: those that exist (listed when the picker opens) and ``all``,
    filtered as the operator types; a name that is not listed is checked only on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="namespace.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="namespace.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="namespace.up"),
    ]
    AUTO_FOCUS = "#namespace-input"

    def __init__(
        self,
        current: str,
        load: Callable[[], Awaitable[list[str]]],
        validate: Callable[[str], str | None],
        everything: str = "all",
    ) -> None:
        super().__init__()
        self.current = current
        self.load = load
        self.validate = validate
        self.everything = everything
        self.names: list[str] = [everything]
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        """Prompt, filter box, the list, a status line."""
        with Vertical(id="namespace-box"):
            yield Label(f"Namespace (now {one_line(self.current, 63)}); type to filter, Enter to watch")
            yield Input(placeholder="filter, or a namespace name", id="namespace-input")
            yield OptionList(id="namespace-list")
            yield Static(Text("listing namespaces...", style="dim"), id="namespace-status")

    def on_mount(self) -> None:
        """Show 'all' at once; list the namespaces in the background."""
        self._show("")
        self._list_namespaces()

    @work(group="namespaces", exclusive=True, exit_on_error=False, description="list namespaces")
    async def _list_namespaces(self) -> None:
        status = self.query_one("#namespace-status", Static)
        try:
            found = await self.load()
        except Exception as exc:  # the API's refusal or a lost connection: say it, keep the picker usable
            status.update(Text(f"cannot list namespaces: {one_line(str(exc), 200)}; type a name", style="yellow"))
            return
        self.names = [self.everything, *sorted(set(found) - {self.everything})]
        status.update(Text(f"{len(self.names) - 1} namespaces", style="dim"))
        self._show(self.query_one("#namespace-input", Input).value)

    def _show(self, text: str) -> None:
        """The names containing ``text``, an exact match (else the current namespace) highlighted."""
        wanted = text.strip().lower()
        self.shown = [n for n in self.names if wanted in n.lower()]
        options = self.query_one("#namespace-list", OptionList)
        options.clear_options()
        options.add_options([Option(Text(one_line(n, 63)), id=n) for n in self.shown])
        target = wanted if wanted in self.shown else (self.current if not wanted else None)
        if target in self.shown:
            options.highlighted = self.shown.index(target)
        elif self.shown:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types (no complaint while typing)."""
        self._show(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The highlighted namespace, else the typed name once it is a valid one."""
        options = self.query_one("#namespace-list", OptionList)
        if options.highlighted is not None and self.shown:
            self.dismiss(self.shown[options.highlighted])
            return
        value = event.value.strip()
        error = self.validate(value)
        if error:
            self.query_one("#namespace-status", Static).update(Text(error, style="bold red"))
            return
        self.dismiss(value)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or Enter in the list) picks it."""
        if event.option.id:
            self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        """Up and down move in the list while typing."""
        options = self.query_one("#namespace-list", OptionList)
        if self.shown:
            at = options.highlighted if options.highlighted is not None else -step
            options.highlighted = max(0, min(len(self.shown) - 1, at + step))

    def action_cancel(self) -> None:
        """Leave the namespace as it is."""
        self.dismiss(None)


class NumberDialog(ModalScreen[int | None]):
    """Ask for a count (replicas, nodes): ``parse`` turns the text into a number or raises
    ``ValueError`` with the reason, which is shown under the field until the text is good."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="number.cancel")]
    AUTO_FOCUS = "#number-input"

    def __init__(self, title: str, question: str, current: int, parse: Callable[[str], int]) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.current = current
        self.parse = parse

    def compose(self) -> ComposeResult:
        """Title, question, the field (the current value in it), a status line."""
        with Vertical(id="number-box"):
            yield Static(Text(one_line(self.title_text, 200), style="bold"))
            yield Label(Text(one_line(self.question, 200)))
            yield Input(str(self.current), id="number-input")
            yield Static(Text("Enter: preview the change   Esc: cancel", style="dim"), id="number-status")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Say at once why the text is not a valid count."""
        status = self.query_one("#number-status", Static)
        try:
            self.parse(event.value)
        except ValueError as exc:
            status.update(Text(one_line(str(exc), 200), style="bold red"))
            return
        status.update(Text("Enter: preview the change   Esc: cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A valid count closes the dialog; anything else stays, with the reason shown."""
        event.stop()
        try:
            value = self.parse(event.value)
        except ValueError as exc:
            self.query_one("#number-status", Static).update(Text(one_line(str(exc), 200), style="bold red"))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Change nothing."""
        self.dismiss(None)
