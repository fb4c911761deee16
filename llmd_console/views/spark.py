"""Sparklines and values as the metrics pane writes them."""

from __future__ import annotations

import math
from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
GAP = " "  # a point with no data: a gap, never a bar at zero


def sparkline(points: Sequence[float], width: int, floor: float | None = 0.0, ceiling: float | None = None) -> str:
    """``points`` as at most ``width`` bars (the newest on the right), scaled from ``floor``
    (or the smallest point when None) to ``ceiling`` (or the largest point when None, or when
    a point is above it); NaN points are gaps."""
    if width <= 0:
        return ""
    points = list(points)[-width:]
    known = [p for p in points if not math.isnan(p)]
    if not known:
        return GAP * len(points)
    low = min(known) if floor is None else min(floor, *known)
    high = max(known) if ceiling is None else max(ceiling, *known)
    span = high - low
    out = []
    for p in points:
        if math.isnan(p):
            out.append(GAP)
        elif span <= 0:
            out.append(BARS[0] if high == 0 else BARS[len(BARS) // 2])
        else:
            out.append(BARS[min(len(BARS) - 1, int((p - low) / span * (len(BARS) - 1) + 0.5))])
    return "".join(out)


def value_text(value: float, unit: str) -> str:
    """A value in its unit: ``ratio`` as a percentage, seconds as ms below one second."""
    if math.isnan(value):
        return "-"
    if unit == "ratio":
        # Small shares keep two decimals: 0.04% of the KV cache is not 0.0%.
        return f"{value * 100:.2f}%" if 0 < value < 0.01 else f"{value * 100:.1f}%"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "/s":
        return f"{value:.1f}/s" if value < 100 else f"{value:,.0f}/s"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
