"""Load profiles: how many requests are sent, and when.

- ``Concurrent``: N requests, C at a time (a closed loop: a request starts when one ends);
- ``Rate``: R requests per second at constant spacing or as a Poisson process, for N requests
  or D seconds (an open loop: arrivals do not wait for answers, up to a cap on requests in
  flight that bounds memory and sockets);
- ``Sweep``: constant-rate steps from a start rate up, until a step misses the SLOs.

Every constructor validates its numbers and raises ``ProfileError`` naming the flag.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

MAX_REQUESTS = 10_000_000
MAX_CONCURRENCY = 10_000
MAX_RATE = 100_000.0
MAX_DURATION = 7 * 86400.0
MAX_STEPS = 1000
DEFAULT_RATE_CAP = 256  # requests in flight an open-loop profile may have at once: the client's connections


class ProfileError(ValueError):
    """A profile that cannot run; the message names the option and the value."""


def _whole(name: str, value: int | None, limit: int) -> None:
    if value is not None and not 1 <= value <= limit:
        raise ProfileError(f"{name} must be a whole number from 1 to {limit}, got {value}")


def _number(name: str, value: float | None, limit: float) -> None:
    # "not <" also refuses NaN.
    if value is not None and not (0 < value <= limit):
        raise ProfileError(f"{name} must be a number above 0 and at most {limit:g}, got {value:g}")


@dataclass(frozen=True)
class Concurrent:
    """``requests`` requests, ``concurrency`` in flight at a time."""

    requests: int
    concurrency: int

    kind = "concurrent"

    def __post_init__(self) -> None:
        _whole("-n/--requests", self.requests, MAX_REQUESTS)
        _whole("-c/--concurrency", self.concurrency, MAX_CONCURRENCY)


@dataclass(frozen=True)
class Rate:
    """``rate`` requests per second, for ``requests`` requests or ``duration`` seconds (whichever
    comes first), evenly spaced or as a Poisson process (exponential gaps, seeded)."""

    rate: float
    requests: int | None = None
    duration: float | None = None
    poisson: bool = False
    seed: int = 0
    max_in_flight: int = DEFAULT_RATE_CAP

    def __post_init__(self) -> None:
        _number("--rate", self.rate, MAX_RATE)
        _whole("-n/--requests", self.requests, MAX_REQUESTS)
        _number("--duration", self.duration, MAX_DURATION)
        _whole("-c/--concurrency", self.max_in_flight, MAX_CONCURRENCY)
        if self.requests is None and self.duration is None:
            raise ProfileError("a rate profile needs -n/--requests or --duration (or both)")

    @property
    def kind(self) -> str:
        """``poisson`` or ``constant``."""
        return "poisson" if self.poisson else "constant"

    def arrivals(self) -> Iterator[float]:
        """Send times, in seconds from the start."""
        rng = random.Random(self.seed)
        at, count = 0.0, 0
        while (self.requests is None or count < self.requests) and (self.duration is None or at < self.duration):
            yield at
            count += 1
            at += rng.expovariate(self.rate) if self.poisson else 1.0 / self.rate


@dataclass(frozen=True)
class Sweep:
    """Constant-rate steps: ``start``, ``start + step``, ... up to ``max_rate``; each step sends
    ``step_requests`` requests or runs ``step_duration`` seconds, and the sweep stops after the
    first step whose TTFT p99 or error ratio exceeds the SLO."""

    start: float
    step: float
    max_rate: float
    step_requests: int | None = None
    step_duration: float | None = None
    max_in_flight: int = DEFAULT_RATE_CAP

    kind = "sweep"

    def __post_init__(self) -> None:
        _number("--rate", self.start, MAX_RATE)
        _number("--rate-step", self.step, MAX_RATE)
        _number("--max-rate", self.max_rate, MAX_RATE)
        _whole("-n/--requests", self.step_requests, MAX_REQUESTS)
        _number("--duration", self.step_duration, MAX_DURATION)
        _whole("-c/--concurrency", self.max_in_flight, MAX_CONCURRENCY)
        if self.max_rate < self.start:
            raise ProfileError(f"--max-rate ({self.max_rate:g}) must not be below --rate ({self.start:g})")
        if self.step_requests is None and self.step_duration is None:
            raise ProfileError("a sweep needs -n/--requests or --duration for each step")
        if self.steps > MAX_STEPS:
            raise ProfileError(f"the sweep would take more than {MAX_STEPS} steps; raise --rate-step")

    @property
    def steps(self) -> int:
        """How many steps the sweep has at most."""
        return math.floor((self.max_rate - self.start) / self.step + 1e-9) + 1

    def rates(self) -> list[float]:
        """The rate of every step."""
        return [round(self.start + i * self.step, 6) for i in range(self.steps)]

    def step_profile(self, rate: float) -> Rate:
        """The constant-rate profile of one step."""
        return Rate(rate, self.step_requests, self.step_duration, max_in_flight=self.max_in_flight)


Profile = Concurrent | Rate | Sweep


def describe(profile: Profile) -> dict[str, object]:
    """The profile's parameters, for the report."""
    if isinstance(profile, Concurrent):
        return {"kind": profile.kind, "requests": profile.requests, "concurrency": profile.concurrency}
    if isinstance(profile, Rate):
        return {
            "kind": profile.kind,
            "rate": profile.rate,
            "requests": profile.requests,
            "duration_seconds": profile.duration,
            "max_in_flight": profile.max_in_flight,
            "seed": profile.seed,
        }
    return {
        "kind": profile.kind,
        "start_rate": profile.start,
        "rate_step": profile.step,
        "max_rate": profile.max_rate,
        "step_requests": profile.step_requests,
        "step_duration_seconds": profile.step_duration,
        "max_in_flight": profile.max_in_flight,
    }
