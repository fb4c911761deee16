"""The simulated data path under load.

1. The gateway's added latency per request: with inference latencies scaled to
   zero, a one-token completion through the gateway (HTTPRoute -> InferencePool ->
   EPP -> pod) against the same request sent straight to the pod through the API
   server's pod proxy.
2. Sustained streaming throughput of one simulated vLLM pod at its normal latency
   model: concurrent clients stream completions through the gateway for a while.

The simulator runs as a separate ``llmd-console sim`` process so the load
generator does not share its interpreter. Every wait has a deadline: a stage that
passes one prints what it was waiting for and what it saw, and the run goes on. Run:

    python benchmarks/gateway_load.py [--requests 300] [--clients 32] [--seconds 15] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable

import httpx
from bench_common import SimProcess, StageFailed, percentile, run_stages
from prometheus_client.parser import text_string_to_metric_families

MODEL = "Qwen/Qwen2.5-3B-Instruct"
NS = "llm-d-inference-scheduling"
SIM_START_SECONDS = 120
READY_SECONDS = 60
STREAM_GRACE_SECONDS = 120  # after --seconds, for the last streams to finish


class Sim(SimProcess):
    """A ``llmd-console sim`` subprocess whose gateway answers completions."""

    def __init__(self, latency_scale: float) -> None:
        super().__init__("--speed", "200", "--latency-scale", str(latency_scale), start_seconds=SIM_START_SECONDS)
        self.api = self.url
        try:
            self.gateway = self._wait_ready()
        except StageFailed:
            self.close()
            raise

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + READY_SECONDS
        saw = "nothing yet"
        while time.monotonic() < deadline:
            try:
                gw = httpx.get(
                    f"{self.api}/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/gateways/infra-pattern1-inference-gateway"
                ).json()
                addresses = gw.get("status", {}).get("addresses") or []
                saw = "the Gateway has no address"
                if addresses:
                    url = f"http://{addresses[0]['value']}"
                    response = httpx.post(f"{url}/v1/completions", json={"model": MODEL, "prompt": "hi"})
                    if response.status_code == 200:
                        return url
                    saw = f"a completion through {url} answered {response.status_code}: {response.text[:200]!r}"
            except httpx.HTTPError as exc:
                saw = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        raise StageFailed(
            f"timed out after {READY_SECONDS} s waiting for a completion through the gateway to succeed; last saw {saw}"
        )

    def decode_pod(self) -> str:
        """The decode pod's name."""
        pods = httpx.get(
            f"{self.api}/api/v1/namespaces/{NS}/pods", params={"labelSelector": "llm-d.ai/inferenceServing=true"}
        ).json()["items"]
        return str(pods[0]["metadata"]["name"])


async def timed_posts(url: str, count: int) -> list[float]:
    """Sequential one-token completions; seconds each."""
    body = {"model": MODEL, "prompt": "Explain Docker in one sentence.", "max_tokens": 1}
    out = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(count):
            start = time.perf_counter()
            response = await client.post(url, json=body)
            out.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return out


def scrape_means(url: str, names: list[str]) -> dict[str, tuple[float, float]]:
    """(sum, count) of histograms in a /metrics body, summed over label sets."""
    out = dict.fromkeys(names, (0.0, 0.0))
    for family in text_string_to_metric_families(httpx.get(url).text):
        for sample in family.samples:
            for name in names:
                total, count = out[name]
                if sample.name == name + "_sum":
                    out[name] = (total + sample.value, count)
                elif sample.name == name + "_count":
                    out[name] = (total, count + sample.value)
    return out


