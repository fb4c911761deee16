"""vLLM's Prometheus metrics as vLLM 0.11.1 exposes them (``vllm/v1/metrics/loggers.py``,
the HTTP instrumentator of ``vllm/entrypoints/openai/api_server.py``, and prometheus_client's
default process collectors on the global registry a single API server uses): names,
types, labels, help and buckets, through the same client library vLLM uses."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest

from llmd_console.sim.inference.generations import VLLM_RELEASES
from llmd_console.sim.inference.process_metrics import PythonProcessCollector, Workload

TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
ITL_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
REQUEST_LATENCY_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
    960.0, 1920.0, 7680.0,
)  # fmt: skip
ITERATION_TOKEN_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
N_BUCKETS = (1, 2, 5, 10, 20)
# prometheus-fastapi-instrumentator's default() buckets.
HTTP_HIGHR_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60,
)  # fmt: skip
HTTP_LOWR_BUCKETS = (0.1, 0.5, 1)
# Handlers vLLM tells the instrumentator to skip.
HTTP_EXCLUDED = ("/metrics", "/health", "/load", "/ping", "/version", "/server_info")
FINISHED_REASONS = ("stop", "length", "abort")
LABELS = ("model_name", "engine")
PYTHON_VERSION = (3, 12, 3)


def token_buckets(max_model_len: int) -> list[float]:
    """vLLM's 1-2-5 series up to ``max_model_len``."""
    out: list[float] = []
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > max_model_len:
                return out
            out.append(float(value))
        exponent += 1


