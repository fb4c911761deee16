"""The metrics pane against the simulated cluster: every section drawn, the values move under
load, the span and scope keys, and the compact layout."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from pathlib import Path

import httpx

from llmd_console.config import Config, RefreshConfig
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.messages import PodSelected
from llmd_console.ui.panes.metrics import MetricsPane
from tests.console.conftest import make_app, until

FAST = dataclasses.replace(Config(), refresh=RefreshConfig(metrics_seconds=0.3))


def pane(app: ConsoleApp) -> MetricsPane:
    return app.query_one(MetricsPane)


def body(app: ConsoleApp) -> str:
    return str(pane(app).body.render())


async def send(url: str, requests: int) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        body = {"model": MODEL, "prompt": "Tell me about the TPU v6e", "max_tokens": 400}
        await asyncio.gather(*(client.post(f"{url}/v1/completions", json=body) for _ in range(requests)))


def running_now(app: ConsoleApp) -> float:
    feed = pane(app).feed
    if feed is None or not feed.vllm:
        return math.nan
    history = next(iter(feed.vllm.values()))
    rings = history.matching("vllm:num_requests_running")
    return sum(ring.last() for ring in rings.values()) if rings else math.nan


async def test_the_metrics_pane_draws_both_sources_and_follows_load(world: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = world
    app = make_app(kubeconfig, FAST, layout="demo")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: pane(app).feed is not None and len(pane(app).feed.vllm) == 1, limit=60)  # type: ignore[union-attr]
        await until(pilot, lambda: "Scheduler (EPP) (1 pod)" in body(app), what="the EPP section")
        ready = lambda: any(p.role == "decode" and p.is_ready for p in app.snapshot.pods.values())  # noqa: E731
        await until(pilot, ready, limit=60, what="the model server ready")
        await until(pilot, lambda: "TTFT p99" in body(app), what="the model server's metrics")
        text = body(app)
        for title in ("running requests", "KV-cache usage", "TTFT p99", "pool queue size", "ready endpoints"):
            assert title in text, title
        assert "not emitted until the first error" in text  # never a zero for "no errors yet"
        header = str(pane(app).header.render())
        assert "scrape" in header and "history 5 min" in header and "pool" in header

        load = asyncio.create_task(send(f"http://{sim.ctx.gateway_address}", 32))
        seen = 0.0
        while not load.done():
            value = running_now(app)
            seen = max(seen, 0.0 if math.isnan(value) else value)
            await pilot.pause(0.1)
        await load
        assert seen > 0, "the running requests never rose on the pane's data"
        await until(pilot, lambda: running_now(app) == 0, what="the running requests back to zero")

        app.focus_pane("metrics")
        await pilot.pause(0.1)
        await pilot.press("t")
        assert "history 15 min" in str(pane(app).header.render())
        decode = next(k for k, p in app.snapshot.pods.items() if p.role == "decode")
        app.post_message(PodSelected(decode))
        await until(pilot, lambda: pane(app).selected == decode, what="the selection")
        await pilot.press("s")
        await until(pilot, lambda: "Model servers - this pod" in body(app), what="the pod scope")
        assert "pod ms-pattern1" in str(pane(app).header.render())


async def test_the_metrics_pane_in_the_compact_layout(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.layout_name == "compact", what="compact")
        await pilot.press("5")
        await until(pilot, lambda: pane(app).display and "running requests" in body(app), limit=60, what="metrics")
        assert pane(app).size.width <= 80
