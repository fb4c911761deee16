"""A load run in the prompt pane: the dialog that starts one (profile and sizes, checked before
anything is sent), the live line at 4 Hz (completed, in flight, stalled, errors by kind, TTFT
and ITL p50/p99, tokens/s, goodput), and the summary with the per-pod split at the end.

The run itself is the app's (``LoadRequested``); this widget draws the ``LoadState`` the app
keeps, so a relayout in the middle of a run loses nothing.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from llmd_console.inference.request import PromptRequest
from llmd_console.load.profiles import ProfileError
from llmd_console.load.stats import LoadSnapshot, Quantiles
from llmd_console.sanitize import one_line
from llmd_console.ui.load_plan import LoadPlan, describe, plan_of
from llmd_console.ui.messages import LoadRequested
from llmd_console.views.spark import sparkline

PROFILES = (
    ("concurrent: N requests, C at a time", "concurrent"),
    ("constant rate: R/s for N requests or D s", "constant"),
    ("Poisson rate: R/s on average", "poisson"),
    ("sweep: R/s up by a step until the SLOs break", "sweep"),
)


@dataclasses.dataclass
class LoadState:
    """A load run as the pane shows it (kept by the app across relayouts)."""

    running: bool = False
    label: str = ""  # the profile, in words
    snapshot: LoadSnapshot | None = None
    summary: list[str] = dataclasses.field(default_factory=list)  # the end's lines
    problem: str = ""  # why a run could not start or stopped early


def ms(value: float | None) -> str:
    """Milliseconds, ``-`` when unknown."""
    return "-" if value is None else f"{value * 1000:.0f}"


def quantiles(name: str, q: Quantiles) -> str:
    """``TTFT p50/p99 120/340 ms``."""
    return f"{name} p50/p99 {ms(q.p50)}/{ms(q.p99)} ms"


def live_text(label: str, s: LoadSnapshot, width: int) -> Text:
    """The run now: counts, latencies, rates, and tokens/s per second as a sparkline."""
    out = Text()
    out.append("load ", style="bold")
    out.append(one_line(label, 120))
    out.append(f" · {s.elapsed:.0f} s\n", style="dim")
    out.append(f"sent {s.sent}  done {s.completed}  in flight {s.in_flight}")
    if s.stalled:
        out.append(f"  stalled {s.stalled}", style="bold yellow")
    if s.failed:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items()))
        out.append(f"  errors {s.failed} ({one_line(kinds, 200)})", style="bold red")
    out.append("\n")
    out.append(f"{quantiles('TTFT', s.ttft)} · {quantiles('ITL', s.itl)} · ")
    out.append(f"{s.tokens_per_second:.0f} tok/s · {s.requests_per_second:.1f} req/s · goodput {s.goodput:.2f}/s\n")
    points = [float(p.tokens) for p in s.series]
    if points:
        out.append("tokens/s ", style="dim")
        out.append(sparkline(points, max(10, width - 10)), style="cyan")
    return out


class LoadView(Static):
    """The load run's lines under the answer (hidden until a run starts)."""

    DEFAULT_CSS = """
    LoadView {
        height: auto;
        max-height: 12;
        display: none;
    }
    """

    def __init__(self) -> None:
        super().__init__("", id="prompt-load")
        self.state = LoadState()

    @property
    def running(self) -> bool:
        """Whether a run is going."""
        return self.state.running

    def adopt(self, state: LoadState) -> None:
        """Show the run the app keeps."""
        self.state = state
        self.draw()

    def ask(self, request: PromptRequest) -> None:
        """Open the dialog; a valid plan goes to the app to run."""

        def chosen(plan: LoadPlan | None) -> None:
            if plan is not None:
                self.post_message(LoadRequested(plan, request, describe(plan)))

        self.app.push_screen(LoadDialog(), chosen)

    def draw(self) -> None:
        """The live line while running, the summary after."""
        st = self.state
        if st.snapshot is None and not st.summary and not st.problem:
            self.display = False
            return
        self.display = True
        out = Text()
        if st.snapshot is not None and not st.summary:  # running, or ended and being summarised
            out.append_text(live_text(st.label, st.snapshot, self.size.width or 60))
        elif st.running:
            out.append(f"load {one_line(st.label, 120)}: starting ...", style="dim")
        for line in st.summary:
            out.append(one_line(line, 300) + "\n")
        if st.problem:
            out.append(one_line(st.problem, 400), style="bold red")
        self.update(out)


class LoadDialog(ModalScreen[LoadPlan | None]):
    """Profile and sizes of a load run; Enter in a field starts it, Escape does not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="load-dialog.cancel"),
        Binding("ctrl+l", "start", "Start", id="load-dialog.start"),
    ]
    AUTO_FOCUS = "#ld-requests"  # Enter at once runs the defaults

    def compose(self) -> ComposeResult:
        """The fields, a line for what is wrong."""
        with Vertical(id="load-box"):
            yield Label("Load run through the same endpoint (Enter in a field or ctrl+l starts, Esc cancels)")
            yield Select(PROFILES, value="concurrent", id="ld-profile", allow_blank=False)
            with Horizontal(classes="ld-row"):
                yield Input("20", placeholder="requests N", id="ld-requests")
                yield Input("4", placeholder="concurrency C (cap for rates)", id="ld-concurrency")
            with Horizontal(classes="ld-row"):
                yield Input("", placeholder="rate R/s", id="ld-rate")
                yield Input("", placeholder="duration D s", id="ld-duration")
            with Horizontal(classes="ld-row"):
                yield Input("", placeholder="sweep step R/s", id="ld-step")
                yield Input("0", placeholder="shared prefixes", id="ld-prefixes")
            yield Static("", id="ld-problem")

    def on_mount(self) -> None:
        """Each field's name on its border (its value hides the placeholder)."""
        for field in self.query(Input):
            field.border_title = field.placeholder

    def on_input_submitted(self) -> None:
        """Enter in a field starts the run."""
        self.action_start()

    def action_cancel(self) -> None:
        """Close without a run."""
        self.dismiss(None)

    def action_start(self) -> None:
        """Start if the fields make a valid plan; else say what is wrong and stay."""

        def field(name: str) -> str:
            return self.query_one(f"#ld-{name}", Input).value

        try:
            plan = plan_of(
                str(self.query_one("#ld-profile", Select).value),
                field("requests"),
                field("concurrency"),
                field("rate"),
                field("duration"),
                field("step"),
                field("prefixes"),
            )
        except ProfileError as exc:
            self.query_one("#ld-problem", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(plan)
