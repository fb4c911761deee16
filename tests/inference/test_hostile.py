"""A server that is not a well-behaved OpenAI API (stalls, garbage, huge lines, no end, not even
HTTP) gives an explained failure, never an exception or a hang, and memory stays bounded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from llmd_console.inference.client import MAX_TEXT, send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import Outcome, PromptRequest

REQUEST = PromptRequest("Hello", "m", max_tokens=4)


def chunk(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode() + b"\n\n"


async def hostile(request: web.Request) -> web.StreamResponse:
    """Misbehave as the first path segment says."""
    mode = request.match_info["mode"]
    if mode == "no-headers":
        await asyncio.sleep(30)
    if mode == "whole-garbage":
        return web.Response(text="<html>captive portal</html>", content_type="application/json")
    if mode in ("whole-nested", "error-nested"):
        deep = "[" * 60_000 + "]" * 60_000
        return web.Response(text=deep, content_type="application/json", status=200 if mode == "whole-nested" else 500)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    if mode == "stall":
        await response.write(chunk("first"))
        await asyncio.sleep(30)
    bodies = {
        "not-json": b"data: not json\n\n",
        "array": b"data: [1, 2]\n\n",
        "nested": b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n",
        "long-line": b"data: " + b"x" * (1024 * 1024),
        "no-done": chunk("a") + chunk("b"),
        "error-event": b'data: {"error": {"message": "engine died", "code": 500}}\n\n',
        "no-usage": chunk("a") + b": a comment\nevent: x\n" + chunk("b") + b"data: [DONE]\n\n",
        "crlf": chunk("a").replace(b"\n", b"\r\n") + b"data: [DONE]\r\n\r\n",
    }
    if mode == "trickle":
        for _ in range(12):
            await response.write(chunk("t"))
            await asyncio.sleep(0.1)
        await response.write(b"data: [DONE]\n\n")
    elif mode == "huge":
        piece = chunk("y" * 60_000)
        for _ in range(20):
            await response.write(piece)
        await response.write(b"data: [DONE]\n\n")
    else:
        await response.write(bodies[mode])
    await response.write_eof()
    return response


@pytest.fixture()
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{mode}/v1/{tail:.*}", hostile)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def ask(url: str, request: PromptRequest = REQUEST, stall: float = 0.3) -> Outcome:
    endpoint = Endpoint(url, "test")
    async with endpoint.client() as client:
        return await send(client, endpoint, request, stall_seconds=stall, deadline_seconds=20)


async def test_a_stalled_stream_ends_as_stalled(server: str) -> None:
    outcome = await ask(f"{server}/stall")
    assert outcome.stalled and outcome.failure is not None and outcome.failure.kind == "stalled"
    assert outcome.text == "first" and outcome.status == 200


async def test_a_slow_stream_that_keeps_sending_is_not_stalled(server: str) -> None:
    # 1.2 s in all, a byte every 0.1 s: longer than the stall bound, never that long without a byte.
    outcome = await ask(f"{server}/trickle", stall=1.0)
    assert outcome.ok and outcome.text == "t" * 12 and not outcome.stalled


async def test_a_server_that_never_answers_is_stalled_not_a_hang(server: str) -> None:
    outcome = await ask(f"{server}/no-headers")
    assert outcome.failure is not None and outcome.failure.kind == "stalled" and outcome.status is None


@pytest.mark.parametrize("mode", ["not-json", "array", "nested", "long-line", "no-done"])
async def test_garbage_is_a_protocol_failure(server: str, mode: str) -> None:
    outcome = await ask(f"{server}/{mode}")
    assert outcome.failure is not None and outcome.failure.kind == "protocol", outcome.failure


@pytest.mark.parametrize("mode", ["whole-garbage", "whole-nested"])
async def test_a_whole_answer_that_is_not_json(server: str, mode: str) -> None:
    outcome = await ask(f"{server}/{mode}", PromptRequest("Hello", "m", stream=False))
    assert outcome.failure is not None and outcome.failure.kind == "protocol"


async def test_an_error_body_nested_too_deep(server: str) -> None:
    outcome = await ask(f"{server}/error-nested")
    assert outcome.status == 500 and outcome.failure is not None and outcome.failure.kind == "http"


async def test_an_error_event_mid_stream(server: str) -> None:
    outcome = await ask(f"{server}/error-event")
    assert outcome.failure is not None and "engine died" in outcome.failure.cause


async def test_without_usage_tokens_are_counted_and_comments_skipped(server: str) -> None:
    outcome = await ask(f"{server}/no-usage")
    assert outcome.ok and outcome.text == "ab" and outcome.completion_tokens == 2
    outcome = await ask(f"{server}/crlf")
    assert outcome.ok and outcome.text == "a"


async def test_kept_text_is_bounded(server: str) -> None:
    outcome = await ask(f"{server}/huge")
    assert outcome.ok and outcome.completion_tokens == 20
    assert MAX_TEXT <= len(outcome.text) <= MAX_TEXT + 100 and outcome.text.endswith("cut at 1 MiB]")


async def test_a_server_that_does_not_speak_http() -> None:
    async def babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01garbage\r\n\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(babble, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        outcome = await ask(f"http://127.0.0.1:{port}")
    assert outcome.failure is not None and outcome.failure.kind == "protocol", outcome.failure
