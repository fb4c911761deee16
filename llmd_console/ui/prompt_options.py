"""The prompt pane's request options: model (from /v1/models), API, max tokens, temperature,
streaming. A value that is not valid is named under the fields and nothing is applied."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, Static

from llmd_console.inference.request import PromptRequest
from llmd_console.sanitize import one_line

APIS = (("chat (/v1/chat/completions)", "chat"), ("completions (/v1/completions)", "completions"))


def parse_options(
    request: PromptRequest, model: str, api: str, max_tokens: str, temperature: str, stream: bool
) -> PromptRequest | str:
    """The request with these options, or what is wrong with them (in words)."""
    try:
        tokens = int(max_tokens.strip())
    except ValueError:
        return f"max tokens must be a whole number, not {one_line(max_tokens, 40)!r}"
    try:
        temp = float(temperature.strip())
    except ValueError:
        return f"temperature must be a number, not {one_line(temperature, 40)!r}"
    if not 1 <= tokens <= 1_000_000:
        return "max tokens must be between 1 and 1000000"
    try:
        return dataclasses.replace(
            request,
            model=model or request.model,
            api="completions" if api == "completions" else "chat",
            max_tokens=tokens,
            temperature=temp,
            stream=stream,
        )
    except ValueError as exc:  # the request's own checks (temperature 0-2, NaN)
        return str(exc)


class PromptOptions(ModalScreen[PromptRequest | None]):
    """Edit the options of the next requests; Enter in a field (or ctrl+o) applies, Escape leaves
    them as they were (Enter on a list opens it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt-options.cancel"),
        Binding("ctrl+o", "apply", "Apply", id="prompt-options.apply"),
    ]
    AUTO_FOCUS = "#po-max-tokens"

    def __init__(self, request: PromptRequest, models: tuple[str, ...]) -> None:
        super().__init__()
        self.request = request
        self.models = models

    def compose(self) -> ComposeResult:
        """The fields and a line for what is wrong."""
        r = self.request
        choices = [(one_line(m, 80), m) for m in self.models] or [(one_line(r.model, 80), r.model)]
        with Vertical(id="prompt-options-box"):
            yield Label("Request options (Enter in a field or ctrl+o applies, Esc cancels)")
            yield Label("model (from /v1/models)")
            yield Select(choices, value=r.model if r.model in dict(choices).values() else choices[0][1], id="po-model",
                         allow_blank=False)  # fmt: skip
            yield Label("API")
            yield Select(APIS, value=r.api, id="po-api", allow_blank=False)
            with Horizontal(id="po-numbers"):
                yield Input(str(r.max_tokens), placeholder="max tokens", id="po-max-tokens")
                yield Input(f"{r.temperature:g}", placeholder="temperature (0-2)", id="po-temperature")
            yield Checkbox("stream the answer token by token", r.stream, id="po-stream")
            yield Static("", id="po-problem")

    def on_mount(self) -> None:
        """Each field's name on its border (its value hides the placeholder)."""
        for field in self.query(Input):
            field.border_title = field.placeholder

    def on_input_submitted(self) -> None:
        """Enter in a field applies."""
        self.action_apply()

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)

    def action_apply(self) -> None:
        """Apply the options if they are valid; else say what is wrong and stay."""
        result = parse_options(
            self.request,
            str(self.query_one("#po-model", Select).value),
            str(self.query_one("#po-api", Select).value),
            self.query_one("#po-max-tokens", Input).value,
            self.query_one("#po-temperature", Input).value,
            self.query_one("#po-stream", Checkbox).value,
        )
        if isinstance(result, str):
            self.query_one("#po-problem", Static).update(Text(result, style="bold red"))
            return
        self.dismiss(result)
