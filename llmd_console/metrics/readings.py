"""From history to what the pane draws: for each metric, the current value (a gauge's last
value, a counter's rate, a histogram's quantiles over the rate window) and its history over
the chosen span, for the pool or for one pod; or, when there is nothing to show, why.

No data is NaN with a reason, never zero.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from llmd_console.metrics.catalog import BY_KEY, MetricDef
from llmd_console.metrics.derive import bucket_increases, quantile, rate
from llmd_console.metrics.exposition import Labels
from llmd_console.metrics.history import EndpointHistory

QUANTILES = (("p50", 0.5), ("p99", 0.99))


@dataclass(frozen=True)
class Feed:
    """What a metrics source hands the pane after each round: every endpoint's history."""

    vllm: Mapping[str, EndpointHistory]  # by pod key
    epp: Mapping[str, EndpointHistory]
    interval: float  # seconds between scrapes
    at: float | None  # when the last round finished (None: none yet)
    source: str  # in words, for the pane's header

    def of(self, source: str) -> Mapping[str, EndpointHistory]:
        """The endpoints of ``vllm`` or ``epp``."""
        return self.vllm if source == "vllm" else self.epp

    @classmethod
    def split(
        cls, endpoints: Iterable[tuple[str, str, EndpointHistory]], interval: float, at: float | None, source: str
    ) -> Feed:
        """A feed from (pod key, ``vllm`` or ``epp``, history) triples."""
        by_source: dict[str, dict[str, EndpointHistory]] = {"vllm": {}, "epp": {}}
        for key, kind, history in endpoints:
            by_source[kind][key] = history
        return cls(by_source["vllm"], by_source["epp"], interval, at, source)


@dataclass(frozen=True)
class Reading:
    """One line of the pane: a metric (or one of its splits or quantiles) and its values."""

    key: str
    label: str  # "" for the metric itself, else a split value or a quantile ("p99")
    value: float  # now; NaN when there is no data
    points: tuple[float, ...]  # over the span, oldest first, NaN where unknown
    name: str = ""  # the sample name read (which version's name), "" when none
    why: str = ""  # when value is NaN: why


def _present(metric: MetricDef, histories: Sequence[EndpointHistory]) -> tuple[int, str] | None:
    """The newest name generation any endpoint exposes: its index and name."""
    for i, name in enumerate(metric.names):
        wanted = name + "_bucket" if metric.kind == "histogram" else name
        if any(wanted in h.names for h in histories):
            return i, name
    return None


def _family(name: str) -> str:
    return name.removesuffix("_total")


def _no_data(metric: MetricDef, histories: Sequence[EndpointHistory], who: str) -> str:
    if not histories:
        return f"no {who} pod to scrape"
    errors = [h.error for h in histories if h.error]
    if len(errors) == len(histories) and not any(len(h.times) for h in histories):
        return errors[0]
    if not any(len(h.times) for h in histories):
        return "waiting for the first scrape"
    if any(_family(name) in h.families for name in metric.names for h in histories):
        return metric.late or "no series yet"
    if metric.sibling and _present(BY_KEY[metric.sibling], histories) is not None:
        return metric.late
    return f"not emitted by this version (looked for {', '.join(metric.names[:3])})"


def _split_label(labels: Labels, metric: MetricDef) -> str:
    for wanted in metric.split:
        for key, value in labels:
            if key == wanted:
                return value
    return ""


def _tails(history: EndpointHistory, name: str, n: int) -> tuple[list[float], dict[Labels, list[float]]]:
    times = history.times.tail(n)
    return times, {labels: ring.tail(len(times)) for labels, ring in history.matching(name).items()}


def _steps(n: int, points: int) -> list[int]:
    """Indexes (into n values) that end each of at most ``points`` steps."""
    if n <= 0:
        return []
    count = min(points, n)
    return [round((i + 1) * n / count) - 1 for i in range(count)]


def _slot_ends(times: Sequence[float], now: float, span: float, points: int) -> list[int]:
    """For each of ``points`` equal slices of the ``span`` seconds before ``now``, the index of
    the last scrape at or before the slice's end (-1: none yet): a time axis shared with anything
    else drawn over the same span (a load run's client-side figures)."""
    step = span / points
    start = now - span
    return [bisect.bisect_right(times, start + (i + 1) * step) - 1 for i in range(points)]