def added_latency(requests: int) -> None:
    """Where the time of a one-token completion goes, with inference itself instant."""
    sim = Sim(latency_scale=0.0)
    try:
        pod = sim.decode_pod()
        direct_url = f"{sim.api}/api/v1/namespaces/{NS}/pods/{pod}:8000/proxy/v1/completions"
        asyncio.run(timed_posts(direct_url, requests))
        vllm_url = f"{sim.api}/api/v1/namespaces/{NS}/pods/{pod}:8000/proxy/metrics"
        epp_url = f"{sim.api}/api/v1/namespaces/{NS}/services/gaie-pattern1-epp:9090/proxy/metrics"
        before_v = scrape_means(vllm_url, ["vllm:e2e_request_latency_seconds"])
        before_e = scrape_means(
            epp_url,
            ["inference_objective_request_duration_seconds", "inference_extension_scheduler_e2e_duration_seconds"],
        )
        via_gateway = asyncio.run(timed_posts(f"{sim.gateway}/v1/completions", requests))
        after_v = scrape_means(vllm_url, ["vllm:e2e_request_latency_seconds"])
        after_e = scrape_means(
            epp_url,
            ["inference_objective_request_duration_seconds", "inference_extension_scheduler_e2e_duration_seconds"],
        )
        direct = asyncio.run(timed_posts(direct_url, requests))
    finally:
        sim.close()

    def mean_ms(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], name: str) -> float:
        return (after[name][0] - before[name][0]) / max(after[name][1] - before[name][1], 1) * 1000

    engine = mean_ms(before_v, after_v, "vllm:e2e_request_latency_seconds")
    scheduling = mean_ms(before_e, after_e, "inference_extension_scheduler_e2e_duration_seconds")
    upstream = mean_ms(before_e, after_e, "inference_objective_request_duration_seconds")
    g50, d50 = statistics.median(via_gateway) * 1000, statistics.median(direct) * 1000
    print(f"one-token completion, inference latency 0, {requests} sequential requests:")
    print(
        f"  client round trip through the gateway:  p50 {g50:.2f} ms  p95 {percentile(via_gateway, 95) * 1000:.2f} ms"
    )
    print(f"  EPP scheduling (scorers + picker):      mean {scheduling:.3f} ms")
    print(f"  EPP-picked pod, request to response:    mean {upstream:.3f} ms (of which vLLM engine {engine:.3f} ms)")
    print(f"  gateway + EPP added per request:        mean {scheduling + upstream - engine:.3f} ms (server side)")
    print(f"  for comparison, the API server's pod proxy: p50 {d50:.2f} ms round trip")


async def stream_client(url: str, stop_at: float, max_tokens: int, ttfts: list[float], counts: list[int]) -> None:
    """Stream completions back to back until ``stop_at``."""
    body = {"model": MODEL, "prompt": "Tell me about inference scheduling.", "max_tokens": max_tokens,
            "stream": True, "ignore_eos": True}  # fmt: skip
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            first = None
            tokens = 0
            async with client.stream("POST", url, json=body) as response:
                async for line in response.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    if first is None:
                        first = time.perf_counter() - start
                    tokens += len(json.loads(line[6:])["choices"])
            if first is not None:
                ttfts.append(first)
            counts.append(tokens)


def sustained(clients: int, seconds: float, max_tokens: int) -> None:
    """Streaming requests/s of one pod through the gateway at the normal latency model."""
    sim = Sim(latency_scale=1.0)
    ttfts: list[float] = []
    counts: list[int] = []
    try:
        stop_at = time.monotonic() + seconds
        started = time.monotonic()

        async def run() -> None:
            await asyncio.gather(
                *(stream_client(f"{sim.gateway}/v1/completions", stop_at, max_tokens, ttfts, counts)
                  for _ in range(clients))
            )  # fmt: skip

        budget = seconds + STREAM_GRACE_SECONDS
        try:
            asyncio.run(asyncio.wait_for(run(), budget))
        except TimeoutError as exc:
            raise StageFailed(
                f"timed out after {budget:g} s waiting for the {clients} clients' last streams to end "
                f"(they start no new request after {seconds:g} s); saw {len(counts)} requests finish, "
                f"{sum(counts)} tokens"
            ) from exc
        elapsed = time.monotonic() - started
    finally:
        sim.close()
    print(f"\nstreaming completions of {max_tokens} tokens, {clients} concurrent clients, {elapsed:.1f} s:")
    print(f"  {len(counts) / elapsed:.1f} requests/s, {sum(counts) / elapsed:.0f} tokens/s from one pod")
    print(
        f"  time to first token p50 {statistics.median(ttfts) * 1000:.0f} ms, p99 {percentile(ttfts, 99) * 1000:.0f} ms"
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    stages: list[tuple[str, Callable[[], None]]] = [
        ("gateway added latency", lambda: added_latency(args.requests)),
        ("sustained streaming", lambda: sustained(args.clients, args.seconds, args.max_tokens)),
    ]
    failed = run_stages(stages)
    if failed:
        raise SystemExit(f"stages that did not finish: {', '.join(failed)}")


if __name__ == "__main__":
    main()
