"""Drives the request client (``inference.client.send``) through a load profile.

Every request carries ``x-request-id: <prefix>-<n>``, a deadline and a stall limit. The run
stops early when its error budget is spent (more than a fraction of the ended requests failed,
once enough have ended) or when ``stop()`` is called (Ctrl-C); requests in flight are then
cancelled, which closes their connections so the servers see the disconnect. What is kept of
each request is a small record, up to ``max_records`` of them (the newest).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from llmd_console.inference.client import send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.failures import FixHints
from llmd_console.inference.request import Failure, Outcome, PromptRequest
from llmd_console.load.profiles import Concurrent, Profile, Rate, Sweep
from llmd_console.load.prompts import PromptSet
from llmd_console.load.settings import RunSettings
from llmd_console.load.stats import LiveStats, LoadSnapshot, RequestRecord

STOPPED_BY = ("completed", "error_budget", "interrupted")


@dataclass(frozen=True)
class StepResult:
    """One step of a sweep: its rate, its figures, and whether it met the SLOs."""

    rate: float
    snapshot: LoadSnapshot
    met: bool
    why: str  # what missed, in words ("" when met)


@dataclass
class RunResult:
    """What a finished run leaves: figures, why it stopped, the kept records."""

    profile: Profile
    settings: RunSettings
    stop_reason: str  # one of STOPPED_BY
    stop_why: str  # in words
    overall: LoadSnapshot
    stats: LiveStats  # the whole run's (its histograms give the report's quantiles)
    records: list[RequestRecord]
    dropped_records: int
    failures: dict[str, Failure]  # the first failure of each kind, for its explanation
    steps: list[StepResult] = field(default_factory=list)
    best_rate: float | None = None  # a sweep's last rate that met the SLOs


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def record_of(index: int, request_id: str, sent_at: float, outcome: Outcome, streamed: int) -> RequestRecord:
    """The small record kept of an outcome."""
    failure = outcome.failure.kind if outcome.failure else (None if outcome.ok else "http")
    return RequestRecord(
        index=index,
        request_id=request_id,
        sent_at=sent_at,
        status=outcome.status,
        failure=failure,
        ttft=outcome.ttft,
        itl_p50=outcome.itl_p50,
        itl_p99=_p99(outcome.itls),
        e2e=outcome.total,
        prompt_tokens=outcome.prompt_tokens,
        output_tokens=outcome.completion_tokens if outcome.completion_tokens is not None else streamed,
        finish_reason=outcome.finish_reason,
        served_by=outcome.served_by,
        stalled=outcome.stalled,
    )


class _Phase:
    """The requests of one phase (a run, or one sweep step): where they report, and its stop."""

    def __init__(self, sinks: tuple[LiveStats, ...], budget_on: LiveStats) -> None:
        self.sinks = sinks
        self.budget_on = budget_on
        self.stop = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.over_budget = False


class LoadRunner:
    """Runs one profile against one endpoint; ``stats`` is live while it runs (poll ``snapshot()``),
    ``step_stats`` is the current sweep step's (the same object outside a sweep)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoint: Endpoint,
        prompts: PromptSet,
        settings: RunSettings,
        hints: FixHints | None = None,
    ) -> None:
        """A runner sending through ``client`` (from ``endpoint.client()``) to ``endpoint``; ``hints``
        name the deployment's objects in the failures' fixes."""
        self.client = client
        self.hints = hints
        self.endpoint = endpoint
        self.prompts = prompts
        self.settings = settings
        quiet = min(5.0, settings.stall_seconds / 2)
        self._quiet = quiet
        self.stats = LiveStats(settings.slo, quiet_seconds=quiet)
        self.step_stats = self.stats
        self.step_rate: float | None = None  # the current sweep step's rate
        self.records: deque[RequestRecord] = deque(maxlen=settings.max_records)
        self.dropped = 0
        self.failures: dict[str, Failure] = {}
        self._next = 0
        self._phase: _Phase | None = None
        self._interrupted = False

    # ---- control ------------------------------------------------------------
    def stop(self) -> None:
        """End the run now (Ctrl-C): no new request, the ones in flight are cancelled. Call it on the
        run's event loop (from another thread: ``loop.call_soon_threadsafe(runner.stop)``)."""
        self._interrupted = True
        if self._phase is not None:
            self._end_phase(self._phase)

    def _end_phase(self, phase: _Phase) -> None:
        phase.stop.set()
        current = asyncio.current_task()
        for task in list(phase.tasks):
            if task is not current:
                task.cancel()

    # ---- running ------------------------------------------------------------
    async def run(self, profile: Profile) -> RunResult:
        """Run ``profile`` to its end, its error budget or ``stop()``."""
        steps: list[StepResult] = []
        best: float | None = None
        over_budget = False
        if isinstance(profile, Sweep):
            best = await self._sweep(profile, steps)
        else:
            phase = _Phase((self.stats,), self.stats)
            cap = profile.concurrency if isinstance(profile, Concurrent) else profile.max_in_flight
            await self._drive(phase, _arrivals(profile), cap)
            over_budget = phase.over_budget
        if self._interrupted:
            reason, why = "interrupted", "stopped by the operator (Ctrl-C); requests in flight were cancelled"
        elif over_budget:
            s = self.stats.snapshot(points=0)
            reason = "error_budget"
            why = (
                f"{s.failed} of {s.completed} requests failed ({s.error_ratio:.0%}), more than the error budget "
                f"of {self.settings.error_budget:.0%}; requests in flight were cancelled"
            )
        else:
            reason, why = "completed", "every request of the profile ended"
        return RunResult(
            profile=profile,
            settings=self.settings,
            stop_reason=reason,
            stop_why=why,
            overall=self.stats.snapshot(),
            stats=self.stats,
            records=list(self.records),
            dropped_records=self.dropped,
            failures=dict(self.failures),
            steps=steps,
            best_rate=best,
        )

    async def _sweep(self, profile: Sweep, steps: list[StepResult]) -> float | None:
        best: float | None = None
        for rate in profile.rates():
            self.step_stats = LiveStats(self.settings.slo, quiet_seconds=self._quiet)
            self.step_rate = rate
            phase = _Phase((self.stats, self.step_stats), self.step_stats)
            step = profile.step_profile(rate)
            await self._drive(phase, step.arrivals(), step.max_in_flight)
            if self._interrupted:
                break
            result = self._judge(rate, self.step_stats.snapshot(points=0))
            steps.append(result)
            if not result.met:
                break
            best = rate
        return best

    def _judge(self, rate: float, s: LoadSnapshot) -> StepResult:
        slo, budget = self.settings.slo, self.settings.error_budget
        if s.completed == 0:
            return StepResult(rate, s, met=False, why="no request ended in this step")
        if s.error_ratio > budget:
            return StepResult(rate, s, False, f"error ratio {s.error_ratio:.1%} is over the budget {budget:.1%}")
        if s.ttft.p99 is None or s.ttft.p99 > slo.ttft:
            shown = "none" if s.ttft.p99 is None else f"{s.ttft.p99 * 1000:.0f} ms"
            return StepResult(rate, s, False, f"TTFT p99 {shown} is over the SLO {slo.ttft * 1000:.0f} ms")
        return StepResult(rate, s, met=True, why="")

    async def _drive(self, phase: _Phase, arrivals: Iterable[float], cap: int) -> None:
        """Send at the arrival times (seconds from now), at most ``cap`` in flight, then wait for the rest."""
        self._phase = phase
        slots = asyncio.Semaphore(cap)
        t0 = time.monotonic()
        try:
            for offset in arrivals:
                if phase.stop.is_set() or self._interrupted:
                    break
                delay = t0 + offset - time.monotonic()
                if delay > 0 and await _set_within(phase.stop, delay):
                    break
                if slots.locked():
                    if not await _acquired(slots, phase.stop):
                        break
                else:
                    await slots.acquire()  # free: returns at once
                index = self._next
                self._next += 1
                task = asyncio.get_running_loop().create_task(self._one(phase, index))
                phase.tasks.add(task)

                def done(task: asyncio.Task[None]) -> None:
                    phase.tasks.discard(task)
                    slots.release()

                task.add_done_callback(done)
            while phase.tasks:
                await asyncio.gather(*list(phase.tasks), return_exceptions=True)
        finally:
            # Cancelled from outside: no request outlives the run.
            self._end_phase(phase)
            if phase.tasks:
                await asyncio.gather(*list(phase.tasks), return_exceptions=True)
            self._phase = None

    async def _one(self, phase: _Phase, index: int) -> None:
        s = self.settings
        request_id = f"{s.request_id_prefix}-{index + 1}"
        text, max_tokens = self.prompts.pick(index, s.max_tokens)
        request = PromptRequest(
            prompt=text,
            model=s.model,
            api=s.api,
            max_tokens=max_tokens,
            temperature=s.temperature,
            stream=True,
            request_id=request_id,
        )
        sent_at = time.time()
        streamed = 0
        for sink in phase.sinks:
            sink.started(index)

        def on_token(_: str) -> None:
            nonlocal streamed
            streamed += 1
            for sink in phase.sinks:
                sink.token(index)

        try:
            outcome = await send(
                self.client,
                self.endpoint,
                request,
                on_token=on_token,
                stall_seconds=s.stall_seconds,
                deadline_seconds=s.deadline_seconds,
                hints=self.hints,
            )
        except asyncio.CancelledError:
            self._ended(phase, _cancelled(index, request_id, sent_at, streamed), [])
            raise
        except Exception as exc:  # a fault of the client itself: counted and shown, never lost
            failure = Failure(
                "internal",
                "The load client failed on this request",
                f"{type(exc).__name__}: {exc}"[:300],
                "a fault of llmd-console's client, not of the cluster; the run goes on",
            )
            outcome = Outcome(request, request_id, time.monotonic(), failure=failure)
        if outcome.failure is not None:
            self.failures.setdefault(outcome.failure.kind, outcome.failure)
        self._ended(phase, record_of(index, request_id, sent_at, outcome, streamed), outcome.itls)

    def _ended(self, phase: _Phase, record: RequestRecord, itls: list[float]) -> None:
        if len(self.records) == self.records.maxlen:
            self.dropped += 1
        self.records.append(record)
        for sink in phase.sinks:
            sink.ended(record, itls)
        b = phase.budget_on
        if (
            not phase.over_budget
            and b.completed >= self.settings.error_budget_min_requests
            and b.failed > self.settings.error_budget * b.completed
        ):
            phase.over_budget = True
            self._end_phase(phase)


def _cancelled(index: int, request_id: str, sent_at: float, streamed: int) -> RequestRecord:
    return RequestRecord(
        index=index,
        request_id=request_id,
        sent_at=sent_at,
        status=None,
        failure="cancelled",
        ttft=None,
        itl_p50=None,
        itl_p99=None,
        e2e=None,
        prompt_tokens=None,
        output_tokens=streamed,
        finish_reason=None,
        served_by=None,
        stalled=False,
    )


def _arrivals(profile: Concurrent | Rate) -> Iterable[float]:
    if isinstance(profile, Concurrent):
        return (0.0 for _ in range(profile.requests))
    return profile.arrivals()


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` is set within ``seconds``."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _acquired(slots: asyncio.Semaphore, stop: asyncio.Event) -> bool:
    """Wait for a free slot (then taken) or for ``stop`` (then False)."""
    take = asyncio.ensure_future(slots.acquire())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({take, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if take.done() and not take.cancelled():
        if stop.is_set():
            slots.release()
            return False
        return True
    take.cancel()
    return False
