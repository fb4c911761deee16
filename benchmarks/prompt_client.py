"""Client overhead: TTFT and tokens/s measured by the console's ``send()`` against a bare httpx
stream of the same request to the same simulated gateway, as ratios (the target: within 5%).

Both clients parse each SSE line's JSON (the bare one as little as it can), the requests
alternate between them so that drift in the machine's load hits both alike, and medians are
compared. Run at the simulator's normal latency model (ITL ~12.5 ms) and with inference
latencies scaled to zero, where the client's own cost is the largest share. Run:

    python benchmarks/prompt_client.py [--requests 40] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import time
import uuid
from dataclasses import dataclass

import httpx
from bench_common import StageFailed, run_stages
from gateway_load import MODEL, Sim

from llmd_console.inference.client import request_body, send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import PromptRequest

PROMPT = "What is Kubernetes?"


@dataclass
class Timing:
    """One request's TTFT and decode rate."""

    ttft: float
    tokens_per_second: float


async def bare(client: httpx.AsyncClient, url: str, body: dict[str, object]) -> Timing:
    """The same streamed request, read with nothing but httpx and json."""
    t0 = time.perf_counter()
    first: float | None = None
    tokens = 0
    # The same headers as send() sets, so that the server does the same work for both.
    headers = {"x-request-id": str(uuid.uuid4()), "accept": "text/event-stream"}
    async with client.stream("POST", url + "/v1/chat/completions", json=body, headers=headers) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                tokens += 1
                if first is None:
                    first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    if first is None or tokens == 0:
        raise StageFailed(f"the bare stream got no tokens (status {response.status_code})")
    return Timing(first, tokens / (total - first))


async def console(client: httpx.AsyncClient, endpoint: Endpoint, request: PromptRequest) -> Timing:
    """The request through ``send()``."""
    outcome = await send(client, endpoint, request)
    if not outcome.ok or outcome.ttft is None or outcome.tokens_per_second is None:
        raise StageFailed(f"send() failed: {outcome.failure}")
    return Timing(outcome.ttft, outcome.tokens_per_second)


async def compare(url: str, requests: int, max_tokens: int) -> tuple[list[Timing], list[Timing]]:
    """``requests`` of each, alternating, after a few warm-up requests."""
    endpoint = Endpoint(url, "gateway")
    request = PromptRequest(PROMPT, MODEL, max_tokens=max_tokens)
    body = request_body(request)
    ours: list[Timing] = []
    theirs: list[Timing] = []
    async with endpoint.client() as client:
        for _ in range(3):
            await console(client, endpoint, request)
            await bare(client, url, body)
        for n in range(requests):
            if n % 2:
                ours.append(await console(client, endpoint, request))
                theirs.append(await bare(client, url, body))
            else:
                theirs.append(await bare(client, url, body))
                ours.append(await console(client, endpoint, request))
    return ours, theirs


def report(label: str, ours: list[Timing], theirs: list[Timing]) -> None:
    """Print the medians and the ratios."""
    ttft_o, ttft_b = (statistics.median(t.ttft for t in runs) for runs in (ours, theirs))
    tps_o, tps_b = (statistics.median(t.tokens_per_second for t in runs) for runs in (ours, theirs))
    print(
        f"{label}: TTFT median send() {ttft_o * 1000:.2f} ms vs bare httpx {ttft_b * 1000:.2f} ms "
        f"(ratio {ttft_o / ttft_b:.3f}); tokens/s median send() {tps_o:.1f} vs bare {tps_b:.1f} "
        f"(ratio {tps_o / tps_b:.3f}); {len(ours)} requests each",
        flush=True,
    )


def stage(latency_scale: float, args: argparse.Namespace) -> None:
    """One simulator, both clients against its gateway."""
    sim = Sim(latency_scale)
    try:
        ours, theirs = asyncio.run(compare(sim.gateway, args.requests, args.max_tokens))
    finally:
        sim.close()
    report(f"latency scale {latency_scale:g}, {args.max_tokens} tokens", ours, theirs)


def main() -> None:
    """Parse the arguments and run both stages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    if args.requests < 1 or args.max_tokens < 2:
        parser.error("--requests must be at least 1 and --max-tokens at least 2")
    failed = run_stages([(f"scale {scale:g}", functools.partial(stage, scale, args)) for scale in (1.0, 0.0)])
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
