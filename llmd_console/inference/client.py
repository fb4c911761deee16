"""One OpenAI API request through the gateway, streamed or whole, with the client's own
timings; every server or network problem becomes an explained :class:`Failure`.

Timings are taken when bytes arrive (``time.perf_counter``): TTFT is the first chunk that
carries generated text, the inter-token gaps are between such chunks, the total is to the
last byte. Everything read is bounded: each stream line, the whole body, the kept text, the
time without a byte (``stall_seconds``) and the whole exchange (``deadline_seconds``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from llmd_console.inference import failures
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.failures import FixHints
from llmd_console.inference.request import Failure, Outcome, PromptRequest
from llmd_console.inference.sse import EventReader, ProtocolError

MAX_TEXT = 1024 * 1024  # characters of generated text kept (the rest is counted, not kept)
MAX_BODY = 16 * 1024 * 1024  # bytes of one response (a whole answer, or a whole stream)
MAX_ERROR_BODY = 64 * 1024  # bytes of an error answer read to explain it
MODELS_SECONDS = 5.0  # the /v1/models call that names the served models after a 404
STALL_SLACK = 0.1  # see _push_back
CUT_NOTE = " \u2026 [text cut at 1 MiB]"

PATHS = {"chat": "/v1/chat/completions", "completions": "/v1/completions"}


def new_request_id() -> str:
    """A fresh request id (what the gateway and the EPP log it as)."""
    return str(uuid.uuid4())


def request_body(request: PromptRequest) -> dict[str, Any]:
    """The JSON body the OpenAI API takes for ``request``."""
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "stream": request.stream,
    }
    if request.api == "chat":
        body["messages"] = [{"role": "user", "content": request.prompt}]
    else:
        body["prompt"] = request.prompt
    if request.stream:
        body["stream_options"] = {"include_usage": True}  # the usage arrives in a last chunk
    return body


class ModelsError(Exception):
    """``/v1/models`` could not be read; ``failure`` says why."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.title)
        self.failure = failure


async def send(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    request: PromptRequest,
    *,
    on_token: Callable[[str], None] | None = None,
    stall_seconds: float = 30.0,
    deadline_seconds: float = 300.0,
    hints: FixHints | None = None,
) -> Outcome:
    """Send ``request`` and return what came of it. Never raises for server or network problems
    (they are ``Outcome.failure``); cancelling the task closes the connection, so the server sees
    the disconnect, and re-raises ``CancelledError``. ``on_token`` gets each piece of text as it
    arrives. A whole (not streamed) answer has no byte until it is complete, so only the deadline
    bounds it, not ``stall_seconds``."""
    request_id = request.request_id or new_request_id()
    outcome = Outcome(request, request_id, time.monotonic(), served_by=endpoint.served_by)
    exchange = _Exchange(outcome, on_token, stall_seconds if request.stream else deadline_seconds, deadline_seconds)
    await exchange.run(client, endpoint, hints or FixHints())
    return outcome


