"""The prompt pane: a prompt sent through the gateway, the answer streamed in as it arrives,
and the request's own timings (TTFT, inter-token latency, tokens/s) and the pod that served it;
a failure is explained with its likely cause and the fix. The app sends and cancels
(``PromptSubmitted``, ``PromptCancelRequested``); this pane only draws.

Keys: ctrl+r sends, Escape cancels a request in flight (the server sees the disconnect), up and
down at the first and last line walk the history, ctrl+o opens the request options, ctrl+l
starts or stops a load run.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static, TextArea

from llmd_console.inference.history import PromptHistory
from llmd_console.inference.request import Api, Failure, Outcome, PromptRequest
from llmd_console.models import Snapshot
from llmd_console.sanitize import inert, one_line
from llmd_console.ui.messages import PromptCancelRequested, PromptOptionsRequested, PromptSubmitted
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.panes.load_view import LoadState, LoadView
from llmd_console.ui.registry import PaneContext, register_pane

MAX_SHOWN = 200_000  # characters of an answer drawn (the client keeps at most 1 MiB)
DRAW_EVERY = 0.05  # seconds between redraws while tokens stream in
SHORT_PANE_ROWS = 14  # below this height the input and the timings shrink for the answer
HINT = "ctrl+r send · esc cancel · ↑↓ history · ctrl+o options · ctrl+l load"


def answer_text(text: str) -> str:
    """A model's answer as shown: its newlines kept, everything else that could act on the
    terminal made visible (a model can be asked to print escape sequences)."""
    return "\n".join(inert(line) for line in text.split("\n"))


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds (or seconds past 10 s), ``-`` when unknown."""
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def timings(outcome: Outcome) -> Text:
    """The result line: status, TTFT, ITL, tokens/s, total, tokens, finish reason, served by."""
    out = Text(no_wrap=False)
    status = "no answer" if outcome.status is None else str(outcome.status)
    out.append(status, style="bold green" if outcome.ok else "bold red")
    parts = [f"TTFT {ms(outcome.ttft)}"]
    if outcome.itls:
        parts.append(f"ITL p50 {ms(outcome.itl_p50)} max {ms(outcome.itl_max)}")
    rate = outcome.tokens_per_second
    parts.append(f"{rate:.1f} tok/s" if rate is not None else "- tok/s")
    parts.append(f"total {ms(outcome.total)}")
    if outcome.prompt_tokens is not None or outcome.completion_tokens is not None:
        parts.append(f"tokens {outcome.prompt_tokens or 0} in, {outcome.completion_tokens or 0} out")
    if outcome.finish_reason:
        parts.append(f"finish {one_line(outcome.finish_reason, 40)}")
    parts.append(f"served by {one_line(outcome.served_by, 120)}" if outcome.served_by else "served by: not told")
    out.append(" · " + " · ".join(parts))
    return out


def failure_text(failure: Failure) -> Text:
    """A failure as the operator reads it: what, the likely cause, what to do."""
    out = Text()
    out.append(one_line(failure.title, 300) + "\n", style="bold red")
    out.append("cause: ", style="bold")
    out.append(one_line(failure.cause, 600) + "\n")
    out.append("fix:   ", style="bold")
    out.append("\n       ".join(inert(line) for line in failure.fix.splitlines()[:12]))
    return out


@dataclasses.dataclass
class PromptState:
    """What the prompt pane shows, kept by the app: a relayout (resize, layout key) makes a new
    pane, which takes the state over, including a request still streaming."""

    request: PromptRequest
    history: PromptHistory
    models: list[str] = dataclasses.field(default_factory=list)
    endpoint: str = "not resolved yet"
    problem: Failure | str | None = None  # why there is no endpoint or no model list
    in_flight: bool = False
    parts: list[str] = dataclasses.field(default_factory=list)
    shown_chars: int = 0
    outcome: Outcome | None = None
    draft: str = ""
    load: LoadState = dataclasses.field(default_factory=LoadState)

    def found(self, how: str, models: list[str], problem: Failure | str | None = None) -> None:
        """Where requests go and the served models (the model chosen becomes a served one)."""
        self.endpoint, self.models, self.problem = how, models, problem
        if models and self.request.model not in models:
            self.request = dataclasses.replace(self.request, model=models[0])

    def add(self, text: str) -> None:
        """A piece of the answer arrived (kept up to MAX_SHOWN characters)."""
        if self.shown_chars < MAX_SHOWN:
            piece = text[: MAX_SHOWN - self.shown_chars]
            self.parts.append(piece)
            self.shown_chars += len(piece)

    def finish(self, outcome: Outcome) -> None:
        """The request ended."""
        self.in_flight = False
        self.outcome = outcome
        if not self.parts and outcome.text:
            self.add(outcome.text)  # not streamed: the whole answer at once


