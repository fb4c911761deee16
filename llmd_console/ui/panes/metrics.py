"""Metrics: the model servers' and the scheduler's (EPP) metrics with their history, for the
pool or for the selected pod; anything missing says why instead of showing zero."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from llmd_console.load.stats import SeriesPoint
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.catalog import EPP, VLLM, MetricDef
from llmd_console.metrics.readings import Feed, Reader, Reading
from llmd_console.models import Snapshot
from llmd_console.sanitize import one_line
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.panes.load_view import LoadState
from llmd_console.ui.registry import PaneContext, register_pane
from llmd_console.views.common import human_age
from llmd_console.views.load_axis import on_axis
from llmd_console.views.spark import sparkline, value_text

SPANS = (60.0, 300.0, 900.0, 3600.0)  # the history drawn: 1, 5, 15, 60 minutes
TITLE_WIDTH = 26
VALUE_WIDTH = 10


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


@register_pane
class MetricsPane(Pane):
    """vLLM and EPP metrics, now and over the chosen span."""

    pane_id = "metrics"
    title = "Metrics"
    summary = "Queue, KV cache, prefix hits, tokens/s, TTFT, ITL and the EPP's metrics, with history"
    kinds = ("pods",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "span", "Span", id="metrics.span", tooltip="History shown: 1, 5, 15 or 60 minutes"),
        Binding("s", "scope", "Pool/pod", id="metrics.scope", tooltip="The pool's metrics or the selected pod's"),
    ]

    DEFAULT_CSS = """
    #metrics-header, #metrics-body {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    #metrics-header {
        height: 1;
    }
    """

    def __init__(self, rate_window: float = 60.0, now: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.rate_window = rate_window
        self.now = now
        self.span = SPANS[1]
        self.per_pod = False
        self.selected: str | None = None
        self.feed: Feed | None = None
        self.alerts: tuple[Alert, ...] = ()
        self.rounds = 0  # rounds received
        self.load: LoadState | None = None  # the prompt pane's load run, drawn on the same axis
        self.header = Static("", id="metrics-header")
        self.body = Static("", id="metrics-body")

    @classmethod
    def create(cls, context: PaneContext) -> MetricsPane:
        """The pane, with the configured rate window."""
        return cls(context.config.metrics.rate_window_seconds, context.now)

    def compose(self) -> ComposeResult:
        """Header (source, age, span, scope) and the metrics."""
        yield self.notice
        yield self.header
        with VerticalScroll():
            yield self.body

    # ---- what arrives --------------------------------------------------------------------
    def refresh_from(self, snapshot: Snapshot) -> None:
        """Pods come and go: the notice follows the pods' state (the data comes from ``metrics_round``)."""
        self.show_notice(self.status_notice(snapshot))

    def metrics_round(self, feed: Feed, alerts: Sequence[Alert]) -> None:
        """A scrape round finished; ``alerts`` were evaluated on it."""
        self.feed = feed
        self.alerts = tuple(alerts)
        self.rounds += 1
        if self.is_on_screen:
            self.draw()

    def load_round(self, load: LoadState) -> None:
        """A load run moved: its client-side lines join the pane at the next draw."""
        self.load = load

    def pod_selected(self, key: str) -> None:
        """The pod whose series the pod scope shows."""
        self.selected = key
        if self.per_pod and self.is_on_screen:
            self.draw()

    def became_visible(self) -> None:
        """Draw what arrived while hidden."""
        super().became_visible()
        self.draw()

    def on_resize(self) -> None:
        """Lines are drawn to the pane's width: draw again at the new one (zoom, a resized terminal)."""
        if self.feed is not None and self.is_on_screen:
            self.draw()

    # ---- keys -------------------------------------------------------------------------------
    def action_span(self) -> None:
        """The next span of history."""
        self.span = SPANS[(SPANS.index(self.span) + 1) % len(SPANS)]
        self.notify(f"metrics history: {_minutes(self.span)}", timeout=2)
        self.draw()

    def action_scope(self) -> None:
        """Pool or selected pod."""
        if not self.per_pod and self.selected is None:
            self.notify("select a pod in the pods pane first", severity="warning")
            return
        self.per_pod = not self.per_pod
        self.draw()

    # ---- drawing -----------------------------------------------------------------------------
    def draw(self) -> None:
        """Header and every metric."""
        feed = self.feed
        header = Text(no_wrap=True, overflow="ellipsis")
        if feed is None:
            self.header.update(Text("waiting for the first scrape of the pods' /metrics", style="dim"))
            return
        age = human_age(self.now() - feed.at) if feed.at is not None else "-"
        header.append(f"{one_line(feed.source, 80)} · data {age} old · history {_minutes(self.span)} (t) · ", "dim")
        header.append("pod " + one_line(self.selected or "", 80).partition("/")[2] if self.per_pod else "pool", "bold")
        header.append(" (s)", style="dim")
        self.header.update(header)
        # The scroll area's width less its scrollbar, whether it shows yet or not: lines drawn
        # before the scrollbar appears must not lose their values to it.
        scroll = self.query_one(VerticalScroll)
        available = (scroll.size.width or self.size.width - 2) - scroll.styles.scrollbar_size_vertical
        width = max(10, available - TITLE_WIDTH - VALUE_WIDTH - 3)
        # One time axis for every line: the span before now, in ``width`` equal slices.
        now = self.now()
        reader = Reader(feed.interval, rate_window=self.rate_window, span=self.span, points=width, now=now)
        out = Text(no_wrap=True, overflow="ellipsis")
        for alert in self.alerts:
            style = "bold red" if alert.severity == "critical" else "bold yellow"
            state = alert.severity.upper() if alert.firing else f"pending ({human_age(self.now() - alert.since)})"
            out.append(f"▲ {state} ", style=style if alert.firing else "dim")
            out.append(one_line(alert.summary, 200) + "\n", style=style if alert.firing else "")
        self._load_lines(out, width, now)
        for section, metrics, source, who in (
            ("Model servers", VLLM, "vllm", "model server"),
            ("Scheduler (EPP)", EPP, "epp", "EPP"),
        ):
            endpoints = dict(feed.of(source))
            heading = section
            if self.per_pod and source == "vllm":
                endpoints = {k: v for k, v in endpoints.items() if k == self.selected}
                heading += " - this pod" if endpoints else " - the selected pod is not a model server"
            else:
                heading += f" ({len(endpoints)} pod{'s' if len(endpoints) != 1 else ''})"
            out.append(heading + "\n", style="bold underline")
            for metric in metrics:
                for reading in reader.read(metric, endpoints, who):
                    self._line(out, metric, reading, width)
        self.body.update(out)

    def _load_lines(self, out: Text, width: int, now: float) -> None:
        """The prompt pane's load run as its client saw it, on the server metrics' time axis."""
        load = self.load
        s = load.snapshot if load is not None else None
        if load is None or s is None:
            return
        ended = None if load.running else s.at
        if ended is not None and now - ended > self.span:
            return  # over before the span drawn
        out.append(f"Load run (client): {one_line(load.label, 80)}\n", style="bold underline")
        lines: tuple[tuple[str, Callable[[SeriesPoint], float], float, str], ...] = (
            ("client requests/s", lambda p: float(p.completed), s.requests_per_second, "/s"),
            ("client errors/s", lambda p: float(p.errors), math.nan, "/s"),
            ("client tokens/s", lambda p: float(p.tokens), s.tokens_per_second, "/s"),
        )
        for title, field, value, unit in lines:
            points = on_axis(
                s.series, field, now=now, span=self.span, points=width, started_at=s.started_at, ended_at=ended
            )
            out.append(f"{title:<{TITLE_WIDTH}} ")
            out.append(sparkline(points, width).ljust(width), style="magenta")
            shown = value_text(value, unit) if not math.isnan(value) else f"{s.failed} total"
            out.append(f" {shown:>{VALUE_WIDTH}}\n", style="bold")
        p99 = s.ttft.p99
        out.append(f"{'client TTFT p99':<{TITLE_WIDTH}} {'':<{width}} ")
        out.append(f"{value_text(p99 if p99 is not None else math.nan, 's'):>{VALUE_WIDTH}}\n", style="bold")

    def _line(self, out: Text, metric: MetricDef, reading: Reading, width: int) -> None:
        title = metric.title + (f" {reading.label}" if reading.label else "")
        out.append(f"{one_line(title, TITLE_WIDTH):<{TITLE_WIDTH}} ")
        if math.isnan(reading.value) and all(math.isnan(p) for p in reading.points):
            # Nothing to draw: say why, never a flat line at zero.
            out.append(one_line(reading.why or "no data", 200) + "\n", style="dim")
            return
        ceiling = 1.0 if metric.unit == "ratio" else None  # a share is drawn against the whole
        out.append(sparkline(reading.points, width, ceiling=ceiling).ljust(width), style="cyan")
        value = value_text(reading.value, metric.unit)
        out.append(f" {value:>{VALUE_WIDTH}}", style="bold" if not math.isnan(reading.value) else "dim")
        if math.isnan(reading.value) and reading.why:
            out.append(f"  {one_line(reading.why, 80)}", style="dim")
        out.append("\n")
