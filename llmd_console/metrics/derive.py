"""Rates and quantiles from successive scrapes, computed the way Prometheus computes
``rate()`` / ``increase()`` (counter resets) and ``histogram_quantile()`` (linear interpolation
inside the bucket), so that the two sources agree."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def increase(values: Sequence[float], born_at_zero: bool = False) -> float:
    """How much a counter grew over ``values`` (oldest first); a drop is a restart of the
    process, after which the counter counts from zero. NaN points (series absent) are skipped.
    NaN when fewer than two points are known.

    With ``born_at_zero``, a series that is absent at a point and present at a later one was
    created in between, from zero: a labelled counter only exists after its first event, so
    the first errors of a storm count (Prometheus's ``rate()`` misses them)."""
    previous = math.nan
    total = 0.0
    points = 0
    absent_before = False
    for value in values:
        if math.isnan(value):
            absent_before = points == 0 or absent_before
            continue
        points += 1
        if not math.isnan(previous):
            total += value - previous if value >= previous else value
        elif born_at_zero and absent_before:
            total += value
            points += 1  # the absent point counts as a known zero
        previous = value
        absent_before = False
    return total if points >= 2 else math.nan


def rate(times: Sequence[float], values: Sequence[float], born_at_zero: bool = False) -> float:
    """Per-second increase of a counter over the span of the points (NaN if unknown); see
    ``increase`` for ``born_at_zero``."""
    if born_at_zero:
        grown = increase(values, born_at_zero=True)
        span = times[-1] - times[0] if len(times) >= 2 else 0.0
        return grown / span if span > 0 and not math.isnan(grown) else math.nan
    known = [(t, v) for t, v in zip(times, values, strict=True) if not math.isnan(v)]
    if len(known) < 2 or known[-1][0] <= known[0][0]:
        return math.nan
    return increase([v for _, v in known]) / (known[-1][0] - known[0][0])


def _le(labels: Iterable[tuple[str, str]]) -> float | None:
    for key, value in labels:
        if key == "le":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def bucket_increases(
    buckets: Mapping[tuple[tuple[str, str], ...], Sequence[float]], born_at_zero: bool = False
) -> dict[float, float]:
    """The increase of each bucket (by its upper bound ``le``) over the window, summing series
    that differ only in other labels (several pods, several models)."""
    out: dict[float, float] = {}
    for labels, values in buckets.items():
        bound = _le(labels)
        grown = increase(values, born_at_zero)
        if bound is None or math.isnan(grown):
            continue
        out[bound] = out.get(bound, 0.0) + grown
    return out


def quantile(q: float, buckets: Mapping[float, float]) -> float:
    """``histogram_quantile(q, ...)`` over cumulative bucket counts by upper bound: NaN with no
    observations; the largest finite bound when the quantile falls in the +Inf bucket."""
    if not buckets or not 0.0 <= q <= 1.0:
        return math.nan
    bounds = sorted(buckets)
    if not math.isinf(bounds[-1]):
        return math.nan  # a histogram without +Inf is malformed
    # Cumulative counts must not decrease with the bound (they can, from scrapes taken
    # mid-update); Prometheus makes them monotonic the same way.
    counts: list[float] = []
    for bound in bounds:
        counts.append(max(buckets[bound], counts[-1] if counts else 0.0))
    total = counts[-1]
    if total <= 0:
        return math.nan
    rank = q * total
    for i, bound in enumerate(bounds):
        if counts[i] >= rank:
            if math.isinf(bound):
                return bounds[i - 1] if i > 0 else math.nan
            lower = bounds[i - 1] if i > 0 else 0.0
            below = counts[i - 1] if i > 0 else 0.0
            inside = counts[i] - below
            if inside <= 0:
                return bound
            if i == 0 and bound <= 0:
                return bound
            return lower + (bound - lower) * (rank - below) / inside
    return bounds[-2] if len(bounds) > 1 else math.nan
