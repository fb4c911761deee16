"""The endpoint picker's Prometheus metrics as the image the runbook deploys exposes them.

``ghcr.io/llm-d/llm-d-inference-scheduler:v0.6.0`` is built from the inference extension
(GIE) at commit ``fd30cb97714a`` (2026-01-28, between v1.3.0-rc and v1.4.0), with
controller-runtime v0.22.5 and client_golang v1.23.2, by Go 1.25. So: the
``inference_objective_*`` / ``inference_pool_*`` / ``inference_extension_*`` names of that
commit (``scheduler_attempts_total`` labelled by ``status`` only; no
``inference_pool_average_running_requests`` yet), the scheduler's own
``llm_d_inference_scheduler_pd_decision_total``, controller-runtime's ``controller_runtime_*``,
``workqueue_*``, ``rest_client_requests_total`` and ``certwatcher_*``, and the Go and process
collectors.

Go's client differs from Python's in what it writes, and the exposition follows Go: no
``_created`` samples, and a labelled family (a ``*Vec``) that has no series yet is not
written at all, not even its HELP and TYPE lines.
"""

from __future__ import annotations

import re
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from llmd_console.sim.inference.generations import EPP_RELEASES
from llmd_console.sim.inference.go_runtime import GoRuntimeCollector
from llmd_console.sim.inference.process_metrics import GoProcessCollector, Workload

DURATION_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120,
    180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
)  # fmt: skip
SCHEDULER_BUCKETS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
TPOT_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
SIZE_BUCKETS = tuple(float(2**i) for i in range(6, 31))
# Upstream's lists, including the 32778 (not 32768) they carry.
RESPONSE_SIZE_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536)
INPUT_TOKEN_BUCKETS = (
    1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288, 1048576,
)  # fmt: skip
OUTPUT_TOKEN_BUCKETS = (1, *(2**i for i in range(3, 14)))
PREFIX_HIT_BYTES_BUCKETS = (0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
RECONCILE_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
    1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
)  # fmt: skip
# prometheus.ExponentialBuckets(10e-9, 10, 12)
WORKQUEUE_BUCKETS = tuple(1e-8 * 10**i for i in range(12))
MODEL = ("model_name", "target_model_name")
ALPHA = "[ALPHA] "
# The EPP's controllers when only the InferencePool CRD is installed (no InferenceObjective
# or InferenceModelRewrite CRDs): controller-runtime names them after the kind.
CONTROLLERS = ("inferencepool", "pod")
RECONCILE_RESULTS = ("error", "requeue_after", "requeue", "success")
# The llm-d-inference-scheduler image is built without -ldflags for the inference
# extension's version variables, so its info gauge carries empty labels.
BUILD_COMMIT = BUILD_REF = ""
GO_VERSION = "go1.25.7"
_CREATED = re.compile(rb"^(# (HELP|TYPE) )?[a-zA-Z_:][a-zA-Z0-9_:]*_created[{ ]")
_HELP = re.compile(rb"^# HELP (\S+) ")
M = TypeVar("M", Histogram, Gauge)


