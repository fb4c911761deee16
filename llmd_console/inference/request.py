"""What one inference request asks for, and what came of it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Literal

Api = Literal["chat", "completions"]


@dataclass(frozen=True)
class PromptRequest:
    """One request to the OpenAI API of the model servers (through the gateway)."""

    prompt: str  # chat: one user message; completions: the prompt text
    model: str
    api: Api = "chat"
    max_tokens: int = 128
    temperature: float = 0.0
    stream: bool = True
    request_id: str = ""  # sent as the x-request-id header ("" -> one is generated)

    def __post_init__(self) -> None:
        if self.api not in ("chat", "completions"):
            raise ValueError(f"api must be chat or completions, not {self.api!r}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, not {self.max_tokens}")
        if not 0.0 <= self.temperature <= 2.0:  # also refuses NaN
            raise ValueError(f"temperature must be between 0 and 2, not {self.temperature}")
        if not self.model:
            raise ValueError("model must not be empty")


@dataclass(frozen=True)
class Failure:
    """Why a request did not succeed, in words an operator acts on."""

    kind: str  # stable id: no_route | no_upstream | epp_down | model_not_found | bad_request | refused | tls | dns
    # | timeout | stalled | http | protocol | cancelled
    title: str  # one line
    cause: str  # the likely cause, quoting what the server said
    fix: str  # what to do (exact commands where known)


@dataclass
class Outcome:
    """The result of one request, with the client's own timings (seconds, monotonic clock)."""

    request: PromptRequest
    request_id: str
    started: float  # time.monotonic() when sent
    status: int | None = None  # HTTP status; None when no response came
    text: str = ""  # generated text (bounded)
    ttft: float | None = None  # seconds to the first token
    itls: list[float] = field(default_factory=list)  # gaps between tokens (stream chunks)
    total: float | None = None  # seconds to the last byte
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    served_by: str | None = None  # pod name (or address) when the cluster tells
    failure: Failure | None = None
    stalled: bool = False  # no token for stall_seconds: ended as a failure of kind "stalled"

    @property
    def ok(self) -> bool:
        """A 200 answer that ended without a failure."""
        return self.status == 200 and self.failure is None

    @property
    def itl_p50(self) -> float | None:
        """The median gap between tokens (None with fewer than two tokens)."""
        return statistics.median(self.itls) if self.itls else None

    @property
    def itl_max(self) -> float | None:
        """The longest gap between tokens."""
        return max(self.itls) if self.itls else None

    @property
    def tokens_per_second(self) -> float | None:
        """Completion tokens over the decode time (from the first token to the last byte)."""
        if not self.completion_tokens or self.ttft is None or self.total is None:
            return None
        decode = self.total - self.ttft
        if decode <= 0:
            return None
        return self.completion_tokens / decode
