"""The OpenAI-compatible request and response shapes of vLLM 0.11.1: parsing and
validation with its error messages (``SamplingParams._verify_args`` and the serving
layer's checks), and the JSON bodies and SSE chunks it sends, field for field as its
pydantic models dump them (``vllm/entrypoints/openai/protocol.py``; chat chunks are
dumped with ``exclude_unset``, completion chunks with every field)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.inference.text import answer, chat_prompt, tokenize
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json


class OpenAIError(Exception):
    """A request vLLM refuses; carries the HTTP status and the error body fields."""

    def __init__(self, status: int, message: str, err_type: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.err_type = err_type
        self.param = param

    def body(self) -> dict[str, Any]:
        """vLLM's ``ErrorResponse`` (``param`` is always null: 0.11.1 never sets it)."""
        return {"error": {"message": self.message, "type": self.err_type, "param": None, "code": self.status}}


def _bad(message: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, "BadRequestError", param)


def _invalid(detail: list[dict[str, Any]]) -> OpenAIError:
    """FastAPI's request validation error, as vLLM's handler turns it into a 400."""
    return OpenAIError(400, str(detail), "Bad Request")


def _missing(field_name: str, body: object) -> OpenAIError:
    return _invalid([{"type": "missing", "loc": ("body", field_name), "msg": "Field required", "input": body}])


@dataclass
class Job:
    """A validated generation request."""

    chat: bool
    model: str
    prompt: list[str]
    output: list[str]
    finish_reason: str
    max_tokens: int
    stream: bool
    include_usage: bool
    stop_reason: str | None = None
    prompt_details: bool = False  # vLLM's --enable-prompt-tokens-details
    continuous_usage: bool = False  # stream_options.continuous_usage_stats (with include_usage)
    request_id: str = field(default_factory=lambda: secrets.token_hex(16))
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def id(self) -> str:
        """The response id (``chatcmpl-…`` or ``cmpl-…``)."""
        return ("chatcmpl-" if self.chat else "cmpl-") + self.request_id


def _stop_list(raw: object) -> list[str]:
    if raw is None:
        return []
    stops = [raw] if isinstance(raw, str) else raw
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise _invalid([{"type": "string_type", "loc": ("body", "stop"), "msg": "Input should be a valid string"}])
    if not all(stops):
        raise _bad("stop cannot contain an empty string.")
    return list(stops)


def _whole(body: dict[str, Any], name: str) -> int | None:
    return None if body.get(name) is None else _int(body, name, 0)


def _prompt_text(body: dict[str, Any], chat: bool) -> str:
    if chat:
        messages = body.get("messages")
        if messages is None:
            raise _missing("messages", body)
        if not isinstance(messages, list) or not messages:
            raise _bad("messages must be a non-empty list", "messages")
        clean = []
        for message in messages:
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise _bad("each message needs a string role", "messages")
            content = message.get("content", "")
            if isinstance(content, list):  # content parts: keep the text ones
                content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            clean.append({"role": message["role"], "content": str(content or "")})
        return chat_prompt(clean)
    prompt = body.get("prompt")
    if prompt is None:
        raise _missing("prompt", body)
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise _bad("prompt must be a string (batched prompts are not served by this endpoint)", "prompt")
    if not prompt:
        raise _bad("Prompt cannot be empty", "prompt")
    return prompt