class _Exchange:
    """The state of one request while its answer arrives."""

    def __init__(self, outcome: Outcome, on_token: Callable[[str], None] | None, stall: float, deadline: float) -> None:
        self.outcome = outcome
        self.on_token = on_token
        self.stall = stall
        self.deadline = deadline
        self.t0 = time.perf_counter()
        self.last_token: float | None = None
        self.kept = 0  # characters of text kept
        self.parts: list[str] = []
        self.chunks = 0  # chunks that carried text
        self.done = False  # [DONE] seen
        self.responded = False

    async def run(self, client: httpx.AsyncClient, endpoint: Endpoint, hints: FixHints) -> None:
        o = self.outcome
        url = endpoint.url(PATHS[o.request.api])
        headers = {
            **endpoint.headers,
            "x-request-id": o.request_id,
            "accept": "text/event-stream" if o.request.stream else "application/json",
        }
        loop = asyncio.get_running_loop()
        deadline_at = loop.time() + self.deadline
        try:
            async with asyncio.timeout_at(min(deadline_at, loop.time() + self.stall)) as timer:
                try:
                    async with client.stream("POST", url, json=request_body(o.request), headers=headers) as response:
                        self.responded = True
                        o.status = response.status_code
                        if response.status_code != 200:
                            body = await _read(response, MAX_ERROR_BODY, timer, loop, deadline_at, self.stall)
                            o.failure = await self._explain(client, endpoint, body, hints)
                        elif o.request.stream:
                            await self._stream(response, timer, loop, deadline_at)
                        else:
                            body = await _read(response, MAX_BODY, timer, loop, deadline_at, self.stall)
                            self._whole(body)
                finally:
                    o.total = time.perf_counter() - self.t0
        except TimeoutError:
            o.stalled = loop.time() < deadline_at - 1e-3
            o.failure = failures.stalled_failure(self.stall) if o.stalled else failures.timeout_failure(self.deadline)
        except httpx.HTTPError as exc:
            o.failure = failures.for_exception(exc, url, responded=self.responded)
            o.stalled = o.failure.kind == "stalled"
        except (ProtocolError, ValueError, RecursionError, httpx.InvalidURL) as exc:  # RecursionError: deep JSON
            o.failure = failures.protocol_failure(failures.quoted(str(exc)))
        except OSError as exc:  # a socket error httpx did not wrap
            o.failure = failures.for_exception(exc, url, responded=self.responded)
        self._finish()

    async def _stream(
        self, response: httpx.Response, timer: asyncio.Timeout, loop: asyncio.AbstractEventLoop, deadline_at: float
    ) -> None:
        reader = EventReader()
        size = 0
        async for chunk in response.aiter_bytes():
            now = time.perf_counter()
            _push_back(timer, loop, deadline_at, self.stall)
            size += len(chunk)
            if size > MAX_BODY:
                raise ProtocolError(f"the stream is longer than {MAX_BODY:,} bytes")
            for data in reader.feed(chunk):
                self._event(data, now)
            # After [DONE] the body is still read to its end (the chunked terminator follows at
            # once), so the connection goes back to the pool instead of being dropped.
        for data in reader.close():
            self._event(data, time.perf_counter())
        if not self.done and self.outcome.failure is None:
            raise ProtocolError("the stream ended without its final 'data: [DONE]'")

    def _event(self, data: bytes, now: float) -> None:
        if self.done or self.outcome.failure is not None:
            return
        if data == b"[DONE]":
            self.done = True
            return
        event = json.loads(data)
        if not isinstance(event, dict):
            raise ProtocolError(
                f"a stream event is not a JSON object: {failures.quoted(data.decode('utf-8', 'replace'))}"
            )
        if "error" in event:  # vLLM reports an error met mid-stream as an event
            error = event["error"]
            message = error.get("message") if isinstance(error, dict) else error
            self.outcome.failure = Failure(
                "http",
                "The model server failed mid-answer",
                f"It sent an error event: {failures.quoted(str(message))!r}",
                "Check the model server's log for this request id.",
            )
            return
        text = self._choice(event, "delta")
        if text:
            self._token(text, now)

    def _choice(self, data: dict[str, Any], chat_key: str) -> str | None:
        """The usage, the finish reason and the text of a chunk or answer (None: no choices)."""
        usage = data.get("usage")
        if usage is not None:
            self._usage(usage)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        if self.outcome.request.api == "chat":
            inner = choice.get(chat_key)  # a chunk's delta, an answer's message
            text = inner.get("content") if isinstance(inner, dict) else None
        else:
            text = choice.get("text")
        if isinstance(choice.get("finish_reason"), str):
            self.outcome.finish_reason = choice["finish_reason"]
        return text if isinstance(text, str) else ""

    def _token(self, text: str, now: float) -> None:
        o = self.outcome
        if self.last_token is None:
            o.ttft = now - self.t0
        else:
            o.itls.append(now - self.last_token)
        self.last_token = now
        self.chunks += 1
        if self.kept >= MAX_TEXT:
            return
        if self.kept + len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - self.kept] + CUT_NOTE
        self.kept += len(text)
        self.parts.append(text)
        if self.on_token is not None:
            self.on_token(text)

    def _usage(self, usage: object) -> None:
        if not isinstance(usage, dict):
            return
        for key in ("prompt_tokens", "completion_tokens"):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                setattr(self.outcome, key, value)

    def _whole(self, body: bytes) -> None:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ProtocolError("the answer is not a JSON object")
        text = self._choice(data, "message")
        if text is None:
            raise ProtocolError("the answer has no choices")
        if text:
            # The whole text arrives at once: when its first token was made is not known, so the
            # answer has no TTFT (nor gaps, nor a decode rate), only its total time.
            self._token(text, time.perf_counter())
            self.outcome.ttft = None
        self.done = True

    async def _explain(self, client: httpx.AsyncClient, endpoint: Endpoint, body: bytes, hints: FixHints) -> Failure:
        text = body.decode("utf-8", "replace")
        status = self.outcome.status or 0
        models: list[str] = []
        if status == 404:
            try:
                async with asyncio.timeout(MODELS_SECONDS):
                    models = await list_models(client, endpoint)
            except (ModelsError, TimeoutError):
                models = []
        return failures.for_status(status, text, hints, models)

    def _finish(self) -> None:
        o = self.outcome
        o.text = "".join(self.parts)
        if o.completion_tokens is None and o.status == 200 and o.request.stream:
            # No usage chunk (a server that ignores stream_options): vLLM sends one token per chunk.
            o.completion_tokens = self.chunks


