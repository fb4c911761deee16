"""llm-d's alerts fire and clear on the simulator's metrics: an EPP error storm, and the model
pods scaled to zero."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import AlertsConfig
from llmd_console.metrics.alerts import Alert, AlertEngine
from llmd_console.metrics.readings import Reader
from llmd_console.metrics.scrape import Scraper
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import DECODE_NAME, MODEL, NAMESPACE
from tests.conftest import Kubectl
from tests.metrics.world import pattern1_targets

INTERVAL = 0.2
IMMEDIATE = AlertsConfig(*([0.0] * 7))  # every condition fires as soon as it holds


async def requests(url: str, count: int, model: str = MODEL) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        body = {"model": model, "prompt": "hello", "max_tokens": 5}
        await asyncio.gather(*(client.post(f"{url}/v1/completions", json=body) for _ in range(count)))


def test_an_error_storm_and_a_pool_without_endpoints_fire_and_clear(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl
) -> None:
    targets = pattern1_targets(kubectl)
    url = f"http://{sim.ctx.gateway_address}"
    reader = Reader(INTERVAL, rate_window=2.0, span=2.0)
    engine = AlertEngine(IMMEDIATE)

    async def scenario() -> dict[str, list[str]]:
        client = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
        scraper = Scraper(client, interval=INTERVAL)
        seen: dict[str, list[str]] = {}

        async def rounds_until(condition: Callable[[list[Alert]], bool], during: Awaitable[None] | None = None) -> None:
            task = asyncio.ensure_future(during) if during is not None else None
            for _ in range(150):
                await scraper.round(targets)
                alerts = [a for a in engine.evaluate(scraper.feed(), reader, scraper.now()) if a.firing]
                for alert in alerts:
                    seen.setdefault(alert.key, []).append(alert.summary)
                if condition(alerts) and (task is None or task.done()):
                    return
                await asyncio.sleep(INTERVAL)
            raise AssertionError(f"the alerts never reached the state wanted; seen {sorted(seen)}")

        try:
            await requests(url, 5)  # the request counters exist before the storm
            await rounds_until(lambda alerts: not alerts)
            # An error storm: every request names a model nobody serves.
            storm = requests(url, 40, model="no-such-model")
            await rounds_until(lambda alerts: any(a.key == "epp_errors_critical" for a in alerts), storm)
            # Good requests only: once the window has passed the ratio falls and the alert clears.
            await rounds_until(lambda alerts: not any(a.key.startswith("epp_errors") for a in alerts), requests(url, 5))
            kubectl.run("scale", "deployment", DECODE_NAME, "--replicas=0")
            await rounds_until(lambda alerts: any(a.key == "no_ready_endpoints" for a in alerts))
            kubectl.run("scale", "deployment", DECODE_NAME, "--replicas=1")
            await rounds_until(lambda alerts: not any(a.key == "no_ready_endpoints" for a in alerts))
        finally:
            await client.close()
        return seen

    seen = asyncio.run(scenario())
    assert "EPP error ratio" in seen["epp_errors_critical"][0]
    assert "no ready endpoint" in seen["no_ready_endpoints"][0]
