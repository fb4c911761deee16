"""The scrape source against the simulated cluster: every metric of the catalog is read
through the API server's pod proxy, moves under load and comes back after it; an endpoint
that cannot be read says why."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import httpx

from llmd_console.cluster.kube import KubeClient
from llmd_console.metrics.catalog import EPP, VLLM
from llmd_console.metrics.readings import Reader, Reading
from llmd_console.metrics.scrape import Scraper, Target
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import Kubectl
from tests.metrics.world import DECODE_SELECTOR, pattern1_targets, ready_pod

INTERVAL = 0.2


def by_key(readings: list[Reading]) -> dict[tuple[str, str], Reading]:
    return {(r.key, r.label): r for r in readings}


async def load(url: str, requests: int) -> None:
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(i: int) -> None:
            body = {"model": MODEL, "prompt": f"request {i} about Kubernetes", "max_tokens": 200}
            response = await client.post(f"{url}/v1/completions", json=body)
            response.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(requests)))


def test_the_scrape_source_reads_every_metric_and_follows_load(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl
) -> None:
    targets = pattern1_targets(kubectl)
    reader = Reader(INTERVAL, rate_window=3.0, span=30.0, points=20)

    async def scenario() -> tuple[dict[tuple[str, str], Reading], dict[tuple[str, str], Reading], dict[str, str]]:
        client = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
        scraper = Scraper(client, interval=INTERVAL)
        try:
            # One request first: a labelled counter has no series before its first event, and a
            # rate needs two points of a series (as in Prometheus).
            await load(f"http://{sim.ctx.gateway_address}", 1)
            for _ in range(3):
                await scraper.round(targets)
            idle = [r for m in VLLM for r in reader.read(m, scraper.histories("vllm"), "model")]
            traffic = asyncio.create_task(load(f"http://{sim.ctx.gateway_address}", 24))
            busy: list[Reading] = []
            running_seen = 0.0
            while not traffic.done():
                await scraper.round(targets)
                now = by_key([r for m in VLLM for r in reader.read(m, scraper.histories("vllm"), "model")])
                running_seen = max(running_seen, now[("running", "")].value)
                await asyncio.sleep(INTERVAL)
            await traffic
            await scraper.round(targets)
            busy = [r for m in VLLM + EPP for r in reader.read(m, scraper.histories(m.source), m.source)]
            errors = {t.key: h.error for t, h in scraper.endpoints.items() if h.error}
            assert running_seen > 0, "the running requests never rose under load"
            return by_key(idle), by_key(busy), errors
        finally:
            await client.close()

    idle, busy, errors = asyncio.run(scenario())
    assert not errors, errors
    assert idle[("running", "")].value == 0 and idle[("waiting", "")].value == 0
    assert idle[("kv_cache", "")].name == "vllm:kv_cache_usage_perc"
    assert busy[("gen_tps", "")].value > 0 and busy[("prompt_tps", "")].value > 0
    finished = {label: r.value for (key, label), r in busy.items() if key == "finished"}
    assert {"length", "stop", "abort"} <= set(finished) and finished["stop"] + finished["length"] > 0, finished
    for key in ("ttft", "itl", "e2e", "queue_time"):
        p50, p99 = busy[(key, "p50")].value, busy[(key, "p99")].value
        assert not math.isnan(p50) and p50 <= p99, (key, p50, p99)
    assert busy[("epp_requests", "")].value > 0
    assert busy[("epp_ready", "")].value == 1
    assert not math.isnan(busy[("epp_duration", "p99")].value)
    # Never an error yet: the EPP's error counter has no series, and the pane says why.
    errors_reading = busy[("epp_errors", "")]
    assert math.isnan(errors_reading.value) and errors_reading.why == "not emitted until the first error"


def test_an_endpoint_that_cannot_be_read_says_why(sim: SimCluster, kubeconfig: Path, kubectl: Kubectl) -> None:
    decode = f"{NAMESPACE}/{ready_pod(kubectl, DECODE_SELECTOR)}"
    reader = Reader(INTERVAL)

    async def scenario() -> dict[str, str]:
        client = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
        scraper = Scraper(client, interval=INTERVAL, max_bytes=1000)
        try:
            await scraper.round([Target(decode, "vllm", 8000), Target(decode, "epp", 9999)])
            return {t.source: h.error for t, h in scraper.endpoints.items()} | {
                "reading": reader.read(VLLM[0], scraper.histories("vllm"), "model")[0].why
            }
        finally:
            await client.close()

    errors = asyncio.run(scenario())
    assert "too large" in errors["vllm"] and "1,000 bytes" in errors["vllm"]
    assert "unreachable on port 9999" in errors["epp"]
    assert "too large" in errors["reading"]
