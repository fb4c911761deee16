"""The console's configuration: typed, documented, validated.

Defaults are the runbook's Pattern 1 on GKE TPU v6e; the top-level ``config.yaml``
spells out every field with these values. A user file is read from ``--config``,
``$LLMD_CONSOLE_CONFIG`` or ``$XDG_CONFIG_HOME/llmd-console/config.yaml``; fields it
leaves out keep their defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from llmd_console.yamlschema import SchemaError, load_file

ENV_VAR = "LLMD_CONSOLE_CONFIG"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/llmd-console`` (user config and user layouts)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "llmd-console"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class ClusterConfig:
    """Which cluster and namespace to open."""

    context: str | None = field(default=None, metadata=_doc("kubeconfig context; null uses the current one"))
    namespace: str = field(default="llm-d-inference-scheduling", metadata=_doc("namespace of the llm-d stack"))
    request_timeout_seconds: float = field(default=10.0, metadata=_doc("timeout of one API request"))

    def __post_init__(self) -> None:
        if not 0 < self.request_timeout_seconds <= 600:  # also refuses NaN and infinity
            raise ValueError("request_timeout_seconds must be a number of seconds between 0 and 600")


@dataclass(frozen=True)
class ResourcesConfig:
    """Names of the Pattern 1 objects the gateway path and the actions work on."""

    gateway: str = field(default="infra-pattern1-inference-gateway", metadata=_doc("the Gateway"))
    http_route: str = field(default="pattern1-route", metadata=_doc("the HTTPRoute to the pool"))
    inference_pool: str = field(default="gaie-pattern1", metadata=_doc("the InferencePool"))
    epp: str = field(default="gaie-pattern1-epp", metadata=_doc("EPP Deployment and Service"))
    decode_deployment: str = field(
        default="ms-pattern1-llm-d-modelservice-decode", metadata=_doc("the vLLM decode Deployment")
    )


@dataclass(frozen=True)
class GkeConfig:
    """The GKE cluster for node-pool views and actions."""

    project: str = field(default="ecoeng-llmd", metadata=_doc("Google Cloud project"))
    location: str = field(default="europe-west4-a", metadata=_doc("zone or region of the cluster"))
    cluster: str = field(default="tpu-test-cluster", metadata=_doc("GKE cluster name"))
    accelerator_pool: str = field(default="tpu-v6e-pool", metadata=_doc("the TPU (or GPU) node pool"))
    cpu_pool: str = field(default="default-pool", metadata=_doc("the CPU node pool for the EPP"))
    endpoint: str = field(
        default="", metadata=_doc("the Container API's base URL; empty: https://container.googleapis.com/")
    )
    auth: str = field(
        default="auto",
        metadata=_doc("auto | adc | gcloud | none: application default credentials, gcloud's token, or no token"),
    )

    def __post_init__(self) -> None:
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise ValueError("endpoint must start with http:// or https://")
        if self.auth not in ("auto", "adc", "gcloud", "none"):
            raise ValueError(f"auth must be auto, adc, gcloud or none, not {self.auth!r}")


@dataclass(frozen=True)
class DeployConfig:
    """What the deploy action renders (Pattern 1 from these values) or runs (``steps``)."""

    accelerator: str = field(default="tpu", metadata=_doc("tpu | gpu: which variant of the manifests"))
    model: str = field(default="Qwen/Qwen2.5-3B-Instruct", metadata=_doc("the Hugging Face model vLLM serves"))
    tensor_parallel: int = field(default=4, metadata=_doc("vLLM --tensor-parallel-size"))
    chips: int = field(default=4, metadata=_doc("accelerator chips per model pod (requests = limits)"))
    topology: str = field(default="2x2", metadata=_doc("TPU slice topology (the node's gke-tpu-topology label)"))
    tpu_accelerator: str = field(default="tpu-v6e-slice", metadata=_doc("the TPU node label value"))
    gpu_accelerator: str = field(default="nvidia-h100-80gb", metadata=_doc("the GPU node label value"))
    image: str = field(default="vllm/vllm-tpu:v0.11.1", metadata=_doc("the model server image"))
    epp_image: str = field(
        default="ghcr.io/llm-d/llm-d-inference-scheduler:v0.6.0", metadata=_doc("the endpoint picker image")
    )
    epp_metrics_auth: bool = field(
        default=False,
        metadata=_doc(
            "the endpoint picker's /metrics wants a bearer token (its --metrics-endpoint-auth); off renders "
            "--metrics-endpoint-auth=false, as the runbook's chart does with Prometheus monitoring off; on, "
            "the console reads the EPP's metrics with metrics.token_file"
        ),
    )
    release: str = field(
        default="pattern1", metadata=_doc("release name (the model pods' app.kubernetes.io/instance label)")
    )
    namespace: str = field(default="", metadata=_doc("where to deploy; empty: cluster.namespace"))
    replicas: int = field(default=1, metadata=_doc("decode replicas"))
    max_model_len: int = field(default=2048, metadata=_doc("vLLM --max-model-len"))
    hf_secret: str = field(default="huggingface-token", metadata=_doc("the Secret holding HF_TOKEN (never read)"))
    gateway_class: str = field(default="gke-l7-regional-external-managed", metadata=_doc("the Gateway's class"))
    max_replicas: int = field(default=16, metadata=_doc("the highest replica count the scale action accepts"))
    steps: tuple[tuple[str, ...], ...] = field(
        default=(),
        metadata=_doc(
            "commands run instead of the rendered manifests, each an argument list run without a shell, "
            "e.g. [[helmfile, -e, gke_tpu, -n, llm-d, apply]]"
        ),
    )
    step_timeout_seconds: float = field(default=1800.0, metadata=_doc("the longest one step may run"))

    def __post_init__(self) -> None:
        if self.accelerator not in ("tpu", "gpu"):
            raise ValueError(f"accelerator must be tpu or gpu, not {self.accelerator!r}")
        for name in ("tensor_parallel", "chips"):
            if not 1 <= getattr(self, name) <= 256:
                raise ValueError(f"{name} must be between 1 and 256")
        if self.accelerator == "tpu" and topology_chips(self.topology) is None:
            raise ValueError(f"topology must look like 2x2 or 2x2x1, not {self.topology!r}")
        if not 0 <= self.replicas <= self.max_replicas <= 10_000:
            raise ValueError("replicas must be between 0 and max_replicas, and max_replicas at most 10000")
        if not 128 <= self.max_model_len <= 10_000_000:
            raise ValueError("max_model_len must be between 128 and 10000000")
        for i, step in enumerate(self.steps):
            if not step or not all(step):
                raise ValueError(f"steps[{i}] must be a non-empty list of non-empty arguments")
        if not 1 <= self.step_timeout_seconds <= 86400:
            raise ValueError("step_timeout_seconds must be between 1 and 86400")


def topology_chips(topology: str) -> int | None:
    """The chips a TPU topology such as ``2x2`` or ``2x4x1`` holds (None: not a topology)."""
    parts = topology.split("x")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() and 0 < int(p) <= 64 for p in parts):
        return None
    total = 1
    for p in parts:
        total *= int(p)
    return total


@dataclass(frozen=True)
class RefreshConfig:
    """How often things are fetched or redrawn."""

    batch_ms: int = field(default=80, metadata=_doc("watch events are applied in batches this often"))
    metrics_seconds: float = field(
        default=2.0, metadata=_doc("metrics scrape interval (the next scrape starts after the last one ends)")
    )
    reconnect_max_seconds: float = field(default=10.0, metadata=_doc("longest back-off between reconnects"))
    liveness_seconds: float = field(
        default=5.0, metadata=_doc("the API server is asked for /version this often, and must answer as fast")
    )

    def __post_init__(self) -> None:
        if not 10 <= self.batch_ms <= 2000:
            raise ValueError("batch_ms must be between 10 and 2000")
        for name in ("metrics_seconds", "reconnect_max_seconds", "liveness_seconds"):
            value = getattr(self, name)
            if not 0 < value <= 3600:  # also refuses NaN and infinity
                raise ValueError(f"{name} must be a number of seconds between 0 and 3600")


@dataclass(frozen=True)
class LogsConfig:
    """The log view."""

    max_lines: int = field(default=10_000, metadata=_doc("lines kept per view; older ones are dropped"))
    tail: int = field(default=500, metadata=_doc("lines fetched when a log opens"))
    max_line_bytes: int = field(
        default=8192, metadata=_doc("a longer line is cut, saying how much; memory <= max_lines x this")
    )
    timestamps: bool = field(default=False, metadata=_doc("show the kubelet's timestamps"))
    wrap: bool = field(default=False, metadata=_doc("wrap long lines to the pane's width"))
    message_first: bool = field(
        default=True, metadata=_doc("fold vLLM's (process) LEVEL time [file:line] prefix to a level tag")
    )
    save_dir: str = field(default="~/llmd-console-logs", metadata=_doc("where 'save' writes log files"))

    def __post_init__(self) -> None:
        if not 100 <= self.max_lines <= 1_000_000:
            raise ValueError("max_lines must be between 100 and 1000000")
        if self.tail < 0:
            raise ValueError("tail must not be negative")
        if not 256 <= self.max_line_bytes <= 1_048_576:
            raise ValueError("max_line_bytes must be between 256 and 1048576")


@dataclass(frozen=True)
class MetricsConfig:
    """The metrics pane: where the model servers and the EPP expose /metrics, and how much is kept."""

    source: str = field(default="auto", metadata=_doc("auto | scrape | prometheus"))
    vllm_port: int = field(default=8000, metadata=_doc("the model servers' metrics port"))
    epp_port: int = field(default=9090, metadata=_doc("the EPP's metrics port"))
    history_minutes: int = field(default=60, metadata=_doc("history kept in memory (1-1440)"))
    rate_window_seconds: float = field(default=60.0, metadata=_doc("rates and quantiles are over this window"))
    max_page_bytes: int = field(default=8_388_608, metadata=_doc("a larger /metrics page is refused"))
    token_file: str = field(
        default="", metadata=_doc("a bearer token for endpoints that want one (the EPP's metrics auth), in a file")
    )
    kubeconfig_token: bool = field(
        default=False, metadata=_doc("else send the kubeconfig's own bearer token to such endpoints")
    )

    def __post_init__(self) -> None:
        if self.source not in ("auto", "scrape", "prometheus"):
            raise ValueError(f"source must be auto, scrape or prometheus, not {self.source!r}")
        for name in ("vllm_port", "epp_port"):
            if not 1 <= getattr(self, name) <= 65535:
                raise ValueError(f"{name} must be a port number (1-65535)")
        if not 1 <= self.history_minutes <= 1440:
            raise ValueError("history_minutes must be between 1 and 1440")
        if not 1 <= self.rate_window_seconds <= 3600:
            raise ValueError("rate_window_seconds must be between 1 and 3600")
        if not 65_536 <= self.max_page_bytes <= 268_435_456:
            raise ValueError("max_page_bytes must be between 65536 and 268435456")


@dataclass(frozen=True)
class PrometheusConfig:
    """A Prometheus server to read the metrics from (Google Managed Prometheus: its URL and a token)."""

    url: str = field(default="", metadata=_doc("e.g. http://prometheus.monitoring:9090; empty: none"))
    token_file: str = field(default="", metadata=_doc("a file holding a bearer token (never the token itself)"))
    username: str = field(default="", metadata=_doc("basic auth user"))
    password_file: str = field(default="", metadata=_doc("a file holding the basic auth password"))
    ca_file: str = field(default="", metadata=_doc("a CA bundle for the server's certificate"))
    insecure: bool = field(default=False, metadata=_doc("do not check the server's certificate"))
    pod_label: str = field(default="pod", metadata=_doc("the label naming a series' pod"))
    namespace_label: str = field(default="namespace", metadata=_doc("the label naming its namespace"))

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")


@dataclass(frozen=True)
class AlertsConfig:
    """How long each of llm-d's alert conditions must hold before it fires, in seconds (in
    ``demo`` divided by the simulator's speed-up)."""

    error_ratio_warning: float = field(default=600.0, metadata=_doc("EPP error ratio above 5%"))
    error_ratio_critical: float = field(default=300.0, metadata=_doc("EPP error ratio above 20%"))
    no_ready_endpoints: float = field(default=120.0, metadata=_doc("the pool has no ready endpoint"))
    epp_metrics_absent: float = field(default=300.0, metadata=_doc("the EPP's metrics cannot be read"))
    kv_cache_high: float = field(default=300.0, metadata=_doc("KV cache above 90%"))
    queue_growing: float = field(default=300.0, metadata=_doc("the waiting queue grows"))
    preemptions: float = field(default=300.0, metadata=_doc("vLLM preempts requests"))

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if not 0 <= getattr(self, name) <= 86400:  # also refuses NaN and infinity
                raise ValueError(f"{name} must be a number of seconds between 0 and 86400")

    def scaled(self, factor: float) -> AlertsConfig:
        """Every window divided by ``factor`` (a simulated cluster running that much faster)."""
        return AlertsConfig(*(getattr(self, name) / factor for name in self.__dataclass_fields__))