def _nansum(values: Sequence[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return sum(known) if known else math.nan


class Reader:
    """Reads the catalog's metrics from endpoint histories."""

    def __init__(
        self,
        interval: float,
        rate_window: float = 60.0,
        span: float = 300.0,
        points: int = 60,
        now: float | None = None,
    ) -> None:
        """``rate_window``: seconds behind a rate or quantile now; ``span``: seconds of history drawn,
        as ``points`` points: one per equal slice of time before ``now`` when given (a time axis,
        with NaN before the history starts), else spread over the scrapes there are."""
        self.interval = interval
        self.rate_window = rate_window
        self.span = span
        self.points = points
        self.now = now

    def _gauge_points(self, series: Sequence[float], times: Sequence[float]) -> tuple[float, ...]:
        """A gauge's points: over scrapes, the scrape ending each step; on a time axis, the
        highest value scraped in each slice (a short burst of queueing must not fall between
        two points), the last one again for a slice without a scrape, NaN before the history."""
        if self.now is None:
            return tuple(series[i] for i in _steps(len(series), self.points))
        points: list[float] = []
        previous = -1
        for end in _slot_ends(times, self.now, self.span, self.points):
            if end < 0:
                points.append(math.nan)
            elif end == previous:
                points.append(series[end])
            else:
                known = [v for v in series[previous + 1 : end + 1] if not math.isnan(v)]
                points.append(max(known) if known else math.nan)
            previous = max(previous, end)
        return tuple(points)

    def _spans(self, times: Sequence[float]) -> list[tuple[int, int] | None]:
        """The scrapes (first, last, inclusive) behind each point of a rate or a quantile;
        consecutive points share their boundary scrape (a rate needs both ends). On a time axis a
        slice with no scrape of its own repeats the one before (slices can be shorter than the
        interval), and None marks slices before the history."""
        out: list[tuple[int, int] | None] = []
        if self.now is None:
            start = 0
            for end in _steps(len(times) - 1, self.points):
                out.append((start, end + 1))
                start = end + 1
            return out
        previous = -1
        for end in _slot_ends(times, self.now, self.span, self.points):
            if end < 0:
                out.append(None)
            elif end == previous and out:
                out.append(out[-1])
            else:
                out.append((max(previous, 0), end))
            previous = max(previous, end)
        return out

    def _n(self, seconds: float) -> int:
        return max(2, int(seconds / self.interval) + 1)

    def read(self, metric: MetricDef, histories: Mapping[str, EndpointHistory], who: str) -> list[Reading]:
        """The readings of ``metric`` over the given endpoints (all of a pool, or one pod)."""
        endpoints = list(histories.values())
        found = _present(metric, endpoints)
        if found is None:
            return [Reading(metric.key, "", math.nan, (), why=_no_data(metric, endpoints, who))]
        index, name = found
        if metric.kind == "gauge":
            return self._gauge(metric, name, endpoints)
        if metric.kind == "counter":
            return self._counter(metric, name, endpoints)
        if metric.kind == "ratio":
            return self._ratio(metric, name, metric.per[index], endpoints)
        return self._histogram(metric, name, endpoints)

    # ---- per kind -------------------------------------------------------------------------
    def _by_split(
        self, metric: MetricDef, name: str, endpoints: Sequence[EndpointHistory], n: int
    ) -> dict[str, list[tuple[list[float], list[float]]]]:
        """Per split value: each endpoint's times and values (newest ``n`` points), the values
        summed over the series of one endpoint that share the split value."""
        out: dict[str, list[tuple[list[float], list[float]]]] = {}
        for history in endpoints:
            times, series = _tails(history, name, n)
            per_split: dict[str, list[float]] = {}
            for labels, values in series.items():
                label = _split_label(labels, metric)
                acc = per_split.get(label)
                per_split[label] = values if acc is None else [_nansum(pair) for pair in zip(acc, values, strict=True)]
            for label, values in per_split.items():
                out.setdefault(label, []).append((times, values))
        return out

    def _pool(self, metric: MetricDef, values: Sequence[float]) -> float:
        known = [v for v in values if not math.isnan(v)]
        if not known:
            return math.nan
        if metric.pool == "avg":
            return sum(known) / len(known)
        if metric.pool == "max":
            return max(known)
        return sum(known)

    def _gauge(self, metric: MetricDef, name: str, endpoints: Sequence[EndpointHistory]) -> list[Reading]:
        n = self._n(self.span)
        readings = []
        for label, timed in sorted(self._by_split(metric, name, endpoints, n).items()):
            per_endpoint = [values for _, values in timed]
            width = max(len(v) for v in per_endpoint)
            # Endpoints are scraped in rounds: the i-th newest points belong together.
            aligned = [
                [v[i - width + len(v)] if i - width + len(v) >= 0 else math.nan for v in per_endpoint]
                for i in range(width)
            ]
            series = [self._pool(metric, column) for column in aligned]
            times = max((t for t, _ in timed), key=len)
            points = self._gauge_points(series, times)
            readings.append(Reading(metric.key, label, series[-1] if series else math.nan, points, name))
        return readings

    def _rates(self, per_endpoint: Sequence[tuple[list[float], list[float]]]) -> tuple[float, tuple[float, ...]]:
        """The summed rate now (over the rate window) and per step over the span."""
        window = self._n(self.rate_window)
        now = _nansum([rate(times[-window:], values[-window:], born_at_zero=True) for times, values in per_endpoint])
        steps: list[float] = []
        longest = max((len(times) for times, _ in per_endpoint), default=0)
        axis = max((times for times, _ in per_endpoint), key=len, default=[])
        done: dict[tuple[int, int], float] = {}
        for piece in self._spans(axis):
            if piece is None:
                steps.append(math.nan)
                continue
            if piece not in done:
                first, last = piece
                rates = []
                for times, values in per_endpoint:
                    offset = longest - len(times)
                    a, b = max(0, first - offset), max(0, last + 1 - offset)
                    rates.append(rate(times[a:b], values[a:b], born_at_zero=True))
                done[piece] = _nansum(rates)
            steps.append(done[piece])
        return now, tuple(steps)

    def _counter(self, metric: MetricDef, name: str, endpoints: Sequence[EndpointHistory]) -> list[Reading]:
        readings = []
        for label, per_endpoint in sorted(self._by_split(metric, name, endpoints, self._n(self.span)).items()):
            now, points = self._rates(per_endpoint)
            why = "no rate yet: it takes two scrapes some time apart" if math.isnan(now) else ""
            readings.append(Reading(metric.key, label, now, points, name, why))
        return readings

    def _ratio(self, metric: MetricDef, name: str, per: str, endpoints: Sequence[EndpointHistory]) -> list[Reading]:
        top = self._counter(metric, name, endpoints)
        bottom = self._counter(metric, per, endpoints)
        if not top or not bottom:
            return [Reading(metric.key, "", math.nan, (), name, metric.late)]
        t, b = top[0], bottom[0]
        value = t.value / b.value if b.value and not math.isnan(b.value) else math.nan
        points = tuple(x / y if y and not math.isnan(y) else math.nan for x, y in zip(t.points, b.points, strict=False))
        why = "" if not math.isnan(value) else metric.late
        return [Reading(metric.key, "", value, points, name, why)]

    def _histogram(self, metric: MetricDef, name: str, endpoints: Sequence[EndpointHistory]) -> list[Reading]:
        n = self._n(self.span)
        window = self._n(self.rate_window)
        bucket_name = name + "_bucket"
        tails = [_tails(history, bucket_name, n)[1] for history in endpoints]
        longest = max((len(next(iter(t.values()), [])) for t in tails), default=0)

        def between(a: int, b: int) -> dict[float, float]:
            """Bucket increases between the a-th and b-th newest-aligned points, over every endpoint."""
            merged: dict[float, float] = {}
            for series in tails:
                cut = {}
                for labels, values in series.items():
                    offset = longest - len(values)
                    cut[labels] = values[max(0, a - offset) : max(0, b - offset)]
                for bound, grown in bucket_increases(cut, born_at_zero=True).items():
                    merged[bound] = merged.get(bound, 0.0) + grown
            return merged

        now_buckets = between(longest - window, longest)
        axis = max((_tails(history, bucket_name, n)[0] for history in endpoints), key=len, default=[])
        pieces = self._spans(axis)
        merged = {piece: between(piece[0], piece[1] + 1) for piece in set(pieces) if piece is not None}
        readings = []
        for label, q in QUANTILES:
            points = [quantile(q, merged[piece]) if piece is not None else math.nan for piece in pieces]
            value = quantile(q, now_buckets)
            why = "" if not math.isnan(value) else "no observations in the last " + _seconds(self.rate_window)
            readings.append(Reading(metric.key, label, value, tuple(points), name, why))
        return readings


def _seconds(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
