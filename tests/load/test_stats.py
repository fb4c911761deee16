"""Live statistics: quantiles within the histogram's precision, counts, goodput, the stalled
state and the per-second series, on clocks the test moves."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from llmd_console.load.histogram import LatencyHistogram
from llmd_console.load.settings import Slo
from llmd_console.load.stats import LiveStats, RequestRecord


@given(st.lists(st.floats(min_value=1e-4, max_value=600, allow_nan=False), min_size=1, max_size=300))
def test_quantiles_are_within_one_percent_of_the_exact_ones(values: list[float]) -> None:
    h = LatencyHistogram()
    for v in values:
        h.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99):
        exact = ordered[max(1, math.ceil(q * len(ordered))) - 1]
        got = h.quantile(q)
        assert got is not None and abs(got - exact) <= 0.011 * exact
    assert h.count == len(values) and h.max == max(values)


def test_empty_histogram_and_bad_values() -> None:
    h = LatencyHistogram()
    assert h.quantile(0.5) is None and h.mean is None
    h.add(float("nan"))
    h.add(-1.0)
    assert h.count == 0


class Clocks:
    """A wall clock and a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def wall(self) -> float:
        return self.t

    def mono(self) -> float:
        return self.t - 1_000_000_000.0


def record(index: int, *, ttft: float = 0.05, itl: float = 0.01, failure: str | None = None) -> RequestRecord:
    ok = failure is None
    return RequestRecord(
        index=index,
        request_id=f"t-{index + 1}",
        sent_at=0.0,
        status=200 if ok else 500,
        failure=failure,
        ttft=ttft if ok else None,
        itl_p50=itl if ok else None,
        itl_p99=itl if ok else None,
        e2e=ttft + 3 * itl if ok else 0.01,
        prompt_tokens=4,
        output_tokens=4 if ok else 0,
        finish_reason="length" if ok else None,
        served_by=None,
        stalled=failure == "stalled",
    )


def test_counts_goodput_and_errors() -> None:
    clocks = Clocks()
    stats = LiveStats(Slo(ttft=0.1, itl=0.02), quiet_seconds=2, wall=clocks.wall, mono=clocks.mono)
    for i in range(6):
        stats.started(i)
    for _ in range(4):
        stats.token(0)
    clocks.t += 1
    stats.ended(record(0), [0.01, 0.01, 0.01])
    stats.ended(record(1, ttft=0.5), [0.01])  # ok but too slow to count as good
    stats.ended(record(2, itl=0.05), [0.05])  # its gaps miss the ITL SLO
    stats.ended(record(3, failure="no_route"), [])
    stats.ended(record(4, failure="cancelled"), [])
    clocks.t += 1
    s = stats.snapshot()
    assert (s.sent, s.completed, s.ok, s.failed, s.cancelled, s.in_flight) == (6, 4, 3, 1, 1, 1)
    assert s.errors == {"no_route": 1}
    assert s.good == 1 and s.goodput == 1 / 2
    assert s.error_ratio == 1 / 4
    assert s.ttft.p50 is not None and abs(s.ttft.p50 - 0.05) < 0.001
    assert s.itl.p99 is not None and abs(s.itl.p99 - 0.05) < 0.001
    assert s.output_tokens == 4
    assert [(p.completed, p.errors, p.good, p.tokens) for p in s.series] == [(0, 0, 0, 4), (4, 1, 1, 0)]
    assert s.series[1].at == s.series[0].at + 1


def test_in_flight_request_without_tokens_shows_as_stalled() -> None:
    clocks = Clocks()
    stats = LiveStats(Slo(0.2, 0.05), quiet_seconds=2, wall=clocks.wall, mono=clocks.mono)
    stats.started(0)
    stats.started(1)
    clocks.t += 1.5
    stats.token(1)
    assert stats.snapshot().stalled == 0
    clocks.t += 1
    assert stats.snapshot().stalled == 1  # 0 has been silent for 2.5 s, 1 for 1 s
    stats.ended(record(0, failure="stalled"), [])
    s = stats.snapshot()
    assert (s.stalled, s.in_flight, s.errors) == (0, 1, {"stalled": 1})


def test_rates_are_over_the_last_full_seconds() -> None:
    clocks = Clocks()
    stats = LiveStats(Slo(0.2, 0.05), wall=clocks.wall, mono=clocks.mono)
    for second in range(8):
        for _ in range(10):
            stats.token(0)
        stats.ended(record(second), [])
        clocks.t += 1
    s = stats.snapshot()
    assert s.tokens_per_second == 10 and s.requests_per_second == 1
    assert len(stats.snapshot(points=3).series) == 3