@dataclass(frozen=True)
class LoadConfig:
    """The load generator (``llmd-console load`` and the prompt pane's load runs): its SLOs and limits."""

    slo_ttft_ms: float = field(default=200.0, metadata=_doc("time to first token SLO, at p99 (milliseconds)"))
    slo_itl_ms: float = field(default=50.0, metadata=_doc("inter-token latency SLO, at p99 (milliseconds)"))
    deadline_seconds: float = field(default=120.0, metadata=_doc("a request still running after this fails"))
    stall_seconds: float = field(default=30.0, metadata=_doc("a stream with no token for this long is stalled"))
    error_budget: float = field(
        default=0.05, metadata=_doc("stop the run when more than this fraction of requests failed (0-1)")
    )
    error_budget_min_requests: int = field(default=20, metadata=_doc("... once at least this many requests have ended"))
    request_id_prefix: str = field(default="llmd-load", metadata=_doc("every request's x-request-id is PREFIX-N"))
    max_records: int = field(
        default=100_000, metadata=_doc("per-request records kept for the report (older ones are dropped)")
    )

    def __post_init__(self) -> None:
        for name in ("slo_ttft_ms", "slo_itl_ms"):
            if not 0 < getattr(self, name) <= 3_600_000:  # also refuses NaN and infinity
                raise ValueError(f"{name} must be a number of milliseconds between 0 and 3600000")
        for name in ("deadline_seconds", "stall_seconds"):
            if not 0 < getattr(self, name) <= 86400:
                raise ValueError(f"{name} must be a number of seconds between 0 and 86400")
        if not 0 <= self.error_budget <= 1:
            raise ValueError("error_budget must be a fraction between 0 and 1")
        if self.error_budget_min_requests < 1:
            raise ValueError("error_budget_min_requests must be at least 1")
        if (
            not self.request_id_prefix
            or not self.request_id_prefix.isascii()
            or not all(c.isalnum() or c in "-_." for c in self.request_id_prefix)
        ):
            raise ValueError("request_id_prefix must be letters, digits, '-', '_' or '.'")
        if not 100 <= self.max_records <= 10_000_000:
            raise ValueError("max_records must be between 100 and 10000000")


