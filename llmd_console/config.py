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


@dataclass(frozen=True)
class RefreshConfig:
    """How often things are fetched or redrawn."""

    batch_ms: int = field(default=80, metadata=_doc("watch events are applied in batches this often"))
    metrics_seconds: float = field(default=5.0, metadata=_doc("metrics poll interval"))
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
    save_dir: str = field(default="~/llmd-console-logs", metadata=_doc("where 'save' writes log files"))

    def __post_init__(self) -> None:
        if not 100 <= self.max_lines <= 1_000_000:
            raise ValueError("max_lines must be between 100 and 1000000")
        if self.tail < 0:
            raise ValueError("tail must not be negative")
        if not 256 <= self.max_line_bytes <= 1_048_576:
            raise ValueError("max_line_bytes must be between 256 and 1048576")


@dataclass(frozen=True)
class UiConfig:
    """Look and behaviour."""

    layout: str = field(default="auto", metadata=_doc("default | oncall | demo | compact | a user layout | auto"))
    theme: str = field(default="textual-dark", metadata=_doc("a Textual theme name"))
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
    prices: dict[str, float] = field(
        default_factory=lambda: {"tpu-v6e-slice": 2.70, "nvidia-h100-80gb": 11.06},
        metadata=_doc("USD per accelerator chip-hour, by node accelerator label value"),
    )
    refresh: RefreshConfig = field(default_factory=RefreshConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
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
