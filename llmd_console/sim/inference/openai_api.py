"""The OpenAI-compatible request and response shapes vLLM uses: parsing and
validation with vLLM's error messages, and the JSON bodies and SSE chunks it sends."""

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
        """The error envelope newer vLLM sends (and the openai SDK parses)."""
        return {"error": {"message": self.message, "type": self.err_type, "param": self.param, "code": self.status}}


def _bad(message: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, "BadRequestError", param)


def _missing(field_name: str, body: object) -> OpenAIError:
    # FastAPI's validation error list, as vLLM forwards it in the message.
    detail = [{"type": "missing", "loc": ("body", field_name), "msg": "Field required", "input": body}]
    return _bad(str(detail))


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
    request_id: str = field(default_factory=lambda: secrets.token_hex(16))
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def id(self) -> str:
        """The response id (``chatcmpl-…`` or ``cmpl-…``)."""
        return ("chatcmpl-" if self.chat else "cmpl-") + self.request_id


def _stop_list(raw: object) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw else []
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return [s for s in raw if s]
    raise _bad("stop must be a string or a list of strings", "stop")


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{name} must be an integer, got {value!r}", name)
    if value < 1:
        raise _bad(f"{name} must be at least 1, got {value}.", name)
    return value


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


def parse(raw: bytes, *, chat: bool, served_name: str, max_model_len: int) -> Job:
    """Validate a completions or chat request body into a :class:`Job`."""
    try:
        body = loads_json(raw or b"")
    except DecodeError as exc:
        detail = [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "ctx": {"error": str(exc)}}]
        raise _bad(str(detail)) from None
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
    n = body.get("n", 1)
    if n != 1:
        raise _bad("only n=1 is served by this deployment", "n")
    asked = _positive_int(body, "max_completion_tokens") if chat else None
    asked = asked or _positive_int(body, "max_tokens")
    room = max_model_len - len(prompt)
    if asked is not None and asked > room:
        raise _bad(
            f"'max_tokens' or 'max_completion_tokens' is too large: {asked}. This model's maximum context length "
            f"is {max_model_len} tokens and your request has {len(prompt)} input tokens "
            f"({asked} > {max_model_len} - {len(prompt)}).",
            "max_tokens",
        )
    # vLLM's completions default is 16 tokens; chat may use the rest of the context.
    max_tokens = asked or (room if chat else 16)
    stream = bool(body.get("stream", False))
    options = body.get("stream_options")
    if options is not None and not stream:
        raise _bad("Stream options can only be defined when `stream=True`.", "stream_options")
    include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    said = answer(text)
    if body.get("ignore_eos"):
        while len(said) < max_tokens:
            said += said
    output, finish, stop_reason = _cut(said, max_tokens, _stop_list(body.get("stop")))
    return Job(chat, model, prompt, output, finish, max_tokens, stream, include_usage, stop_reason)


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
    """The usage object."""
    out: dict[str, Any] = {
        "prompt_tokens": len(job.prompt),
        "total_tokens": len(job.prompt) + generated,
        "completion_tokens": generated,
        "prompt_tokens_details": {"cached_tokens": cached} if cached else None,
    }
    return out


def full_response(job: Job, text: str, generated: int, cached: int) -> dict[str, Any]:
    """The non-streaming response body."""
    choice: dict[str, Any]
    if job.chat:
        choice = {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": text,
                "refusal": None,
                "tool_calls": [],
                "reasoning_content": None,
            },
            "logprobs": None,
            "finish_reason": job.finish_reason,
            "stop_reason": job.stop_reason,
        }
    else:
        choice = {
            "index": 0,
            "text": text,
            "logprobs": None,
            "finish_reason": job.finish_reason,
            "stop_reason": job.stop_reason,
            "prompt_logprobs": None,
        }
    return {
        "id": job.id,
        "object": "chat.completion" if job.chat else "text_completion",
        "created": job.created,
        "model": job.model,
        "choices": [choice],
        "usage": usage(job, generated, cached),
        "system_fingerprint": None,
        "service_tier": None,
        "kv_transfer_params": None,
        "prompt_logprobs": None,
    }


def chunk(job: Job, token: str | None, *, first: bool = False, finish: str | None = None) -> dict[str, Any]:
    """One streamed chunk; ``first`` is chat's role-only opener."""
    if job.chat:
        delta: dict[str, Any] = {"role": "assistant", "content": ""} if first else {"content": token or ""}
        choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    else:
        choice = {"index": 0, "text": token or "", "logprobs": None, "finish_reason": finish}
    if finish is not None:
        choice["stop_reason"] = job.stop_reason
    return {
        "id": job.id,
        "object": "chat.completion.chunk" if job.chat else "text_completion",
        "created": job.created,
        "model": job.model,
        "choices": [choice],
        "usage": None,
    }


def usage_chunk(job: Job, generated: int, cached: int) -> dict[str, Any]:
    """The extra chunk ``stream_options.include_usage`` asks for."""
    return {
        "id": job.id,
        "object": "chat.completion.chunk" if job.chat else "text_completion",
        "created": job.created,
        "model": job.model,
        "choices": [],
        "usage": usage(job, generated, cached),
    }


def sse(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event."""
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()