@dataclass(frozen=True)
class PromptConfig:
    """The prompt pane and the load generator: where requests go and how they are bounded."""

    url: str = field(
        default="", metadata=_doc("an OpenAI API base URL (the API is under /v1); empty: the Gateway's address")
    )
    via: str = field(default="auto", metadata=_doc("auto | gateway | proxy | url: which path requests take"))
    probe_seconds: float = field(
        default=1.5, metadata=_doc("how long the gateway may take to answer before the API server proxy is used")
    )
    ca_file: str = field(default="", metadata=_doc("a CA bundle for an https url"))
    insecure: bool = field(default=False, metadata=_doc("do not check an https url's certificate"))
    api: str = field(default="chat", metadata=_doc("chat | completions"))
    max_tokens: int = field(default=128, metadata=_doc("max tokens of an answer"))
    temperature: float = field(default=0.0, metadata=_doc("sampling temperature (0-2)"))
    stream: bool = field(default=True, metadata=_doc("stream the answer token by token"))
    stall_seconds: float = field(default=30.0, metadata=_doc("a stream without a byte this long is stalled"))
    deadline_seconds: float = field(default=300.0, metadata=_doc("the longest a request may take"))
    history_entries: int = field(default=500, metadata=_doc("prompts kept in the history (0 keeps none)"))

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        if self.via not in ("auto", "gateway", "proxy", "url"):
            raise ValueError(f"via must be auto, gateway, proxy or url, not {self.via!r}")
        if self.via == "url" and not self.url:
            raise ValueError("via: url needs a url")
        if self.api not in ("chat", "completions"):
            raise ValueError(f"api must be chat or completions, not {self.api!r}")
        if not 1 <= self.max_tokens <= 1_000_000:
            raise ValueError("max_tokens must be between 1 and 1000000")
        if not 0 <= self.temperature <= 2:  # also refuses NaN
            raise ValueError("temperature must be between 0 and 2")
        for name in ("probe_seconds", "stall_seconds", "deadline_seconds"):
            if not 0 < getattr(self, name) <= 3600:  # also refuses NaN and infinity
                raise ValueError(f"{name} must be a number of seconds between 0 and 3600")
        if not 0 <= self.history_entries <= 100_000:
            raise ValueError("history_entries must be between 0 and 100000")


