"""A fixed-memory latency histogram: logarithmic buckets 1% wide from 10 us to an hour, so
quantiles over any number of values cost the same small, bounded work."""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import accumulate

_LOW = 1e-5  # seconds; smaller values share the first bucket
_GROWTH = 1.01
_LOG_GROWTH = math.log(_GROWTH)
_BUCKETS = math.ceil(math.log(3600.0 / _LOW) / _LOG_GROWTH) + 1


class LatencyHistogram:
    """Counts of durations (seconds) in buckets; quantiles within 1% of the true value."""

    __slots__ = ("_counts", "count", "max", "min", "total")

    def __init__(self) -> None:
        """An empty histogram."""
        self._counts = [0] * _BUCKETS
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = 0.0

    def add(self, seconds: float) -> None:
        """Count one duration (negative and NaN values are ignored: a clock went backwards)."""
        if not seconds >= 0:
            return
        index = 0 if seconds <= _LOW else min(_BUCKETS - 1, int(math.log(seconds / _LOW) / _LOG_GROWTH) + 1)
        self._counts[index] += 1
        self.count += 1
        self.total += seconds
        self.min = min(self.min, seconds)
        self.max = max(self.max, seconds)

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0-1; nearest rank), or None when empty."""
        return self.quantiles(q)[0]

    def quantiles(self, *qs: float) -> list[float | None]:
        """Several quantiles in one pass over the buckets (the cumulative counts are summed in C)."""
        if not self.count:
            return [None] * len(qs)
        cumulative = list(accumulate(self._counts))
        out: list[float | None] = []
        for q in qs:
            index = bisect_left(cumulative, max(1, math.ceil(q * self.count)))
            if index == 0:
                out.append(min(self.max, _LOW))
            else:
                # The bucket's geometric middle, clamped to what was actually seen.
                middle: float = _LOW * _GROWTH ** (index - 0.5)
                out.append(min(self.max, max(self.min, middle)))
        return out

    @property
    def mean(self) -> float | None:
        """The mean, or None when empty."""
        return self.total / self.count if self.count else None
