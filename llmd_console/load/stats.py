"""Live statistics of a load run, cheap to read at 4 Hz or more.

Counts and latency histograms are updated as requests end, output tokens as they stream,
and the time axis is in per-second bins of ``time.time()`` (the metrics pane's axis);
durations are measured on the monotonic clock. Memory is fixed: histograms have fixed
buckets and the series keeps the last hour. Updates come from the run's event loop; reading
(``snapshot()``) is also safe from another thread (a UI whose run has a loop of its own in a
worker thread): it copies what it iterates in single C-level steps, so a concurrent update can
make one snapshot a request out of date but never makes it fail.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from llmd_console.load.histogram import LatencyHistogram
from llmd_console.load.settings import Slo

SERIES_SECONDS = 3600
RATE_WINDOW = 5  # seconds: the "now" rates are over the last full seconds


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What is kept of one ended request (small: the run keeps up to ``max_records`` of them)."""

    index: int
    request_id: str
    sent_at: float  # time.time() when sent
    status: int | None
    failure: str | None  # the failure's kind; None when the request succeeded
    ttft: float | None
    itl_p50: float | None
    itl_p99: float | None
    e2e: float | None
    prompt_tokens: int | None
    output_tokens: int
    finish_reason: str | None
    served_by: str | None
    stalled: bool

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.failure is None

    def meets(self, slo: Slo) -> bool:
        """Succeeded within both SLOs (its own p99 inter-token gap against the ITL SLO)."""
        return (
            self.ok
            and self.ttft is not None
            and self.ttft <= slo.ttft
            and (self.itl_p99 is None or self.itl_p99 <= slo.itl)
        )


@dataclass(frozen=True)
class SeriesPoint:
    """One second of the run: what ended in it, and the tokens that streamed in it."""

    at: int  # the second, time.time() floored
    completed: int
    errors: int
    good: int
    tokens: int


@dataclass(frozen=True)
class Quantiles:
    """p50 and p99 of a latency, in seconds (None before any value)."""

    p50: float | None
    p99: float | None


@dataclass(frozen=True)
class LoadSnapshot:
    """The run right now."""

    at: float  # time.time()
    started_at: float  # time.time() at the start
    elapsed: float
    sent: int
    completed: int  # ended, successfully or not (cancelled ones excluded)
    ok: int
    failed: int
    cancelled: int
    in_flight: int
    stalled: int  # in flight with no token for longer than the quiet threshold
    errors: dict[str, int]
    ttft: Quantiles  # time to first token
    itl: Quantiles  # gaps between tokens (every gap of every successful request)
    e2e: Quantiles  # whole successful requests
    output_tokens: int
    tokens_per_second: float  # over the last few seconds
    requests_per_second: float  # completions over the last few seconds
    good: int  # requests meeting both SLOs
    goodput: float  # of those, per second over the whole run
    series: tuple[SeriesPoint, ...] = field(repr=False)

    @property
    def error_ratio(self) -> float:
        """Failed over ended requests."""
        return self.failed / self.completed if self.completed else 0.0


class LiveStats:
    """Accumulates a run's requests; ``snapshot()`` reads it."""

    def __init__(
        self,
        slo: Slo,
        *,
        quiet_seconds: float = 5.0,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        """Statistics against ``slo``; an in-flight request silent for ``quiet_seconds`` counts as stalled."""
        self.slo = slo
        self.quiet_seconds = quiet_seconds
        self._wall, self._mono = wall, mono
        self.started_at = wall()
        self._started = mono()
        self.sent = self.completed = self.ok = self.failed = self.cancelled = self.good = 0
        self.output_tokens = 0
        self.errors: Counter[str] = Counter()
        self.ttft, self.itl, self.e2e = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
        self._active: dict[int, float] = {}  # request index -> monotonic time of its last sign of life
        self._bins: deque[list[int]] = deque(maxlen=SERIES_SECONDS)  # [second, completed, errors, good, tokens]

    def _bin(self) -> list[int]:
        second = int(self._wall())
        if not self._bins or self._bins[-1][0] < second:
            self._bins.append([second, 0, 0, 0, 0])
        return self._bins[-1]

    # ---- updates ------------------------------------------------------------
    def started(self, index: int) -> None:
        """Request ``index`` was sent."""
        self.sent += 1
        self._active[index] = self._mono()

    def token(self, index: int) -> None:
        """Request ``index`` streamed a token."""
        if index in self._active:
            self._active[index] = self._mono()
        self.output_tokens += 1
        self._bin()[4] += 1

    def ended(self, record: RequestRecord, itls: list[float]) -> None:
        """Request ``record.index`` ended; ``itls`` are its gaps between tokens."""
        self._active.pop(record.index, None)
        if record.failure == "cancelled":
            self.cancelled += 1
            return
        self.completed += 1
        b = self._bin()
        b[1] += 1
        if record.ok:
            self.ok += 1
            for gap in itls:
                self.itl.add(gap)
            if record.e2e is not None:
                self.e2e.add(record.e2e)
        else:
            self.failed += 1
            self.errors[record.failure or "unknown"] += 1
            b[2] += 1
        if record.ttft is not None:
            self.ttft.add(record.ttft)
        if record.meets(self.slo):
            self.good += 1
            b[3] += 1

    # ---- reading ------------------------------------------------------------
    def stalled_now(self) -> int:
        """Requests in flight with no sign of life for longer than the quiet threshold."""
        limit = self._mono() - self.quiet_seconds
        return sum(1 for last in list(self._active.values()) if last < limit)

    def snapshot(self, points: int = 120) -> LoadSnapshot:
        """The run now, with the last ``points`` seconds of its series."""
        now, elapsed = self._wall(), self._mono() - self._started
        second = int(now)
        full = min(RATE_WINDOW, second - int(self.started_at))  # whole seconds behind us
        recent: list[list[int]] = []
        bins = list(self._bins)
        for b in reversed(bins):
            if b[0] < second - max(full, 0):
                break
            if b[0] < second or full <= 0:
                recent.append(b)
        window = float(full) if full > 0 else max(elapsed, 1e-3)
        series = tuple(SeriesPoint(*b) for b in bins[max(0, len(bins) - points) :])
        return LoadSnapshot(
            at=now,
            started_at=self.started_at,
            elapsed=elapsed,
            sent=self.sent,
            completed=self.completed,
            ok=self.ok,
            failed=self.failed,
            cancelled=self.cancelled,
            in_flight=len(self._active),
            stalled=self.stalled_now(),
            errors=dict(self.errors),
            ttft=Quantiles(*self.ttft.quantiles(0.5, 0.99)),
            itl=Quantiles(*self.itl.quantiles(0.5, 0.99)),
            e2e=Quantiles(*self.e2e.quantiles(0.5, 0.99)),
            output_tokens=self.output_tokens,
            tokens_per_second=sum(b[4] for b in recent) / window,
            requests_per_second=sum(b[1] for b in recent) / window,
            good=self.good,
            goodput=self.good / elapsed if elapsed > 0 else 0.0,
            series=series,
        )
