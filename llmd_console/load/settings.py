"""What every request of a load run shares, and the run's limits and SLOs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmd_console.config import LoadConfig
from llmd_console.inference.request import Api


@dataclass(frozen=True)
class Slo:
    """Service level objectives, in seconds, at p99."""

    ttft: float
    itl: float


# The fields a run takes as they are from the config's load: section.
_FROM_CONFIG = ("deadline_seconds", "stall_seconds", "error_budget", "error_budget_min_requests", "max_records")


@dataclass(frozen=True)
class RunSettings:
    """The requests' model, API and sizes, their ids, and the run's limits."""

    model: str
    slo: Slo
    api: Api = "chat"
    max_tokens: int = 128
    temperature: float = 0.0
    request_id_prefix: str = "llmd-load"
    deadline_seconds: float = 120.0
    stall_seconds: float = 30.0
    error_budget: float = 0.05  # a fraction of the ended requests
    error_budget_min_requests: int = 20
    max_records: int = 100_000

    @classmethod
    def from_config(cls, load: LoadConfig, model: str, request_id_prefix: str, **options: Any) -> RunSettings:
        """The settings of the config's ``load:`` section (what the prompt pane starts a run with);
        ``options`` set the request fields (api, max_tokens, temperature)."""
        limits = {name: getattr(load, name) for name in _FROM_CONFIG}
        slo = Slo(load.slo_ttft_ms / 1000, load.slo_itl_ms / 1000)
        return cls(model=model, slo=slo, request_id_prefix=request_id_prefix, **limits, **options)
