"""The OpenAI-compatible HTTP server a Ready vLLM pod runs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from llmd_console.sim.inference import openai_api
from llmd_console.sim.inference.engine import Engine, EngineStats, LatencyProfile, Sequence
from llmd_console.sim.inference.process_metrics import Workload
from llmd_console.sim.inference.vllm_metrics import VllmMetrics, cache_config_info
from llmd_console.sim.programs.base import ContainerIO

STATS_INTERVAL = 10.0  # seconds between the engine's throughput log lines, as vLLM's default
BLOCK_SIZE = 16  # vLLM's KV block size on CUDA
# Route templates the app serves (what the HTTP instrumentator labels requests with).
ROUTES = frozenset(
    ("/health", "/ping", "/v1/models", "/version", "/metrics", "/v1/completions", "/v1/chat/completions")
)
DISCONNECT_POLL = 0.05  # wall seconds between checks that a non-streamed request's client is still there
# Keys the gateway sets on a request it forwards (aiohttp requests carry per-request state).
FORWARDED_FOR = web.RequestKey("llmd_forwarded_for", str)
REQUEST_ID = web.RequestKey("llmd_request_id", str)


async def _disconnected(request: web.Request) -> None:
    """Return once the client's connection is gone."""
    while True:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(DISCONNECT_POLL)


