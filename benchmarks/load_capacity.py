"""What the load generator can drive on this machine: requests/s and streamed tokens/s against
the simulated gateway at zero inference latency (so the generator, the gateway and the
simulated vLLM's own work are the only limits), at several concurrencies.

The simulator runs as a separate ``llmd-console sim --latency-scale 0`` process; the generator
(``llmd_console.load``'s runner over the inference client) runs here. Beside the rates it
prints each side's CPU use, the cost of the live statistics' ``snapshot()`` (what a pane polls
at 4 Hz), and how late a 10 ms timer on the generator's event loop fires
(p95/p99): the prompt pane runs the generator on the UI's loop, so this lateness is what a key
press would wait on top of its own handling. The same requests from a bare httpx loop (no
timings, no statistics) are the reference for what the generator itself costs. Run:

    python benchmarks/load_capacity.py [--requests 2000] [--concurrency 8,32,128] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from bench_common import StageFailed, percentile, rss_mib, run_stages
from gateway_load import MODEL, Sim

from llmd_console.inference.endpoint import Endpoint
from llmd_console.load.profiles import Concurrent
from llmd_console.load.prompts import PromptSet, builtin_prompts
from llmd_console.load.runner import LoadRunner, RunResult
from llmd_console.load.settings import RunSettings, Slo

TICK = 0.01


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def loop_lateness(out: list[float]) -> None:
    """How late a timer fires on this loop, forever."""
    loop = asyncio.get_running_loop()
    while True:
        at = loop.time()
        await asyncio.sleep(TICK)
        out.append(loop.time() - at - TICK)


async def bare(url: str, requests: int, concurrency: int, max_tokens: int) -> tuple[float, float]:
    """The same requests from a bare httpx stream loop (no timings, no statistics): requests/s and
    chunks/s, the reference for what the generator itself costs."""
    prompts = PromptSet(tuple(builtin_prompts()))
    slots = asyncio.Semaphore(concurrency)
    chunks = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:

        async def one(n: int) -> None:
            nonlocal chunks
            body = {
                "model": MODEL,
                "messages": [{"role": "user", "content": prompts.pick(n, 0)[0]}],
                "max_tokens": max_tokens,
                "stream": True,
            }
            async with slots, client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    chunks += line.startswith("data: {")

        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(requests)))
        took = time.monotonic() - started
    return requests / took, chunks / took


async def drive(url: str, requests: int, concurrency: int, max_tokens: int) -> tuple[RunResult, list[float]]:
    """One concurrent run; its result and the loop's lateness during it."""
    endpoint = Endpoint(url, f"gateway {url}")
    settings = RunSettings(
        MODEL, Slo(0.2, 0.05), max_tokens=max_tokens, request_id_prefix=f"cap-{concurrency}", max_records=requests
    )
    prompts = PromptSet(tuple(builtin_prompts()))
    late: list[float] = []
    ticker = asyncio.ensure_future(loop_lateness(late))
    try:
        async with endpoint.client() as client:
            result = await LoadRunner(client, endpoint, prompts, settings).run(Concurrent(requests, concurrency))
    finally:
        ticker.cancel()
    return result, late


def capacity(requests: int, concurrencies: list[int], max_tokens: int) -> None:
    """Requests/s and tokens/s at each concurrency."""
    sim = Sim(latency_scale=0.0)
    try:
        print(f"streamed chat completions of up to {max_tokens} tokens, built-in prompts, inference latency 0:")
        print(
            "  conc   req/s   tokens/s   TTFT p50/p99 ms   failed   generator CPU   sim CPU   loop late p95/p99 ms"
            "   snapshot() us   bare httpx req/s, chunks/s"
        )
        for concurrency in concurrencies:
            sim_cpu, own_cpu, start = cpu_seconds(sim.proc.pid), time.process_time(), time.monotonic()
            result, late = asyncio.run(drive(sim.gateway, requests, concurrency, max_tokens))
            wall = time.monotonic() - start
            sim_used, own_used = cpu_seconds(sim.proc.pid) - sim_cpu, time.process_time() - own_cpu
            s = result.overall
            if s.ok == 0:
                raise StageFailed(f"no request succeeded at concurrency {concurrency}: {s.errors}")
            ttft50 = (s.ttft.p50 or 0) * 1000
            ttft99 = (s.ttft.p99 or 0) * 1000
            late_ms = [x * 1000 for x in late] or [0.0]
            took = time.perf_counter()
            for _ in range(200):
                result.stats.snapshot()
            snapshot_us = (time.perf_counter() - took) / 200 * 1e6
            bare_rps, bare_chunks = asyncio.run(bare(sim.gateway, requests, concurrency, max_tokens))
            print(
                f"  {concurrency:4d}  {s.completed / s.elapsed:6.1f}  {s.output_tokens / s.elapsed:9.0f}"
                f"   {ttft50:7.1f} / {ttft99:6.1f}   {s.failed:6d}   {own_used / wall:12.0%}  {sim_used / wall:8.0%}"
                f"   {percentile(late_ms, 95):6.1f} / {percentile(late_ms, 99):6.1f}   {snapshot_us:10.0f}"
                f"   {bare_rps:8.1f}, {bare_chunks:6.0f}",
                flush=True,
            )
        print(f"  generator process RSS at the end: {rss_mib():.0f} MiB")
    finally:
        sim.close()


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", default="8,32,128", help="comma-separated")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    stages: list[tuple[str, Callable[[], None]]] = [
        ("capacity", lambda: capacity(args.requests, levels, args.max_tokens))
    ]
    failed = run_stages(stages)
    if failed:
        raise SystemExit(f"stages that did not finish: {', '.join(failed)}")


if __name__ == "__main__":
    main()
