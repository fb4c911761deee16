"""The Prometheus source against a real Prometheus scraping the simulator: the same metrics
as the scrape source, history backfilled with query_range, and the same p99 TTFT as
Prometheus's own histogram_quantile over the same window."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from pathlib import Path

import openai
from prometheus_api_client import PrometheusConnect

from llmd_console.cluster.kube import KubeClient
from llmd_console.metrics.catalog import BY_KEY, EPP, VLLM
from llmd_console.metrics.prometheus import PrometheusSettings, PrometheusSource
from llmd_console.metrics.readings import Reader
from llmd_console.metrics.scrape import Scraper
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import Kubectl, wait_for
from tests.metrics.world import pattern1_targets

WINDOW = 60.0


def value(prom: PrometheusConnect, query: str) -> float:
    result = prom.custom_query(query)
    return float(result[0]["value"][1]) if result else math.nan


def test_prometheus_source_agrees_with_the_scrape_source_and_with_prometheus(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl, prometheus: str
) -> None:
    targets = pattern1_targets(kubectl)
    prom = PrometheusConnect(url=prometheus, disable_ssl=True)
    wait_for(lambda: value(prom, "sum(up)") == 2, timeout=30, message="both targets up")
    client = openai.OpenAI(base_url=f"http://{sim.ctx.gateway_address}/v1", api_key="unused", max_retries=0)

    def load() -> int:
        deadline = time.monotonic() + 5
        served = 0
        while time.monotonic() < deadline:
            for _ in client.completions.create(model=MODEL, prompt=f"Load {served}", max_tokens=30, stream=True):
                pass
            served += 1
        return served

    reader = Reader(1.0, rate_window=WINDOW, span=WINDOW)

    async def both() -> tuple[PrometheusSource, Scraper]:
        kube = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
        scraper = Scraper(kube, interval=1.0)
        try:
            # The scrape source runs through the load, as the console does.
            await scraper.round(targets)
            task = asyncio.create_task(asyncio.to_thread(load))
            while not task.done():
                await scraper.round(targets)
                await asyncio.sleep(0.5)
            served = await task
            await scraper.round(targets)
        finally:
            await kube.close()
        # Every request is in Prometheus too: it has scraped after the last one.
        await asyncio.to_thread(
            wait_for,
            lambda: value(prom, "sum(vllm:time_to_first_token_seconds_count)") >= served,
            20,
            0.2,
            "a Prometheus scrape that saw every request",
        )
        source = PrometheusSource(PrometheusSettings(prometheus), interval=1.0, history_seconds=WINDOW)
        assert await source.answering()
        await source.backfill(targets, None)
        await source.round(targets, None)
        return source, scraper

    source, scraper = asyncio.run(both())
    assert not source.error, source.error
    feed = source.feed()
    assert all(not h.error for h in list(feed.vllm.values()) + list(feed.epp.values()))
    # Backfilled: the history reaches back before the load.
    assert len(next(iter(feed.vllm.values())).times) > 5
    # The same metrics from both sources (what each reads now).
    for metric in VLLM + EPP:
        if metric.kind in ("gauge",):
            ours = reader.read(metric, scraper.histories(metric.source), metric.source)
            theirs = reader.read(metric, feed.of(metric.source), metric.source)
            assert [r.name for r in ours] == [r.name for r in theirs], metric.key
    # p99 TTFT over the window: the scrape source's and the Prometheus source's (computed by the
    # console) equal Prometheus's own histogram_quantile over the same increases. Tolerance 5 %:
    # all three interpolate inside the same bucket from the same counts once every request is
    # counted; only the window's edges, which fall on different scrape times, could differ, and
    # the load lies well inside the 60 s window.
    promql = value(
        prom, f"histogram_quantile(0.99, sum by (le) (increase(vllm:time_to_first_token_seconds_bucket[{WINDOW:g}s])))"
    )
    assert not math.isnan(promql)
    for name, endpoints in (("scrape", scraper.histories("vllm")), ("prometheus", feed.vllm)):
        p99 = next(r.value for r in reader.read(BY_KEY["ttft"], endpoints, "model") if r.label == "p99")
        assert not math.isnan(p99) and abs(p99 - promql) <= 0.05 * promql, (name, p99, promql)


async def test_the_console_reads_from_prometheus_when_configured(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl, prometheus: str
) -> None:
    from llmd_console.config import Config, MetricsConfig, PrometheusConfig, RefreshConfig
    from llmd_console.ui.panes.metrics import MetricsPane
    from tests.console.conftest import make_app, until

    config = dataclasses.replace(
        Config(),
        refresh=RefreshConfig(metrics_seconds=0.5),
        metrics=MetricsConfig(source="auto"),
        prometheus=PrometheusConfig(url=prometheus),
    )
    app = make_app(kubeconfig, config, layout="demo")
    async with app.run_test(size=(160, 45)) as pilot:
        pane = app.query_one(MetricsPane)
        await until(
            pilot,
            lambda: pane.feed is not None and pane.feed.vllm,
            limit=60,
            what="a Prometheus round",
        )
        assert pane.feed is not None and pane.feed.source.startswith("prometheus: http://127.0.0.1")
        await until(pilot, lambda: "running requests" in str(pane.body.render()), what="the pane drawn")
        assert "prometheus:" in str(pane.header.render())
