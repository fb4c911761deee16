"""A load run's per-second series on the metrics pane's time axis: the same span and the
same number of points as the server's metrics beside it, so client and server line up."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from llmd_console.load.stats import SeriesPoint


def on_axis(
    series: Sequence[SeriesPoint],
    value: Callable[[SeriesPoint], float],
    *,
    now: float,
    span: float,
    points: int,
    started_at: float,
    ended_at: float | None,
) -> list[float]:
    """``value`` per second, averaged over each of ``points`` equal slices of the ``span``
    seconds before ``now``; NaN for a slice wholly outside the run (no load is not zero load,
    but before the run started it is no data)."""
    if points <= 0 or span <= 0:
        return []
    step = span / points
    start = now - span
    end = now if ended_at is None else ended_at
    sums = [0.0] * points
    for point in series:
        # A second's count is spread over the slices it overlaps (a slice may be shorter than a second).
        lo, hi = float(point.at), float(point.at) + 1.0
        first, last = max(0, int((lo - start) // step)), min(points - 1, int((hi - start) // step))
        amount = value(point)
        for index in range(first, last + 1):
            a, b = start + index * step, start + (index + 1) * step
            overlap = min(b, hi) - max(a, lo)
            if overlap > 0:
                sums[index] += amount * overlap
    out = []
    for i in range(points):
        lo, hi = start + i * step, start + (i + 1) * step
        out.append(math.nan if hi <= started_at or lo >= end + 1 else sums[i] / step)
    return out