def _float(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _invalid([{"type": "float_type", "loc": ("body", name), "msg": "Input should be a valid number"}])
    return float(value)


def _int(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid([{"type": "int_type", "loc": ("body", name), "msg": "Input should be a valid integer"}])
    return value


def _verify_sampling(body: dict[str, Any], n: int, max_tokens: int) -> None:
    """``SamplingParams._verify_args`` of vLLM 0.11.1, in its order and with its messages."""
    if n < 1:
        raise _bad(f"n must be at least 1, got {n}.")
    for name in ("presence_penalty", "frequency_penalty"):
        value = _float(body, name, 0.0)
        if not -2.0 <= value <= 2.0:
            raise _bad(f"{name} must be in [-2, 2], got {value}.")
    repetition = _float(body, "repetition_penalty", 1.0)
    if repetition <= 0.0:
        raise _bad(f"repetition_penalty must be greater than zero, got {repetition}.")
    temperature = _float(body, "temperature", 1.0)
    if temperature < 0.0:
        raise _bad(f"temperature must be non-negative, got {temperature}.")
    top_p = _float(body, "top_p", 1.0)
    if not 0.0 < top_p <= 1.0:
        raise _bad(f"top_p must be in (0, 1], got {top_p}.")
    top_k = _int(body, "top_k", 0)
    if top_k < -1:
        raise _bad(f"top_k must be 0 (disable), or at least 1, got {top_k}.")
    min_p = _float(body, "min_p", 0.0)
    if not 0.0 <= min_p <= 1.0:
        raise _bad(f"min_p must be in [0, 1], got {min_p}.")
    if max_tokens < 1:
        raise _bad(f"max_tokens must be at least 1, got {max_tokens}.")
    min_tokens = _int(body, "min_tokens", 0)
    if min_tokens < 0:
        raise _bad(f"min_tokens must be greater than or equal to 0, got {min_tokens}.")
    if min_tokens > max_tokens:
        raise _bad(f"min_tokens must be less than or equal to max_tokens={max_tokens}, got {min_tokens}.")


def parse(raw: bytes, *, chat: bool, served_name: str, max_model_len: int, prompt_details: bool = False) -> Job:
    """Validate a completions or chat request body into a :class:`Job`."""
    try:
        body = loads_json(raw or b"")
    except DecodeError as exc:
        raise _invalid(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "ctx": {"error": str(exc)}}]
        ) from None
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    model = body.get("model", served_name)
    if model != served_name:
        raise OpenAIError(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
    text = _prompt_text(body, chat)
    prompt = tokenize(text)
    if len(prompt) >= max_model_len:
        raise _bad(
            f"This model's maximum context length is {max_model_len} tokens. However, your request has "
            f"{len(prompt)} input tokens. Please reduce the length of the input messages.",
            "input_tokens",
        )
    n = _int(body, "n", 1)
    asked = _whole(body, "max_completion_tokens") if chat else None
    asked = asked or _whole(body, "max_tokens")
    room = max_model_len - len(prompt)
    if asked is not None and asked > room:
        raise _bad(
            f"'max_tokens' or 'max_completion_tokens' is too large: {asked}. This model's maximum context length "
            f"is {max_model_len} tokens and your request has {len(prompt)} input tokens "
            f"({asked} > {max_model_len} - {len(prompt)}).",
            "max_tokens",
        )
    # vLLM's completions default is 16 tokens; chat may use the rest of the context.
    max_tokens = room if chat and asked is None else min(room, 16 if asked is None else asked)
    _verify_sampling(body, n, max_tokens)
    if n != 1:
        # vLLM would sample n choices; this simulator generates one.
        raise _bad(f"only n=1 is simulated, got n={n}.")
    stream = bool(body.get("stream", False))
    options = body.get("stream_options")
    if options is not None and not stream:
        raise _bad("Stream options can only be defined when `stream=True`.", "stream_options")
    include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    continuous = include_usage and bool(isinstance(options, dict) and options.get("continuous_usage_stats"))
    said = answer(text)
    if body.get("ignore_eos"):
        while len(said) < max_tokens:
            said += said
    output, finish, stop_reason = _cut(said, max_tokens, _stop_list(body.get("stop")))
    return Job(
        chat, model, prompt, output, finish, max_tokens, stream, include_usage, stop_reason, prompt_details, continuous
    )


def _cut(said: list[str], max_tokens: int, stops: list[str]) -> tuple[list[str], str, str | None]:
    """The tokens actually sent, the finish reason and the stop string that ended them."""
    output = said[:max_tokens]
    finish = "length" if len(said) >= max_tokens else "stop"
    text = ""
    for index, token in enumerate(output):
        text += token
        for stop in stops:
            at = text.find(stop)
            if at >= 0:
                kept = text[:at]
                head = "".join(output[:index])
                cut = output[:index] + ([kept[len(head) :]] if len(kept) > len(head) else [])
                return cut, "stop", stop
    return output, finish, None


def usage(job: Job, generated: int, cached: int) -> dict[str, Any]:
    """``UsageInfo``: cached tokens only with ``--enable-prompt-tokens-details`` (off by default)."""
    return {
        "prompt_tokens": len(job.prompt),
        "total_tokens": len(job.prompt) + generated,
        "completion_tokens": generated,
        "prompt_tokens_details": {"cached_tokens": cached} if job.prompt_details and cached else None,
    }


def full_response(job: Job, text: str, generated: int, cached: int) -> dict[str, Any]:
    """The non-streaming ``ChatCompletionResponse`` / ``CompletionResponse``, every field dumped."""
    body: dict[str, Any] = {
        "id": job.id,
        "object": "chat.completion" if job.chat else "text_completion",
        "created": job.created,
        "model": job.model,
    }
    if job.chat:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "annotations": None,
            "audio": None,
            "function_call": None,
            "tool_calls": [],
            "reasoning_content": None,
        }
        body["choices"] = [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": job.finish_reason,
                "stop_reason": job.stop_reason,
                "token_ids": None,
            }
        ]
    else:
        body["choices"] = [
            {
                "index": 0,
                "text": text,
                "logprobs": None,
                "finish_reason": job.finish_reason,
                "stop_reason": job.stop_reason,
                "token_ids": None,
                "prompt_logprobs": None,
                "prompt_token_ids": None,
            }
        ]
    body.update(service_tier=None, system_fingerprint=None, usage=usage(job, generated, cached))
    if job.chat:
        body.update(prompt_logprobs=None, prompt_token_ids=None)
    body["kv_transfer_params"] = None
    return body