def tpu_block_size(max_model_len: int, max_num_seqs: int) -> int:
    """The KV page size vLLM 0.11.1 picks on TPU (``PallasAttentionBackend.get_page_size``,
    raised to ``get_min_page_size``): max_model_len split into 16 pages, within [16, 256]."""
    size = 16 if max_model_len > 8192 else min(max(_next_power_of_2(max_model_len) // 16, 16), 256)
    pages_per_request = 1024 * 1024 // 2 // max(max_num_seqs, 1) // 4
    minimum = _next_power_of_2(-(-max_model_len // max(pages_per_request, 1)))
    return max(size, minimum)


def _next_power_of_2(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def cache_config_info(
    block_size: int, num_gpu_blocks: int, gpu_memory_utilization: float, *, prefix_caching: bool = True
) -> dict[str, str]:
    """``CacheConfig.metrics_info()`` of vLLM 0.11.1: every field of the dataclass, in
    declaration order, as ``str(value)``. Values passed on the command line went through
    pydantic (floats print as ``4.0``); ``num_cpu_blocks`` is 0 once the engine started."""
    return {
        "block_size": str(block_size),
        "gpu_memory_utilization": str(float(gpu_memory_utilization)),
        "swap_space": "4.0",
        "cache_dtype": "auto",
        "is_attention_free": "False",
        "num_gpu_blocks_override": "None",
        "sliding_window": "None",
        "enable_prefix_caching": str(prefix_caching),
        "prefix_caching_hash_algo": "sha256",
        "cpu_offload_gb": "0.0",
        "calculate_kv_scales": "False",
        "cpu_kvcache_space_bytes": "None",
        "mamba_page_size_padded": "None",
        "mamba_block_size": "None",
        "mamba_cache_dtype": "auto",
        "mamba_ssm_cache_dtype": "auto",
        "num_gpu_blocks": str(num_gpu_blocks),
        "num_cpu_blocks": "0",
        "kv_sharing_fast_prefill": "False",
        "kv_cache_memory_bytes": "None",
    }


class VllmMetrics:
    """One engine's metrics, ready to be scraped at ``/metrics``."""

    def __init__(
        self,
        model_name: str,
        max_model_len: int,
        cache_info: dict[str, str],
        load: Workload | None = None,
        release: str = "0.11",
    ) -> None:
        self.registry = CollectorRegistry()
        # Other releases write some families under other names, or not at all (generations.py).
        self.renames = VLLM_RELEASES[release]
        r = self.registry
        self.load = load or Workload()
        r.register(PythonProcessCollector(self.load, PYTHON_VERSION))
        lv = (model_name, "0")

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, LABELS, registry=r)

        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, LABELS, registry=r)

        def histogram(name: str, doc: str, buckets: tuple[float, ...] | list[float]) -> Histogram:
            return Histogram(name, doc, LABELS, registry=r, buckets=buckets)

        self.running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.").labels(*lv)
        self.waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.").labels(*lv)
        self.kv_usage = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.").labels(*lv)
        self.prefix_queries = counter(
            "vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens."
        ).labels(*lv)
        self.prefix_hits = counter(
            "vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens."
        ).labels(*lv)
        # Text-only models never query the multi-modal cache, but 0.11.1 registers the counters.
        counter("vllm:mm_cache_queries", "Multi-modal cache queries, in terms of number of queried items.").labels(*lv)
        counter("vllm:mm_cache_hits", "Multi-modal cache hits, in terms of number of cached items.").labels(*lv)
        self.preemptions = counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.").labels(
            *lv
        )
        self.prompt_tokens = counter("vllm:prompt_tokens", "Number of prefill tokens processed.").labels(*lv)
        self.generation_tokens = counter("vllm:generation_tokens", "Number of generation tokens processed.").labels(*lv)
        success = Counter(
            "vllm:request_success",
            "Count of successfully processed requests.",
            (*LABELS, "finished_reason"),
            registry=r,
        )
        self.success = {reason: success.labels(*lv, reason) for reason in FINISHED_REASONS}
        tokens = token_buckets(max_model_len)
        self.request_prompt_tokens = histogram(
            "vllm:request_prompt_tokens", "Number of prefill tokens processed.", tokens
        ).labels(*lv)
        self.request_generation_tokens = histogram(
            "vllm:request_generation_tokens", "Number of generation tokens processed.", tokens
        ).labels(*lv)
        self.iteration_tokens = histogram(
            "vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", ITERATION_TOKEN_BUCKETS
        ).labels(*lv)
        self.request_max_generation_tokens = histogram(
            "vllm:request_max_num_generation_tokens",
            "Histogram of maximum number of requested generation tokens.",
            tokens,
        ).labels(*lv)
        self.request_n = histogram("vllm:request_params_n", "Histogram of the n request parameter.", N_BUCKETS).labels(
            *lv
        )
        self.request_max_tokens = histogram(
            "vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", tokens
        ).labels(*lv)
        self.ttft = histogram(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_BUCKETS
        ).labels(*lv)
        # Deprecated in 0.11 (renamed inter_token_latency_seconds) but still emitted by 0.11.x.
        self.tpot_deprecated = histogram(
            "vllm:time_per_output_token_seconds",
            "Histogram of time per output token in seconds.DEPRECATED: Use vllm:inter_token_latency_seconds instead.",
            ITL_BUCKETS,
        ).labels(*lv)
        self.itl = histogram(
            "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", ITL_BUCKETS
        ).labels(*lv)
        self.tpot = histogram(
            "vllm:request_time_per_output_token_seconds",
            "Histogram of time_per_output_token_seconds per request.",
            ITL_BUCKETS,
        ).labels(*lv)
        self.e2e = histogram(
            "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQUEST_LATENCY_BUCKETS
        ).labels(*lv)
        self.queue_time = histogram(
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(*lv)
        self.inference_time = histogram(
            "vllm:request_inference_time_seconds",
            "Histogram of time spent in RUNNING phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(*lv)
        self.prefill_time = histogram(
            "vllm:request_prefill_time_seconds",
            "Histogram of time spent in PREFILL phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(*lv)
        self.decode_time = histogram(
            "vllm:request_decode_time_seconds",
            "Histogram of time spent in DECODE phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(*lv)
        info = Gauge(
            "vllm:cache_config_info",
            "Information of the LLMEngine CacheConfig",
            (*cache_info, "engine"),
            registry=r,
        )
        info.labels(*cache_info.values(), "0").set(1)
        self._http_metrics(r)

    def _http_metrics(self, r: CollectorRegistry) -> None:
        """prometheus-fastapi-instrumentator's default() families, as vLLM mounts them."""
        self.http_total = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ("method", "status", "handler"),
            registry=r,
        )
        doc = "Only value of header is respected. Otherwise ignored. No percentile calculated. "
        self.http_in = Summary(
            "http_request_size_bytes",
            "Content length of incoming requests by handler. " + doc,
            ("handler",),
            registry=r,
        )
        self.http_out = Summary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler. " + doc,
            ("handler",),
            registry=r,
        )
        self.http_highr = Histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
            buckets=HTTP_HIGHR_BUCKETS,
            registry=r,
        )
        self.http_lowr = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
            ("method", "handler"),
            buckets=HTTP_LOWR_BUCKETS,
            registry=r,
        )

    def observe_http(
        self, method: str, handler: str | None, status: int, request_bytes: int, response_bytes: int, seconds: float
    ) -> None:
        """One request, as the instrumentator records it: ``handler`` is the route template
        (None for a path no route matches, counted as ``none``); status grouped as ``2xx``."""
        if handler in HTTP_EXCLUDED:
            return
        name = handler or "none"
        self.http_total.labels(method, f"{str(status)[0]}xx", name).inc()
        self.http_in.labels(name).observe(request_bytes)
        self.http_out.labels(name).observe(response_bytes)
        self.http_highr.observe(seconds)
        self.http_lowr.labels(method, name).observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text format body."""
        return self.renames.apply(bytes(generate_latest(self.registry)))