class EppMetrics:
    """Everything the EPP exposes on its metrics port."""

    def __init__(
        self, pool: str, load: Workload | None = None, gomaxprocs: int = 4, release: str = "inference-scheduler"
    ) -> None:
        self.pool = pool
        # Another release writes some families under other names (see generations.py).
        self.renames = EPP_RELEASES[release]
        self.load = load or Workload()
        self.registry = r = CollectorRegistry()
        # Families that are Go vectors without label names: not written until first used.
        self._unlabelled_vecs: set[str] = set()

        def objective(metric: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(metric, ALPHA + doc, MODEL, buckets=buckets, registry=r)

        def vec_without_labels(metric: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return self._unlabelled(Histogram(metric, ALPHA + doc, buckets=buckets, registry=r))

        def pool_gauge(metric: str, doc: str) -> Gauge:
            return Gauge(metric, ALPHA + doc, ("name",), registry=r)

        self.requests = Counter(
            "inference_objective_request_total",
            ALPHA + "Counter of inference objective requests broken out for each model and target model.",
            MODEL,
            registry=r,
        )
        self.errors = Counter(
            "inference_objective_request_error_total",
            ALPHA + "Counter of inference objective requests errors broken out for each model and target model.",
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
        self.cached_tokens = objective(
            "inference_objective_prompt_cached_tokens",
            "Inference objective prompt cached token count distribution for requests in each model.",
            INPUT_TOKEN_BUCKETS,
        )
        self.running = Gauge(
            "inference_objective_running_requests",
            ALPHA + "Inference objective number of running requests in each model.",
            ("model_name",),
            registry=r,
        )
        self.ntpot = objective(
            "inference_objective_normalized_time_per_output_token_seconds",
            "Inference objective latency divided by number of output tokens in seconds for each model and target "
            "model.",
            TPOT_BUCKETS,
        )
        self.avg_kv = pool_gauge(
            "inference_pool_average_kv_cache_utilization",
            "The average kv cache utilization for an inference server pool.",
        )
        self.avg_queue = pool_gauge(
            "inference_pool_average_queue_size", "The average number of requests pending in the model server queue."
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
        self.scheduler_e2e = vec_without_labels(
            "inference_extension_scheduler_e2e_duration_seconds",
            "End-to-end scheduling latency distribution in seconds.",
            SCHEDULER_BUCKETS,
        )
        self.attempts = Counter(
            "inference_extension_scheduler_attempts_total",
            ALPHA + "Total number of scheduling attempts.",
            ("status",),
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
        Gauge(
            "inference_extension_info",
            ALPHA + "General information of the current build of Inference Extension.",
            ("commit", "build_ref"),
            registry=r,
        ).labels(BUILD_COMMIT, BUILD_REF).set(1)
        self.prefix_size = self._unlabelled(
            Gauge("inference_extension_prefix_indexer_size", ALPHA + "Size of the prefix indexer.", registry=r)
        )
        self.prefix_hit_ratio = vec_without_labels(
            "inference_extension_prefix_indexer_hit_ratio",
            "Ratio of prefix length matched to total prefix length in the cache lookup.",
            tuple(i / 10 for i in range(11)),
        )
        self.prefix_hit_bytes = vec_without_labels(
            "inference_extension_prefix_indexer_hit_bytes",
            "Length of the prefix match in number of bytes in the cache lookup.",
            PREFIX_HIT_BYTES_BUCKETS,
        )
        self.pd_decisions = Counter(
            "llm_d_inference_scheduler_pd_decision_total",
            ALPHA + "Total number of P/D disaggregation decisions made",
            ("model_name", "decision_type"),
            registry=r,
        )
        self._controller_runtime(r)
        r.register(GoProcessCollector(self.load, GO_VERSION, gomaxprocs))
        r.register(GoRuntimeCollector(self.load, gomaxprocs))

    def _controller_runtime(self, r: CollectorRegistry) -> None:
        """controller-runtime v0.22.5's families, initialised per controller as it does."""
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
        terminal = Counter(
            "controller_runtime_terminal_reconcile_errors_total",
            "Total number of terminal reconciliation errors per controller",
            controller,
            registry=r,
        )
        panics = Counter(
            "controller_runtime_reconcile_panics_total",
            "Total number of reconciliation panics per controller",
            controller,
            registry=r,
        )
        self.reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            controller,
            buckets=RECONCILE_BUCKETS,
            registry=r,
        )
        max_concurrent = Gauge(
            "controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller",
            controller,
            registry=r,
        )
        self.active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            controller,
            registry=r,
        )
        name_ctrl = ("name", "controller")
        self.wq_depth = Gauge(
            "workqueue_depth",
            "Current depth of workqueue by workqueue and priority",
            (*name_ctrl, "priority"),
            registry=r,
        )
        self.wq_adds = Counter(
            "workqueue_adds_total", "Total number of adds handled by workqueue", name_ctrl, registry=r
        )
        self.wq_latency, self.wq_work = (
            Histogram(name, doc, name_ctrl, buckets=WORKQUEUE_BUCKETS, registry=r)
            for name, doc in (
                (
                    "workqueue_queue_duration_seconds",
                    "How long in seconds an item stays in workqueue before being requested",
                ),
                ("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes."),
            )
        )
        self.wq_unfinished, self.wq_longest = (
            Gauge(name, doc, name_ctrl, registry=r)
            for name, doc in (
                (
                    "workqueue_unfinished_work_seconds",
                    "How many seconds of work has been done that is in progress and hasn't been observed by "
                    "work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by "
                    "observing the rate at which this increases.",
                ),
                (
                    "workqueue_longest_running_processor_seconds",
                    "How many seconds has the longest running processor for workqueue been running.",
                ),
            )
        )
        self.wq_retries = Counter(
            "workqueue_retries_total", "Total number of retries handled by workqueue", name_ctrl, registry=r
        )
        self.rest_requests = Counter(
            "rest_client_requests_total",
            "Number of HTTP requests, partitioned by status code, method, and host.",
            ("code", "method", "host"),
            registry=r,
        )
        Counter("certwatcher_read_certificate_total", "Total number of certificate reads", registry=r)
        Counter("certwatcher_read_certificate_errors_total", "Total number of certificate read errors", registry=r)
        for kind in CONTROLLERS:
            for result in RECONCILE_RESULTS:
                self.reconcile_total.labels(kind, result)
            for counter in (self.reconcile_errors, terminal, panics):
                counter.labels(kind)
            max_concurrent.labels(kind).set(1)
            self.active_workers.labels(kind).set(0)
            # The priority queue is off by default, so the depth series has an empty priority.
            self.wq_depth.labels(kind, kind, "").set(0)
            self.wq_adds.labels(kind, kind)
            self.wq_retries.labels(kind, kind)
            self.wq_latency.labels(kind, kind)
            self.wq_work.labels(kind, kind)
            self.wq_unfinished.labels(kind, kind).set(0)
            self.wq_longest.labels(kind, kind).set(0)

    def reconciled(self, kind: str, seconds: float, *, ok: bool = True) -> None:
        """One item through a controller's workqueue and reconciler."""
        self.wq_adds.labels(kind, kind).inc()
        self.wq_latency.labels(kind, kind).observe(min(seconds / 10, 0.001))
        self.wq_work.labels(kind, kind).observe(seconds)
        self.reconcile_time.labels(kind).observe(seconds)
        self.reconcile_total.labels(kind, "success" if ok else "error").inc()
        if not ok:
            self.reconcile_errors.labels(kind).inc()
            self.wq_retries.labels(kind, kind).inc()

    def _unlabelled(self, metric: M) -> M:
        """Mark a family that Go registers as a vector with no label names (first written when used)."""
        self._unlabelled_vecs.add(_family_name(metric))
        return metric

    def used(self, metric: Histogram | Gauge) -> None:
        """A vector without label names got its series: write it from now on."""
        self._unlabelled_vecs.discard(_family_name(metric))

    def exposition(self) -> bytes:
        """The Prometheus text format, as client_golang writes it (see the module docstring)."""
        text = bytes(generate_latest(self.registry))
        out: list[bytes] = []
        block: list[bytes] = []
        skip = False
        for line in [*text.splitlines(keepends=True), b"# HELP end-of-exposition \n"]:
            if _CREATED.match(line):
                continue
            help_line = _HELP.match(line)
            if help_line:
                if any(not b.startswith(b"#") for b in block):
                    out.extend(block)
                block = []
                skip = help_line.group(1).decode() in self._unlabelled_vecs
            if not skip:
                block.append(line)
        return self.renames.apply(b"".join(out))


def _family_name(metric: Histogram | Gauge) -> str:
    """The name a family is written under."""
    return str(next(iter(metric.describe())).name)