class PromptInput(TextArea):
    """The prompt being written: up on its first line and down on its last walk the history."""

    @dataclasses.dataclass
    class HistoryWalk(Message):
        """Up (``-1``) or down (``+1``) past the text's edge."""

        step: int

    def action_cursor_up(self, select: bool = False) -> None:
        """Up: the line above, or from the first line the previous prompt."""
        if not select and self.cursor_location[0] == 0:
            self.post_message(self.HistoryWalk(-1))
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        """Down: the line below, or from the last line the next prompt."""
        if not select and self.cursor_location[0] >= self.document.line_count - 1:
            self.post_message(self.HistoryWalk(1))
            return
        super().action_cursor_down(select)


@register_pane
class PromptPane(Pane):
    """A prompt through the gateway, streamed, with its timings; and load runs."""

    pane_id = "prompt"
    title = "Prompt"
    summary = "Chat or completions through the gateway, streamed, with TTFT, ITL, tokens/s and the pod that served"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "send", "Send", id="prompt.send", tooltip="Send the prompt through the gateway"),
        Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Stop the request or load run in flight"),
        Binding("ctrl+o", "options", "Options", id="prompt.options", tooltip="Model, API, max tokens, temperature"),
        Binding("ctrl+l", "load", "Load", id="prompt.load", tooltip="Start a load run (or stop the one running)"),
    ]
    DEFAULT_CSS = """
    PromptPane #prompt-input {
        height: 3;
        border: none;
        padding: 0 1;
    }
    PromptPane #prompt-input:focus {
        border: none;
    }
    PromptPane #prompt-header {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PromptPane #prompt-timings {
        height: auto;
        max-height: 12;
    }
    PromptPane #prompt-answer-box {
        height: 1fr;
    }
    """

    def __init__(self, state: PromptState) -> None:
        super().__init__()
        self.state = state
        self.header = Static("", id="prompt-header")
        self.input = PromptInput(
            state.draft,
            id="prompt-input",
            soft_wrap=True,
            show_line_numbers=False,
            placeholder="Write a prompt; ctrl+r sends it through the gateway",
        )
        self.answer = Static("", id="prompt-answer", markup=False)
        self.timings = Static("", id="prompt-timings")
        self.load_view = LoadView()
        self.load_view.state = state.load
        self._dirty = True

    @classmethod
    def create(cls, context: PaneContext) -> PromptPane:
        """The pane with the configured request settings and the saved history."""
        p = context.config.prompt
        api: Api = "completions" if p.api == "completions" else "chat"
        # The model is the first one /v1/models lists, once the endpoint is known.
        request = PromptRequest("", "(the served model)", api, p.max_tokens, p.temperature, p.stream)
        history = PromptHistory.load(max_entries=p.history_entries) if p.history_entries else PromptHistory(None)
        return cls(PromptState(request, history))

    def adopt(self, state: PromptState) -> None:
        """Take over the state of the pane this one replaces, and show it."""
        self.state = state
        self.load_view.adopt(state.load)
        self.input.load_text(state.draft)
        self._dirty = True
        self._draw_header()
        self._draw_result()

    def compose(self) -> ComposeResult:
        """Settings and path, the prompt, the result line, a load run's view, the answer."""
        yield self.notice
        yield self.header
        yield self.input
        # The result line above the answer: in a short pane it is what must stay in view.
        yield self.timings
        yield self.load_view
        with VerticalScroll(id="prompt-answer-box"):
            yield self.answer

    def on_mount(self) -> None:
        """Draw the state; redraw streamed text at most every DRAW_EVERY seconds."""
        self._draw_header()
        self._draw_result()
        self.set_interval(DRAW_EVERY, self._draw_answer)
        if self.state.history.problems:
            self.show_notice("prompt history: " + "; ".join(self.state.history.problems)[:300])

    def on_resize(self) -> None:
        """A short pane (the default layout's corner) gives its rows to the answer: a one-line
        input and at most two lines of timings, so that some of the answer is in view."""
        short = self.size.height < SHORT_PANE_ROWS
        self.input.styles.height = 1 if short else 3
        self.timings.styles.max_height = 2 if short else 12

    def refresh_from(self, snapshot: Snapshot) -> None:
        """The prompt pane draws from requests, not from the cluster's objects."""

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Keep the draft in the state (a relayout must not lose what is being written)."""
        self.state.draft = event.text_area.text

    # ---- what the app tells --------------------------------------------------------------
    def set_endpoint(self, how: str, models: list[str], problem: Failure | str | None = None) -> None:
        """Where requests go (in words) and the served models; or why nowhere."""
        self.state.found(how, models, problem)
        self._draw_header()
        self._draw_result()

    def set_request(self, request: PromptRequest | None) -> None:
        """New settings from the options dialog (None: unchanged)."""
        if request is not None:
            self.state.request = request
            self._draw_header()

    def started(self, how: str) -> None:
        """The request went out on ``how``."""
        self.state.endpoint = how
        self._draw_header()

    def tokens_arrived(self) -> None:
        """The state's answer grew (drawn at the next redraw tick, not once per token)."""
        self._dirty = True

    def finished(self) -> None:
        """The state's request ended (answered, failed, cancelled)."""
        self._dirty = True
        self._draw_answer()
        self._draw_result()
        self.refresh_bindings()

    # ---- keys ----------------------------------------------------------------------------
    def action_send(self) -> None:
        """Send the prompt as written."""
        text = self.input.text.strip()
        if not text:
            self.notify("write a prompt first", severity="warning")
            return
        st = self.state
        if st.in_flight:
            self.notify("a request is in flight: esc cancels it", severity="warning")
            return
        if self.load_view.running:
            self.notify("a load run is going: esc stops it first", severity="warning")
            return
        st.history.add(text)
        st.in_flight = True
        st.parts, st.shown_chars, st.outcome = [], 0, None
        self.answer.update("")
        self.timings.update(Text(f"sending to {one_line(st.endpoint, 200)} ...", style="dim"))
        self.post_message(PromptSubmitted(dataclasses.replace(st.request, prompt=text)))
        self.refresh_bindings()

    def action_cancel(self) -> None:
        """Stop what is in flight."""
        self.post_message(PromptCancelRequested(load=self.load_view.running and not self.state.in_flight))

    def action_options(self) -> None:
        """Open the request options."""
        self.post_message(PromptOptionsRequested(self.state.request, tuple(self.state.models)))

    def action_load(self) -> None:
        """Start a load run, or stop the one going."""
        if self.load_view.running:
            self.post_message(PromptCancelRequested(load=True))
            return
        if self.state.in_flight:
            self.notify("a request is in flight: esc cancels it", severity="warning")
            return
        self.load_view.ask(self.state.request)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape only while something is in flight (else it is not a key of this pane)."""
        if action == "cancel":
            return self.state.in_flight or self.load_view.running
        return super().check_action(action, parameters)

    def on_prompt_input_history_walk(self, message: PromptInput.HistoryWalk) -> None:
        """Up and down past the prompt's edges."""
        message.stop()
        history = self.state.history
        text = history.prev(self.input.text) if message.step < 0 else history.next()
        if text is not None:
            self.input.load_text(text)
            row = 0 if message.step < 0 else self.input.document.line_count - 1
            self.input.move_cursor((row, len(self.input.document.get_line(row))))

    # ---- drawing -------------------------------------------------------------------------
    def _draw_header(self) -> None:
        st, r = self.state, self.state.request
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"{r.api} · {one_line(r.model, 80)} · max {r.max_tokens} · temp {r.temperature:g}", style="bold")
        out.append(" · stream" if r.stream else " · whole", style="bold")
        out.append("  (ctrl+o)\n", style="dim")
        out.append("→ " + one_line(st.endpoint, 300), style="dim")
        self.header.update(out)

    def _draw_result(self) -> None:
        """The line under the answer: the last result, the request going, why nowhere, or the keys."""
        st = self.state
        if st.in_flight:
            self.timings.update(Text(f"sending to {one_line(st.endpoint, 200)} ...", style="dim"))
        elif st.outcome is not None:
            out = timings(st.outcome)
            if st.outcome.failure is not None:
                out.append("\n")
                out.append_text(failure_text(st.outcome.failure))
            self.timings.update(out)
        elif isinstance(st.problem, Failure):
            self.timings.update(failure_text(st.problem))
        elif st.problem:
            self.timings.update(Text(one_line(st.problem, 400), style="red"))
        else:
            self.timings.update(Text(HINT, style="dim"))

    def _draw_answer(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.answer.update(Text(answer_text("".join(self.state.parts))))
        if self.state.in_flight:
            self.query_one("#prompt-answer-box", VerticalScroll).scroll_end(animate=False)