def chunk(
    job: Job, token: str | None, *, first: bool = False, finish: str | None = None, generated: int = 0
) -> dict[str, Any]:
    """One streamed chunk; ``first`` is chat's role-only opener; ``generated`` tokens so far.

    Chat chunks carry only the fields vLLM set (``usage`` only with continuous usage stats;
    ``stop_reason`` only on the finishing chunk; ``prompt_token_ids`` on the opener);
    completion chunks carry all."""
    running: dict[str, Any] | None = None
    if job.continuous_usage:
        prompt = len(job.prompt)
        running = {"prompt_tokens": prompt, "total_tokens": prompt + generated, "completion_tokens": generated}
    head: dict[str, Any] = {
        "id": job.id,
        "object": "chat.completion.chunk" if job.chat else "text_completion",
        "created": job.created,
        "model": job.model,
    }
    if not job.chat:
        choice = {
            "index": 0,
            "text": token or "",
            "logprobs": None,
            "finish_reason": finish,
            "stop_reason": job.stop_reason if finish is not None else None,
            "prompt_token_ids": None,
            "token_ids": None,
        }
        return {**head, "choices": [choice], "usage": running and {**running, "prompt_tokens_details": None}}
    tally = {} if running is None else {"usage": running}
    if first:
        opener = {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
        return {**head, "choices": [opener], **tally, "prompt_token_ids": None}
    part: dict[str, Any] = {"index": 0, "delta": {"content": token or ""}, "logprobs": None, "finish_reason": finish}
    if finish is not None:
        part["stop_reason"] = job.stop_reason
    part["token_ids"] = None
    return {**head, "choices": [part], **tally}


def usage_chunk(job: Job, generated: int, cached: int) -> dict[str, Any]:
    """The extra chunk ``stream_options.include_usage`` asks for (dumped without nulls)."""
    tally = {k: v for k, v in usage(job, generated, cached).items() if v is not None}
    return {
        "id": job.id,
        "object": "chat.completion.chunk" if job.chat else "text_completion",
        "created": job.created,
        "model": job.model,
        "choices": [],
        "usage": tally,
    }


def sse(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event."""
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()