@dataclass(frozen=True)
class DoctorConfig:
    """The doctor's thresholds (the problems strip, the doctor view and ``llmd-console check``)."""

    ttft_seconds: float = field(
        default=3.0, metadata=_doc("a test inference slower than this to its first token is flagged (runbook: 1-3 s)")
    )
    idle_accelerator_minutes: float = field(
        default=30.0, metadata=_doc("accelerator nodes with no serving pod for longer than this are flagged as cost")
    )
    log_lines: int = field(default=300, metadata=_doc("log lines per model/EPP container that check reads"))
    inference_timeout_seconds: float = field(
        default=5.0, metadata=_doc("how long check's test inference may take before it counts as failed")
    )

    def __post_init__(self) -> None:
        if not 0 < self.ttft_seconds <= 600:  # also refuses NaN and infinity
            raise ValueError("ttft_seconds must be a number of seconds between 0 and 600")
        if not 0 <= self.idle_accelerator_minutes <= 10080:
            raise ValueError("idle_accelerator_minutes must be between 0 and 10080 (a week)")
        if not 1 <= self.log_lines <= 5000:
            raise ValueError("log_lines must be between 1 and 5000")
        if not 0 < self.inference_timeout_seconds <= 120:
            raise ValueError("inference_timeout_seconds must be a number of seconds between 0 and 120")


