"""Every metric the console shows, defined once, with its names across vLLM's and the EPP's
versions (newest first: the first name an endpoint exposes is the one read).

Names are facts from the upstream projects: vLLM renamed ``gpu_cache_usage_perc`` to
``kv_cache_usage_perc`` and ``time_per_output_token_seconds`` to ``inter_token_latency_seconds``;
the EPP's names went ``inference_model_*`` -> ``inference_objective_*`` / ``inference_pool_*`` /
``inference_extension_*`` -> ``llm_d_inference_scheduler_*`` -> ``llm_d_epp_*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["gauge", "counter", "histogram", "ratio"]
Source = Literal["vllm", "epp"]
Pool = Literal["sum", "avg", "max"]


@dataclass(frozen=True)
class MetricDef:
    """One metric as the console shows it.

    Attributes:
        key: Identifies the metric (stable across versions).
        title: What the pane calls it.
        source: Who exposes it: the model server (vLLM) or the endpoint picker (EPP).
        kind: A gauge is shown as is; a counter as its rate per second; a histogram as quantiles;
            a ratio as rate(names) / rate(per).
        names: Sample names, newest generation first (counters with ``_total``, histograms
            without ``_bucket``).
        unit: How the value is written: ``ratio`` (0-1, shown as %), ``/s``, ``s``, ``count``.
        pool: How the pods' values make the pool's.
        split: Labels whose values are shown as separate lines (finish reason, error code), by
            their names across versions (the first one a series carries is used).
        per: For a ratio, the denominator's names (same generations, same order).
        late: Why the metric may have no series yet although the endpoint is fine (a counter
            with labels has none until its first event; a Go binary does not even write its
            family until then).
        sibling: A metric the same endpoint always exposes: when it is there and this one is
            not, this one is ``late`` rather than not emitted by the version.
    """

    key: str
    title: str
    source: Source
    kind: Kind
    names: tuple[str, ...]
    unit: str
    pool: Pool = "sum"
    split: tuple[str, ...] = ()
    per: tuple[str, ...] = ()
    late: str = ""
    sibling: str = ""


def _epp(suffix: str, *older: str) -> tuple[str, ...]:
    """The current ``llm_d_epp_`` name, the router's documented ``llm_d_router_epp_`` one, the
    scheduler-era name, then older ones."""
    return (f"llm_d_epp_{suffix}", f"llm_d_router_epp_{suffix}", f"llm_d_inference_scheduler_{suffix}", *older)


VLLM: tuple[MetricDef, ...] = (
    MetricDef("running", "running requests", "vllm", "gauge", ("vllm:num_requests_running",), "count"),
    MetricDef("waiting", "waiting requests", "vllm", "gauge", ("vllm:num_requests_waiting",), "count"),
    MetricDef(
        "kv_cache",
        "KV-cache usage",
        "vllm",
        "gauge",
        ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        "ratio",
        pool="avg",
    ),
    MetricDef(
        "prefix_hit",
        "prefix-cache hit rate",
        "vllm",
        "ratio",
        ("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"),
        "ratio",
        per=("vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"),
        late="no prefix-cache lookups yet",
    ),
    MetricDef("preemptions", "preemptions", "vllm", "counter", ("vllm:num_preemptions_total",), "/s"),
    MetricDef("prompt_tps", "prompt tokens/s", "vllm", "counter", ("vllm:prompt_tokens_total",), "/s"),
    MetricDef("gen_tps", "generation tokens/s", "vllm", "counter", ("vllm:generation_tokens_total",), "/s"),
    MetricDef(
        "finished",
        "finished requests/s",
        "vllm",
        "counter",
        ("vllm:request_success_total",),
        "/s",
        split=("finished_reason",),
        late="no request has finished yet",
    ),
    MetricDef("ttft", "TTFT", "vllm", "histogram", ("vllm:time_to_first_token_seconds",), "s"),
    MetricDef(
        "itl",
        "inter-token latency",
        "vllm",
        "histogram",
        ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
        "s",
    ),
    MetricDef("e2e", "end-to-end latency", "vllm", "histogram", ("vllm:e2e_request_latency_seconds",), "s"),
    MetricDef("queue_time", "queue time", "vllm", "histogram", ("vllm:request_queue_time_seconds",), "s"),
)

EPP: tuple[MetricDef, ...] = (
    MetricDef(
        "epp_requests",
        "requests/s",
        "epp",
        "counter",
        _epp("request_total", "inference_objective_request_total", "inference_model_request_total"),
        "/s",
        late="no request has reached the picker yet",
        sibling="epp_ready",
    ),
    MetricDef(
        "epp_errors",
        "errors/s",
        "epp",
        "counter",
        _epp("request_error_total", "inference_objective_request_error_total", "inference_model_request_error_total"),
        "/s",
        split=("error_code",),
        late="not emitted until the first error",
        sibling="epp_ready",
    ),
    MetricDef(
        "epp_duration",
        "request duration",
        "epp",
        "histogram",
        _epp(
            "request_duration_seconds",
            "inference_objective_request_duration_seconds",
            "inference_model_request_duration_seconds",
        ),
        "s",
        late="no request has reached the picker yet",
        sibling="epp_ready",
    ),
    MetricDef(
        "epp_scheduling",
        "scheduling latency",
        "epp",
        "histogram",
        _epp("scheduler_e2e_duration_seconds", "inference_extension_scheduler_e2e_duration_seconds"),
        "s",
        late="nothing scheduled yet",
        sibling="epp_ready",
    ),
    MetricDef(
        "epp_kv",
        "pool KV-cache utilisation",
        "epp",
        "gauge",
        _epp("average_kv_cache_utilization", "inference_pool_average_kv_cache_utilization"),
        "ratio",
        pool="avg",
    ),
    MetricDef(
        "epp_queue",
        "pool queue size",
        "epp",
        "gauge",
        _epp("average_queue_size", "inference_pool_average_queue_size"),
        "count",
        pool="avg",
    ),
    MetricDef(
        "epp_ready",
        "ready endpoints",
        "epp",
        "gauge",
        _epp("ready_endpoints", "inference_pool_ready_pods"),
        "count",
        pool="max",
    ),
    MetricDef(
        "epp_endpoint_queue",
        "queue per endpoint",
        "epp",
        "gauge",
        _epp("per_endpoint_queue_size", "inference_pool_per_pod_queue_size"),
        "count",
        split=("model_server_endpoint", "model_server_pod"),
    ),
)

ALL: tuple[MetricDef, ...] = VLLM + EPP
BY_KEY = {metric.key: metric for metric in ALL}


def sample_names(metric: MetricDef) -> tuple[str, ...]:
    """Every sample name a metric may be read from (histograms through their buckets)."""
    names = metric.names + metric.per
    if metric.kind == "histogram":
        return tuple(f"{name}_bucket" for name in names)
    return names
