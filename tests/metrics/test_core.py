"""The metrics core: parsing hostile pages, history in fixed memory, rates and quantiles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmd_console.metrics.catalog import ALL, sample_names
from llmd_console.metrics.derive import bucket_increases, increase, quantile, rate
from llmd_console.metrics.exposition import Labels, NotMetrics, parse
from llmd_console.metrics.history import EndpointHistory, Ring

PAGE = b"""# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-3B-Instruct"} 3.0
# TYPE vllm:prompt_tokens counter
vllm:prompt_tokens_total{engine="0",model_name="Qwen/Qwen2.5-3B-Instruct"} 120.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 1.0
vllm:time_to_first_token_seconds_bucket{le="0.5",model_name="m"} 3.0
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 4.0
vllm:time_to_first_token_seconds_sum{model_name="m"} 2.0
vllm:time_to_first_token_seconds_count{model_name="m"} 4.0
"""


def test_a_page_keeps_only_the_samples_asked_for_and_knows_every_name() -> None:
    page = parse(PAGE, {"vllm:num_requests_running", "vllm:prompt_tokens_total"})
    assert page.samples["vllm:num_requests_running"][0][1] == 3.0
    assert "vllm:time_to_first_token_seconds_bucket" in page.names
    assert "vllm:time_to_first_token_seconds_bucket" not in page.samples
    assert "vllm:prompt_tokens" in page.families


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML page"),
        (b'{"kind":"Status","code":401}', "JSON"),
        (b"\x00\x01garbage {{{ 1 2 3", "not the Prometheus text format"),
    ],
)
def test_what_is_not_a_metrics_page_is_refused_in_words(body: bytes, words: str) -> None:
    with pytest.raises(NotMetrics, match=words):
        parse(body, {"x"})


def test_too_many_samples_are_refused() -> None:
    body = b"".join(b'm{i="%d"} 1\n' % i for i in range(50))
    with pytest.raises(NotMetrics, match="more than 10 samples"):
        parse(body, {"m"}, max_samples=10)


def test_every_catalog_metric_has_names_and_histograms_read_their_buckets() -> None:
    for metric in ALL:
        assert metric.names, metric.key
        if metric.kind == "ratio":
            assert len(metric.per) == len(metric.names), metric.key
        if metric.kind == "histogram":
            assert all(name.endswith("_bucket") for name in sample_names(metric))


def test_ring_keeps_the_newest_values_in_fixed_memory() -> None:
    ring = Ring(3)
    for value in range(5):
        ring.append(float(value))
    assert list(ring) == [2.0, 3.0, 4.0]
    assert ring.tail(2) == [3.0, 4.0]
    assert ring.last() == 4.0
    assert ring.nbytes == 24


def test_a_series_that_appears_late_is_nan_before_never_zero() -> None:
    history = EndpointHistory(capacity=10)
    history.record(1.0, parse(b"a 1\n", {"a", "b"}))
    history.record(2.0, parse(b"a 2\nb 5\n", {"a", "b"}))
    history.record(3.0, parse(b"b 6\n", {"a", "b"}))
    a = list(history.matching("a")[()])
    b = list(history.matching("b")[()])
    assert a[:2] == [1.0, 2.0] and math.isnan(a[2])
    assert math.isnan(b[0]) and b[1:] == [5.0, 6.0]
    assert list(history.times) == [1.0, 2.0, 3.0]


def test_counter_increase_survives_a_restart() -> None:
    assert increase([10.0, 15.0, 3.0, 8.0]) == 5.0 + 3.0 + 5.0
    assert math.isnan(increase([1.0]))
    assert rate([0.0, 2.0, 4.0], [0.0, math.nan, 8.0]) == 2.0


def test_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    buckets = {0.1: 1.0, 0.5: 3.0, math.inf: 4.0}
    # rank 2 of 4 falls in (0.1, 0.5], one of its two observations in: halfway.
    assert quantile(0.5, buckets) == pytest.approx(0.3)
    assert quantile(0.99, buckets) == 0.5  # in +Inf: the largest finite bound
    assert math.isnan(quantile(0.5, {0.1: 0.0, math.inf: 0.0}))
    per_pod: dict[Labels, list[float]] = {
        (("le", "0.1"), ("pod", "a")): [0.0, 1.0],
        (("le", "0.1"), ("pod", "b")): [2.0, 4.0],
    }
    assert bucket_increases(per_pod) == {0.1: 3.0}


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=30), st.floats(0, 1))
def test_quantiles_stay_within_the_finite_bounds(counts: list[float], q: float) -> None:
    bounds = [0.01 * 2**i for i in range(len(counts))]
    cumulative = dict(zip(bounds, sorted(counts), strict=True))
    cumulative[math.inf] = max(counts) + 1
    value = quantile(q, cumulative)
    assert math.isnan(value) or 0.0 <= value <= bounds[-1]


def test_a_counter_born_during_the_window_counts_from_zero() -> None:
    # The series was absent at the first scrape and had 40 at the next: 40 events happened.
    assert math.isnan(increase([math.nan, 40.0]))  # Prometheus's rate() would not see them
    assert increase([math.nan, 40.0, 45.0], born_at_zero=True) == 45.0
    assert rate([0.0, 1.0, 2.0], [math.nan, 40.0, 44.0], born_at_zero=True) == 22.0
    assert increase([3.0, 5.0], born_at_zero=True) == 2.0  # present from the start: as usual
