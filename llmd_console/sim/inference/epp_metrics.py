"""The endpoint picker's Prometheus metrics (inference extension v1.1+ names) and
the controller-runtime metrics the runbook greps for."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

DURATION_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
    180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
)  # fmt: skip
SCHEDULER_BUCKETS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
TPOT_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
SIZE_BUCKETS = tuple(float(2**i) for i in range(6, 31))
RESPONSE_SIZE_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536)
INPUT_TOKEN_BUCKETS = (1, *(2**i for i in range(3, 21)))
OUTPUT_TOKEN_BUCKETS = (1, *(2**i for i in range(3, 14)))
MODEL = ("model_name", "target_model_name")
ALPHA = "[ALPHA] "
_CREATED = re.compile(rb"^(# (HELP|TYPE) )?[a-zA-Z_:][a-zA-Z0-9_:]*_created[{ ]")


class EppMetrics:
    """Everything the EPP exposes on its metrics port."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        self.registry = r = CollectorRegistry()

        def objective(metric: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(metric, ALPHA + doc, MODEL, buckets=buckets, registry=r)

        def pool_gauge(metric: str, doc: str) -> Gauge:
            return Gauge(metric, ALPHA + doc, ("name",), registry=r).labels(pool)

        self.requests = Counter(
            "inference_objective_request_total", ALPHA + "Counter of inference objective requests.", MODEL, registry=r
        )
        self.errors = Counter(
            "inference_objective_request_error_total",
            ALPHA + "Counter of inference objective requests errors.",
            (*MODEL, "error_code"),
            registry=r,
        )
        self.duration = objective(
            "inference_objective_request_duration_seconds",
            "Inference objective response latency distribution in seconds for each model and target model.",
            DURATION_BUCKETS,
        )
        self.request_sizes = objective(
            "inference_objective_request_sizes",
            "Inference objective requests size distribution in bytes for each model and target model.",
            SIZE_BUCKETS,
        )
        self.response_sizes = objective(
            "inference_objective_response_sizes",
            "Inference objective responses size distribution in bytes for each model and target model.",
            RESPONSE_SIZE_BUCKETS,
        )
        self.input_tokens = objective(
            "inference_objective_input_tokens",
            "Inference objective input token count distribution for requests in each model.",
            INPUT_TOKEN_BUCKETS,
        )
        self.output_tokens = objective(
            "inference_objective_output_tokens",
            "Inference objective output token count distribution for requests in each model.",
            OUTPUT_TOKEN_BUCKETS,
        )
        self.running = Gauge(
            "inference_objective_running_requests",
            ALPHA + "Inference objective number of running requests in each model.",
            ("model_name",),
            registry=r,
        )
        self.ntpot = objective(
            "inference_objective_normalized_time_per_output_token_seconds",
            "Inference objective latency divided by number of output tokens in seconds for each model.",
            TPOT_BUCKETS,
        )
        self.avg_kv = pool_gauge(
            "inference_pool_average_kv_cache_utilization",
            "The average kv cache utilization for an inference server pool.",
        )
        self.avg_queue = pool_gauge(
            "inference_pool_average_queue_size", "The average number of requests pending in the model server queue."
        )
        self.avg_running = pool_gauge(
            "inference_pool_average_running_requests",
            "The average number of running requests across the model servers.",
        )
        self.ready_pods = pool_gauge(
            "inference_pool_ready_pods", "The number of ready pods in the inference server pool."
        )
        self.per_pod_queue = Gauge(
            "inference_pool_per_pod_queue_size",
            ALPHA + "The total number of requests pending in the model server queue for each underlying pod.",
            ("name", "model_server_pod"),
            registry=r,
        )
        self.scheduler_e2e = Histogram(
            "inference_extension_scheduler_e2e_duration_seconds",
            ALPHA + "End-to-end scheduling latency distribution in seconds.",
            buckets=SCHEDULER_BUCKETS,
            registry=r,
        )
        self.plugin_duration = Histogram(
            "inference_extension_plugin_duration_seconds",
            ALPHA + "Plugin processing latency distribution in seconds for each extension point, plugin type and "
            "plugin name.",
            ("extension_point", "plugin_type", "plugin_name"),
            buckets=SCHEDULER_BUCKETS,
            registry=r,
        )
        self.attempts = Counter(
            "inference_extension_scheduler_attempts_total",
            ALPHA + "Total number of scheduling attempts.",
            ("status", "target_model_name", "pod_name", "namespace", "port"),
            registry=r,
        )
        self.prefix_size = Gauge(
            "inference_extension_prefix_indexer_size", ALPHA + "Size of the prefix indexer.", registry=r
        )
        self.prefix_hit_ratio = Histogram(
            "inference_extension_prefix_indexer_hit_ratio",
            ALPHA + "Ratio of prefix length matched to total prefix length in the cache lookup.",
            buckets=tuple(i / 10 for i in range(11)),
            registry=r,
        )
        Gauge(
            "inference_extension_info",
            ALPHA + "General information of the current build.",
            ("commit", "build_ref"),
            registry=r,
        ).labels("a7c2b1e", "v0.6.0").set(1)
        controller = ("controller",)
        self.reconcile_total = Counter(
            "controller_runtime_reconcile_total",
            "Total number of reconciliations per controller",
            (*controller, "result"),
            registry=r,
        )
        self.reconcile_errors = Counter(
            "controller_runtime_reconcile_errors_total",
            "Total number of reconciliation errors per controller",
            controller,
            registry=r,
        )
        self.active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            controller,
            registry=r,
        )
        for kind in ("inferencepool", "pod"):
            self.reconcile_errors.labels(kind)
            self.active_workers.labels(kind).set(0)

    def exposition(self) -> bytes:
        """The Prometheus text format body (the EPP is written in Go, whose client sends no ``_created`` samples)."""
        text = bytes(generate_latest(self.registry))
        return b"".join(line for line in text.splitlines(keepends=True) if not _CREATED.match(line))
