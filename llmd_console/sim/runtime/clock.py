"""Simulated time: durations run ``speed`` times faster than the wall clock.

Timestamps written into objects and logs stay on the wall clock (so kubectl's
AGE column and log timestamps make sense to a human), while every simulated
duration (image pulls, TPU init, XLA precompile, probe periods, back-offs) is
divided by ``speed``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class SimClock:
    """Wall-clock timestamps plus compressed simulated durations."""

    def __init__(self, speed: float = 1.0, frozen_at: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._frozen_at = frozen_at
        self._started = time.monotonic()

    def now(self) -> float:
        """Wall time in seconds since the epoch (or the frozen instant)."""
        return self._frozen_at if self._frozen_at is not None else time.time()

    def now_dt(self) -> datetime:
        """Wall time as an aware datetime."""
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def iso(self, at: float | None = None) -> str:
        """RFC 3339 timestamp with second precision, as Kubernetes writes them."""
        t = self.now() if at is None else at
        return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def iso_micro(self, at: float | None = None) -> str:
        """RFC 3339 timestamp with microseconds (MicroTime)."""
        t = self.now() if at is None else at
        return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def wall(self, sim_seconds: float) -> float:
        """How many wall seconds a simulated duration takes."""
        return max(0.0, sim_seconds) / self.speed

    async def sleep(self, sim_seconds: float) -> None:
        """Sleep for a simulated duration."""
        await asyncio.sleep(self.wall(sim_seconds))

    def elapsed(self) -> float:
        """Simulated seconds since the clock started (monotonic)."""
        return (time.monotonic() - self._started) * self.speed

    async def sleep_until(self, sim_at: float) -> None:
        """Sleep until :meth:`elapsed` reaches ``sim_at``.

        Loops that sleep step by step (a probe every period, a program's startup phases)
        schedule against absolute instants: relative sleeps would each add the event
        loop's lag, which at a high speed becomes seconds of simulated time and makes
        the order of two timelines depend on how busy the machine is."""
        await asyncio.sleep(self.wall(sim_at - self.elapsed()))


class Timeline:
    """A sequence of simulated sleeps that does not drift: each one ends at an absolute
    instant, so the lag of one wake-up is not carried into the next."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.at: float | None = None

    async def sleep(self, sim_seconds: float) -> None:
        """Sleep ``sim_seconds`` after the end of the previous sleep (or from now, when the
        timeline was idle for longer than that, e.g. waiting on something else)."""
        now = self.clock.elapsed()
        if self.at is None or self.at + sim_seconds < now:
            self.at = now
        self.at += max(0.0, sim_seconds)
        await self.clock.sleep_until(self.at)
