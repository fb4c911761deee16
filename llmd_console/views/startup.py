"""The vLLM startup tracker: reads a model server's log lines into phases with the
time spent in each, and the startup probe's remaining budget.

TPU startup (runbook): device init, model download, weight loading, XLA
precompilation (~151 s for Qwen2.5-3B on v6e-4), then the API server. GPU startup
has CUDA graph capture where TPU has precompilation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmd_console.models import Container

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


@dataclass
class StartupTracker:
    """Feed it a container's log lines (with their timestamps); ask it where startup is."""

    started: dict[int, float] = field(default_factory=dict)
    ready_at: float | None = None
    failure: str = ""
    last_at: float | None = None

    def feed(self, at: float | None, line: str) -> None:
        """Read one log line logged at ``at`` (seconds since the epoch)."""
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
        if _FAILURE.search(stripped) and not stripped.startswith("File "):
            self.failure = stripped[:300]

    def reset(self) -> None:
        """A new container instance starts over."""
        self.started.clear()
        self.ready_at = None
        self.failure = ""
        self.last_at = None

    def current(self) -> int | None:
        """Index of the phase in progress (or the last one reached)."""
        return max(self.started) if self.started else None

    def durations(self, now: float) -> list[tuple[str, float | None, str]]:
        """(phase, seconds spent or None if not reached, state) for each phase."""
        out: list[tuple[str, float | None, str]] = []
        current = self.current()
        starts = sorted(self.started.items())
        for index, label in enumerate(PHASES):
            if index not in self.started:
                out.append((label, None, "pending"))
                continue
            later = [t for i, t in starts if i > index]
            end: float = now
            if index == 4:
                end = self.ready_at or now
            elif later:
                end = later[0]
            elif self.failure and self.last_at is not None:
                end = self.last_at
            begun = self.started[index]
            if self.failure and index == current:
                state = "failed"
            elif index == current and not (index == 4 and self.ready_at):
                state = "running"
            else:
                state = "done"
            out.append((label, max(0.0, end - begun), state))
        return out


@dataclass(frozen=True)
class ProbeBudget:
    """The startup probe's allowance for the current container."""

    total: float
    used: float

    @property
    def remaining(self) -> float:
        """Seconds left before the kubelet restarts the container."""
        return max(0.0, self.total - self.used)


def probe_budget(container: Container | None, now: float, time_scale: float = 1.0) -> ProbeBudget | None:
    """initialDelay + period x failureThreshold of the startup probe, and the time used so far
    (``time_scale``: how much faster than the wall clock a simulated cluster runs); None when
    there is no probe or it has passed."""
    if container is None or container.startup_probe is None:
        return None
    total = container.startup_probe.budget
    if container.running_since is None:
        return ProbeBudget(total, 0.0)
    if container.started:
        return None  # the startup probe has passed
    return ProbeBudget(total, (now - container.running_since) * time_scale)