async def _unless_disconnected(request: web.Request, work: Coroutine[Any, Any, None]) -> bool:
    """Run ``work`` until it ends (True) or the client's connection goes away (False: ``work`` is
    cancelled, which closes the engine's sequence and frees its KV blocks), as vLLM aborts a
    request whose HTTP client disconnected: while it waits in the queue, in prefill, or between
    two chunks of a stream."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        finished = task.done() and not task.cancelled()
        for pending in (task, gone):
            pending.cancel()
        results = await asyncio.gather(task, gone, return_exceptions=True)
    if finished and isinstance(results[0], ConnectionResetError):
        return False  # a write found the connection closed before the poll did
    if finished and isinstance(results[0], BaseException):
        raise results[0]
    return finished


def compact(obj: Any) -> str:
    """JSON without spaces, as FastAPI's responses are."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class VllmServer:
    """Serves vLLM's routes from an :class:`Engine`."""

    def __init__(
        self,
        served_name: str,
        model: str,
        max_model_len: int,
        port: int,
        max_num_seqs: int,
        kv_tokens: int,
        log: Callable[[str], None],
        profile: LatencyProfile | None = None,
        *,
        block_size: int = BLOCK_SIZE,
        gpu_memory_utilization: float = 0.9,
        version: str = "0.11.1",
        prompt_details: bool = False,
    ) -> None:
        self.served_name = served_name
        self.model = model
        self.max_model_len = max_model_len
        self.port = port
        self.created = int(time.time())
        self.log = log
        self._client_ports = itertools.cycle(range(40000, 60000, 7))
        # Usage of recent responses by gateway request id: what the EPP reads from response bodies.
        self.usage_by_request: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.version = version
        self.prompt_details = prompt_details
        blocks = max(1, kv_tokens // block_size)
        self.load = Workload()
        self.metrics = VllmMetrics(
            served_name,
            max_model_len,
            cache_config_info(block_size, blocks, gpu_memory_utilization),
            self.load,
        )
        self.engine = Engine(self.metrics, max_num_seqs, blocks, profile, block_size)

    def stats(self) -> EngineStats:
        """The engine's queue, batch and cache state (what the EPP scrapes)."""
        return self.engine.stats()

    def listening(self, port: int) -> bool:
        """vLLM listens on one port."""
        return port == self.port

    def probe(self, port: int, path: str) -> int | None:
        """What an HTTP probe gets."""
        if port != self.port:
            return None
        return 200 if path.split("?", maxsplit=1)[0] in ("/health", "/v1/models", "/ping", "/version") else 404

    def models(self) -> dict[str, Any]:
        """The ``/v1/models`` body."""
        return {
            "object": "list",
            "data": [
                {
                    "id": self.served_name,
                    "object": "model",
                    "created": self.created,
                    "owned_by": "vllm",
                    "root": self.model,
                    "parent": None,
                    "max_model_len": self.max_model_len,
                    "permission": [
                        {
                            "id": f"modelperm-{self.created:x}",
                            "object": "model_permission",
                            "created": self.created,
                            "allow_create_engine": False,
                            "allow_sampling": True,
                            "allow_logprobs": True,
                            "allow_search_indices": False,
                            "allow_view": True,
                            "allow_fine_tuning": False,
                            "organization": "*",
                            "group": None,
                            "is_blocking": False,
                        }
                    ],
                }
            ],
        }

    async def handle(self, port: int, path: str, request: web.Request) -> web.StreamResponse:
        """Route one request and write uvicorn's access log line for it."""
        route = path.split("?", maxsplit=1)[0]
        # vLLM mounts the metrics app at /metrics with a catch-all path, so /metrics/ answers too.
        route = "/metrics" if route.startswith("/metrics") else route
        started = time.monotonic()
        self.load.requests += 1
        self.load.in_flight += 1
        try:
            response = await self._route(route, request)
        finally:
            self.load.in_flight -= 1
        took = time.monotonic() - started
        self.load.busy_seconds += took
        self.metrics.observe_http(
            request.method,
            route if route in ROUTES else None,
            response.status,
            request.content_length or 0,
            # A streamed response has no Content-Length, which the instrumentator counts as 0.
            response.content_length or 0,
            took,
        )
        if route not in ("/health", "/metrics", "/v1/models"):
            peer = str(request.get(FORWARDED_FOR, "10.8.0.1"))
            reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(
                response.status, ""
            )
            self.log(
                f'(APIServer pid=1) INFO:     {peer}:{next(self._client_ports)} - "{request.method} {path} '
                f'HTTP/1.1" {response.status} {reason}'.rstrip()
            )
        return response

    async def _route(self, route: str, request: web.Request) -> web.StreamResponse:
        if route in ("/health", "/ping"):
            return web.Response(status=200)
        if route == "/v1/models":
            return web.json_response(self.models(), dumps=compact)
        if route == "/version":
            return web.json_response({"version": self.version})
        if route == "/metrics":
            return web.Response(body=self.metrics.exposition(), content_type="text/plain", charset="utf-8")
        if route in ("/v1/completions", "/v1/chat/completions"):
            if request.method != "POST":
                return web.json_response({"detail": "Method Not Allowed"}, status=405)
            return await self.generate(request, chat=route == "/v1/chat/completions")
        return web.json_response({"detail": "Not Found"}, status=404)

    async def generate(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        """Serve a completions or chat request, streamed or whole."""
        try:
            job = openai_api.parse(
                await request.read(),
                chat=chat,
                served_name=self.served_name,
                max_model_len=self.max_model_len,
                prompt_details=self.prompt_details,
            )
        except openai_api.OpenAIError as err:
            return web.json_response(err.body(), status=err.status, dumps=compact)
        seq = self.engine.sequence(job.prompt, job.max_tokens)
        if not job.stream:
            tokens = await self._generate_whole(request, seq, job.output, job.finish_reason)
            if tokens is None:
                # The client went away: the engine aborted the request, and nobody reads this.
                return web.Response(status=499, text="client disconnected")
            text = "".join(tokens)
            body = openai_api.full_response(job, text, seq.generated, seq.cached_tokens)
            self._remember_usage(request, body["usage"])
            return web.json_response(body, dumps=compact)
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        finished = False
        try:
            finished = await _unless_disconnected(request, self._stream(request, response, job, seq))
        finally:
            seq.finish(job.finish_reason if finished else "abort")
        if finished:
            with contextlib.suppress(ConnectionResetError):
                # A client that leaves right after [DONE] (it has the whole answer) is no error.
                await response.write_eof()
        return response

    async def _stream(
        self, request: web.Request, response: web.StreamResponse, job: openai_api.Job, seq: Sequence
    ) -> None:
        """Write the answer's chunks as the engine makes its tokens."""
        if job.chat:
            await response.write(openai_api.sse(openai_api.chunk(job, None, first=True)))
        last = len(job.output) - 1
        async for token in seq.run(job.output):
            done = job.finish_reason if seq.generated - 1 == last else None
            await response.write(openai_api.sse(openai_api.chunk(job, token, finish=done, generated=seq.generated)))
        if not job.output:
            await response.write(
                openai_api.sse(openai_api.chunk(job, "", finish=job.finish_reason, generated=seq.generated))
            )
        if job.include_usage:
            tail = openai_api.usage_chunk(job, seq.generated, seq.cached_tokens)
            self._remember_usage(request, tail["usage"])
            await response.write(openai_api.sse(tail))
        await response.write(openai_api.sse("[DONE]"))

    async def _generate_whole(
        self, request: web.Request, seq: Sequence, output: list[str], finish_reason: str
    ) -> list[str] | None:
        """Every token of a non-streamed request, or None when the client disconnected first,
        in which case the sequence is aborted and its KV blocks freed (vLLM aborts a request
        whose HTTP client is gone, streamed or not)."""
        tokens: list[str] = []

        async def collect() -> None:
            async for token in seq.run(output):
                tokens.append(token)

        finished = False
        try:
            finished = await _unless_disconnected(request, collect())
        finally:
            seq.finish(finish_reason if finished and seq.generated == len(output) else "abort")
        return tokens if finished else None

    def _remember_usage(self, request: web.Request, usage: dict[str, Any]) -> None:
        request_id = request.get(REQUEST_ID)
        if request_id:
            self.usage_by_request[str(request_id)] = usage
            while len(self.usage_by_request) > 1024:
                self.usage_by_request.popitem(last=False)

    async def run_forever(self, io: ContainerIO) -> None:
        """Log throughput every ten seconds while there is traffic, as vLLM does."""
        prompt = generation = 0
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            e = self.engine
            dp, dg = e.prompt_tokens_total - prompt, e.generation_tokens_total - generation
            prompt, generation = e.prompt_tokens_total, e.generation_tokens_total
            stats = e.stats()
            if dp or dg or stats.running or stats.waiting:
                queries, hits = e.prefix_queries_total, e.prefix_hits_total
                io.log(
                    f"(APIServer pid=1) INFO {io.ctx.clock.now_dt():%m-%d %H:%M:%S} [loggers.py:127] Engine 000: "
                    f"Avg prompt throughput: {dp / STATS_INTERVAL:.1f} tokens/s, "
                    f"Avg generation throughput: {dg / STATS_INTERVAL:.1f} tokens/s, "
                    f"Running: {stats.running} reqs, Waiting: {stats.waiting} reqs, "
                    f"GPU KV cache usage: {stats.kv_usage * 100:.1f}%, "
                    f"Prefix cache hit rate: {(hits / queries * 100) if queries else 0.0:.1f}%"
                )
