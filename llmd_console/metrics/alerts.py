"""llm-d's alerts, evaluated live on whatever the metrics source holds.

The rules are llm-d's own (its alerting guide): the EPP's error ratio above 5 % for 10 minutes
(warning) and above 20 % for 5 minutes (critical), no ready endpoints for 2 minutes, the EPP's
metrics absent for 5 minutes; and the model server's: KV cache above 90 % sustained, the
waiting queue growing, preemptions rising. As in Prometheus, a rule fires once its condition
has held for its whole ``for`` duration, and clears as soon as it stops holding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from llmd_console.config import AlertsConfig
from llmd_console.metrics.catalog import BY_KEY, MetricDef
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed, Reader, Reading

Severity = str  # "warning" | "critical"


@dataclass(frozen=True)
class Alert:
    """A rule whose condition holds: pending until it has held for its window, then firing."""

    key: str
    severity: Severity
    summary: str  # what is wrong, with the value
    since: float  # when the condition started to hold
    firing: bool


Condition = Callable[[Feed, Reader], tuple[bool, str]]


def _value(feed: Feed, reader: Reader, key: str, label: str = "") -> float:
    metric = BY_KEY[key]
    readings: list[Reading] = reader.read(metric, feed.of(metric.source), metric.source)
    values = [r.value for r in readings if (r.label == label or not label) and not math.isnan(r.value)]
    return sum(values) if values else math.nan


def _error_ratio(feed: Feed, reader: Reader) -> float:
    errors = _value(feed, reader, "epp_errors")
    requests = _value(feed, reader, "epp_requests")
    if math.isnan(requests) or requests <= 0:
        return math.nan
    return (0.0 if math.isnan(errors) else errors) / requests


def _error_ratio_above(limit: float) -> Condition:
    def check(feed: Feed, reader: Reader) -> tuple[bool, str]:
        ratio = _error_ratio(feed, reader)
        return (not math.isnan(ratio) and ratio > limit), f"EPP error ratio {ratio:.0%} (above {limit:.0%})"

    return check


def _no_ready_endpoints(feed: Feed, reader: Reader) -> tuple[bool, str]:
    ready = _value(feed, reader, "epp_ready")
    return ready == 0, "the InferencePool has no ready endpoint: requests fail"


def _epp_absent(feed: Feed, reader: Reader) -> tuple[bool, str]:
    del reader
    working = [h for h in feed.epp.values() if not h.error and len(h.times)]
    if working:
        return False, ""
    why = next((h.error for h in feed.epp.values() if h.error), "no EPP pod to scrape")
    return True, f"the EPP's metrics are absent: {why}"


def _kv_high(feed: Feed, reader: Reader) -> tuple[bool, str]:
    kv = _value(feed, reader, "kv_cache")
    return (not math.isnan(kv) and kv > 0.9), f"KV cache at {kv:.0%} (above 90%): requests will queue or be preempted"


def _queue_growing(feed: Feed, reader: Reader) -> tuple[bool, str]:
    readings = reader.read(BY_KEY["waiting"], feed.vllm, "model server")
    points = [p for r in readings for p in r.points if not math.isnan(p)]
    if len(points) < 4:
        return False, ""
    half = len(points) // 2
    before, after = sum(points[:half]) / half, sum(points[half:]) / (len(points) - half)
    return (after > before and points[-1] > 0), f"the waiting queue is growing ({before:.1f} -> {after:.1f})"


def _preempting(feed: Feed, reader: Reader) -> tuple[bool, str]:
    rate = _value(feed, reader, "preemptions")
    return (not math.isnan(rate) and rate > 0), f"vLLM is preempting requests ({rate:.2f}/s): the KV cache is full"


@dataclass(frozen=True)
class Rule:
    """One alert rule."""

    key: str
    severity: Severity
    window: str  # the AlertsConfig field giving its ``for`` duration
    condition: Condition


RULES = (
    Rule("epp_errors_critical", "critical", "error_ratio_critical", _error_ratio_above(0.20)),
    Rule("epp_errors_warning", "warning", "error_ratio_warning", _error_ratio_above(0.05)),
    Rule("no_ready_endpoints", "critical", "no_ready_endpoints", _no_ready_endpoints),
    Rule("epp_metrics_absent", "warning", "epp_metrics_absent", _epp_absent),
    Rule("kv_cache_high", "warning", "kv_cache_high", _kv_high),
    Rule("queue_growing", "warning", "queue_growing", _queue_growing),
    Rule("preemptions", "warning", "preemptions", _preempting),
)


class _OncePerRound(Reader):
    """A reader for one evaluation: a metric several rules ask for (the error ratio's two
    counters, for both of its rules) is computed once."""

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader.interval, reader.rate_window, reader.span, reader.points)
        self._done: dict[tuple[str, int, str], list[Reading]] = {}

    def read(self, metric: MetricDef, histories: Mapping[str, EndpointHistory], who: str) -> list[Reading]:
        """As ``Reader.read``, remembered for the rest of the evaluation."""
        key = (metric.key, id(histories), who)
        if key not in self._done:
            self._done[key] = super().read(metric, histories, who)
        return self._done[key]


@dataclass
class AlertEngine:
    """Keeps, per rule, since when its condition holds; ``evaluate`` after every round."""

    windows: AlertsConfig = field(default_factory=AlertsConfig)
    _since: dict[str, float] = field(default_factory=dict)

    def evaluate(self, feed: Feed, reader: Reader, now: float) -> list[Alert]:
        """The rules whose condition holds now: firing once held for their window, else pending."""
        alerts = []
        reader = _OncePerRound(reader)
        for rule in RULES:
            holds, summary = rule.condition(feed, reader)
            if not holds:
                self._since.pop(rule.key, None)
                continue
            since = self._since.setdefault(rule.key, now)
            firing = now - since >= getattr(self.windows, rule.window)
            alerts.append(Alert(rule.key, rule.severity, summary, since, firing))
        # The critical error ratio covers the warning one: say it once.
        keys = {a.key for a in alerts if a.firing}
        return [a for a in alerts if not (a.key == "epp_errors_warning" and "epp_errors_critical" in keys)]