def _push_back(timer: asyncio.Timeout, loop: asyncio.AbstractEventLoop, deadline_at: float, stall: float) -> None:
    """A byte came: the stall timer must not fire before ``stall`` seconds from now. It is moved
    only when it would (moving it at every chunk costs more than the chunk), and then a little
    further, so a stall is detected between ``stall`` and (1 + STALL_SLACK) times that."""
    now, when = loop.time(), timer.when()
    if when is not None and when < deadline_at and now + stall > when:
        timer.reschedule(min(deadline_at, now + stall * (1 + STALL_SLACK)))


async def _read(
    response: httpx.Response,
    limit: int,
    timer: asyncio.Timeout,
    loop: asyncio.AbstractEventLoop,
    deadline_at: float,
    stall: float,
) -> bytes:
    """The body, at most ``limit`` bytes (a longer one is a protocol error)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        _push_back(timer, loop, deadline_at, stall)
        body += chunk
        if len(body) > limit:
            if limit == MAX_ERROR_BODY:
                return bytes(body[:limit])  # enough to explain the error
            raise ProtocolError(f"the answer is longer than {limit:,} bytes")
    return bytes(body)


async def list_models(client: httpx.AsyncClient, endpoint: Endpoint, *, hints: FixHints | None = None) -> list[str]:
    """The served model names (``GET /v1/models``); raises :class:`ModelsError` saying why not."""
    url = endpoint.url("/v1/models")
    try:
        async with asyncio.timeout(MODELS_SECONDS * 2), client.stream("GET", url, headers=endpoint.headers) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    raise ModelsError(failures.protocol_failure("/v1/models is longer than 16 MiB"))
            if response.status_code != 200:
                raise ModelsError(
                    failures.for_status(response.status_code, body.decode("utf-8", "replace"), hints or FixHints())
                )
    except TimeoutError:
        raise ModelsError(failures.timeout_failure(MODELS_SECONDS * 2)) from None
    except httpx.HTTPError as exc:
        raise ModelsError(failures.for_exception(exc, url, responded=False)) from None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        raise ModelsError(failures.protocol_failure("/v1/models did not answer JSON")) from None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ModelsError(failures.protocol_failure("/v1/models has no data list"))
    return [str(item["id"]) for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)][:1000]