@dataclass(frozen=True)
class UiConfig:
    """Look and behaviour."""

    layout: str = field(default="auto", metadata=_doc("default | oncall | demo | compact | a user layout | auto"))
    theme: str = field(
        default="textual-dark",
        metadata=_doc("a Textual theme name (llmd-high-contrast: black and white, for a projector)"),
    )
    read_only: bool = field(default=False, metadata=_doc("refuse every mutation"))
    screenshot_dir: str = field(
        default=".",
        metadata=_doc("where screenshots are saved (SVG, and PNG with rsvg-convert); '.' is where it started"),
    )


@dataclass(frozen=True)
class Config:
    """Everything the console reads at start."""

    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    gke: GkeConfig = field(default_factory=GkeConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    prices: dict[str, float] = field(
        # TPU v6e: the Pattern 1 runbook's estimate for europe-west4 (~$1.25 per chip-hour, ~$5.00/h
        # for a 4-chip ct6e-standard-4t node). H100: a rough on-demand figure; the runbook has none.
        default_factory=lambda: {"tpu-v6e-slice": 1.25, "nvidia-h100-80gb": 11.06},
        metadata=_doc(
            "USD per accelerator chip-hour, by node accelerator label value (estimates: they depend on the region)"
        ),
    )
    refresh: RefreshConfig = field(default_factory=RefreshConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    prometheus: PrometheusConfig = field(default_factory=PrometheusConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    doctor: DoctorConfig = field(default_factory=DoctorConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    keys: dict[str, str] = field(
        default_factory=dict, metadata=_doc("action id -> key(s), comma separated, e.g. {quit: 'q,ctrl+c'}")
    )


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


def user_config_path(flag: Path | None) -> Path | None:
    """The user file to read, by precedence: flag, env var, XDG path (if it exists)."""
    if flag is not None:
        return flag
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    xdg = config_dir() / "config.yaml"
    return xdg if xdg.exists() else None


def load_config(flag: Path | None = None) -> tuple[Config, Path | None]:
    """The effective configuration and the file it came from (None: defaults only)."""
    path = user_config_path(flag)
    if path is None:
        return Config(), None
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    try:
        config = load_file(Config, path)
    except SchemaError as exc:
        raise ConfigError(str(exc)) from None
    for price in config.prices.values():
        if price < 0:
            raise ConfigError(f"{path}: prices: must not be negative")
    return config, path
