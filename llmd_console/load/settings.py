"""What every request of a load run shares, and the run's limits and SLOs."""

from __future__ import annotations

from dataclasses import dataclass

from llmd_console.inference.request import Api


@dataclass(frozen=True)
class Slo:
    """Service level objectives, in seconds, at p99."""

    ttft: float
    itl: float


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
