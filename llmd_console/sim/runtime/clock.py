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
