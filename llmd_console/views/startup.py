"""The vLLM startup tracker: reads a model server's log lines into phases with the
time spent in each, and the startup probe's remaining budget.

TPU startup (runbook): device init, model download, weight loading, XLA
precompilation (~151 s for Qwen2.5-3B on v6e-4), then the API server. GPU startup
has CUDA graph capture where TPU has precompilation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from llmd_console.doctor.crashes import Crash, classify
from llmd_console.models import Container
from llmd_console.views.vllm_lines import line_time

PHASES = ("device init", "download", "weights", "compile/warm-up", "server up")
# (phase index, pattern that marks its start)
_MARKERS = [
    (0, re.compile(r"vLLM API server version|Initializing TPU|Initializing CUDA|Init mesh|Init worker")),
    (1, re.compile(r"Downloading model|Downloading .*safetensors|weight_utils\.py")),
    (2, re.compile(r"Loading model|Starting to load model|Loading weights|Loading safetensors")),
    (
        3,
        re.compile(
            r"KV cache size|Precompile|JAX compile cache|Graph capturing|Capturing CUDA graph|compilation_manager"
        ),
    ),
    (4, re.compile(r"Starting vLLM API server|Application startup complete|Available routes are")),
]
_FAILURE = re.compile(r"^(\w+\.)*\w*(Error|Exception)\b|Traceback \(most recent call last\)|\bOOMKilled\b")
_READY = re.compile(r"Application startup complete")
# The first line a vLLM process prints: a new container instance begins.
_INSTANCE_START = re.compile(r"vLLM API server version")


@dataclass
class StartupTracker:
    """Feed it a container's log lines (with their timestamps); ask it where startup is.

    It follows one container instance: a line that starts a new vLLM process starts it
    over, and so does :meth:`restart` (the pod reports a new instance). Times are the
    log's own: the kubelet's timestamp of each line, else the time vLLM printed in it."""

    started: dict[int, float] = field(default_factory=dict)
    ready_at: float | None = None
    failure: str = ""
    crash: Crash | None = None  # the known failure the failure line shows (its name and finding id)
    last_at: float | None = None
    since: float | None = None  # lines logged before this belong to an earlier instance

    def feed(self, at: float | None, line: str) -> None:
        """Read one log line logged at ``at`` (seconds since the epoch; None: read the line's own time)."""
        if at is None:
            at = line_time(line, self.last_at if self.last_at is not None else time.time())
        if at is not None and self.since is not None and at < self.since:
            return
        if _INSTANCE_START.search(line) and (self.started or self.failure):
            self._clear()  # the previous instance's log ends here
        if at is not None:
            self.last_at = at
        for phase, pattern in _MARKERS:
            if pattern.search(line):
                if phase not in self.started and at is not None:
                    # A later phase implies the earlier ones are over; record where it began.
                    self.started[phase] = at
                break
        if _READY.search(line) and at is not None:
            self.ready_at = at
        stripped = line.strip()
        known = classify(stripped)
        if known is not None:
            # A known failure is the news even when a later traceback line repeats it less clearly.
            self.crash, self.failure = known, stripped[:300]
        elif _FAILURE.search(stripped) and not stripped.startswith("File ") and self.crash is None:
            self.failure = stripped[:300]

    def _clear(self) -> None:
        self.started.clear()
        self.ready_at = None
        self.failure = ""
        self.crash = None
        self.last_at = None

    def reset(self) -> None:
        """Forget everything (another pod or container is read)."""
        self._clear()
        self.since = None

    def restart(self, since: float | None, lines: Iterable[tuple[float | None, str]]) -> None:
        """A new container instance, running since ``since``: read ``lines`` again, keeping only its own."""
        self._clear()
        self.since = since
        for at, text in lines:
            self.feed(at, text)

    def current(self) -> int | None:
        """Index of the phase in progress (or the last one reached)."""
        return max(self.started) if self.started else None

    def durations(self, now: float, running: bool = True) -> list[tuple[str, float | None, str]]:
        """(phase, seconds spent or None if not reached, state) for each phase.

        ``running``: whether the container still runs; when it does not, the phase it was in
        ended with its last line ("stopped", or "failed" when it logged an error), instead of
        growing with the clock."""
        out: list[tuple[str, float | None, str]] = []
        current = self.current()
        starts = sorted(self.started.items())
        stopped = self.failure or not running
        for index, label in enumerate(PHASES):
            if index not in self.started:
                out.append((label, None, "pending"))
                continue
            later = [t for i, t in starts if i > index]
            end: float = now
            if index == 4 and self.ready_at:
                end = self.ready_at
            elif later:
                end = later[0]
            elif stopped and self.last_at is not None:
                end = self.last_at
            begun = self.started[index]
            if index == current and self.failure:
                state = "failed"
            elif index == current and not running and not (index == 4 and self.ready_at):
                state = "stopped"
            elif index == current and not (index == 4 and self.ready_at):
                state = "running"
            else:
                state = "done"
            out.append((label, max(0.0, end - begun), state))
        return out


@dataclass(frozen=True)
class ProbeBudget:
    """The startup probe's allowance for the current container, on the log's clock.

    ``total`` and ``used`` are wall-clock seconds; ``spec_total`` is the allowance as the
    pod spec states it (initialDelay + period x failureThreshold). They differ only on a
    simulated cluster that runs faster than the wall clock."""

    total: float
    used: float
    spec_total: float

    @property
    def remaining(self) -> float:
        """Seconds left before the kubelet restarts the container."""
        return max(0.0, self.total - self.used)


def probe_budget(container: Container | None, now: float, time_scale: float = 1.0) -> ProbeBudget | None:
    """The startup probe's allowance while the container is starting: None before it runs
    (Pending, ContainerCreating, waiting in crash-loop back-off), once the probe has passed,
    and when there is no probe. ``time_scale``: how much faster than the wall clock a
    simulated cluster runs (its probe periods are divided by it)."""
    if container is None or container.startup_probe is None:
        return None
    if container.running_since is None or container.waiting or container.started:
        return None
    spec_total = container.startup_probe.budget
    return ProbeBudget(spec_total / time_scale, max(0.0, now - container.running_since), spec_total)
