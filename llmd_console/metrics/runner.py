"""Running a metrics source: ``auto`` picks Prometheus when one is configured and answers,
else the scrape; each round's feed and the alerts evaluated on it go to ``deliver``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config
from llmd_console.metrics.alerts import Alert, AlertEngine
from llmd_console.metrics.prometheus import PrometheusSettings, PrometheusSource
from llmd_console.metrics.readings import Feed, Reader
from llmd_console.metrics.scrape import Scraper, Target, Token, targets_of
from llmd_console.models import Snapshot

Deliver = Callable[[Feed, tuple[Alert, ...]], None]


def _secret(path: str) -> str:
    """A secret from its file (the config names files, never secrets)."""
    return Path(path).expanduser().read_text(encoding="utf-8").strip() if path else ""


def prometheus_settings(config: Config) -> PrometheusSettings:
    """The configured server; raises OSError when a secret's file cannot be read."""
    p = config.prometheus
    verify: bool | str = False if p.insecure else (str(Path(p.ca_file).expanduser()) if p.ca_file else True)
    return PrometheusSettings(
        p.url,
        token=_secret(p.token_file),
        username=p.username,
        password=_secret(p.password_file),
        verify=verify,
        pod_label=p.pod_label,
        namespace_label=p.namespace_label,
    )


async def _pods_known(snapshot: Callable[[], Snapshot], limit: float = 30.0) -> None:
    """Wait (a while) for the first list of pods: a round before it would report "no pod to
    scrape" for pods that exist but are not known yet."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        state = snapshot().kinds.get("pods")
        if state is not None and state.status != "loading":
            return
        await asyncio.sleep(0.05)


def endpoint_token(config: Config, client: KubeClient) -> Token | None:
    """Where the bearer token for endpoints that want one comes from: the configured file (read
    at each use, so a rotated token is picked up), else the kubeconfig's if allowed, else none."""
    settings = config.metrics
    if settings.token_file:

        async def from_file() -> str | None:
            try:
                return _secret(settings.token_file) or None
            except OSError as exc:
                raise KubeError(
                    0, "Token", f"cannot read metrics.token_file {settings.token_file}: {exc.strerror}"
                ) from None

        return from_file
    return client.bearer_token if settings.kubeconfig_token else None


async def run_metrics(
    config: Config,
    client: KubeClient,
    snapshot: Callable[[], Snapshot],
    deliver: Deliver,
    *,
    time_scale: float = 1.0,
    now: Callable[[], float] = time.time,
) -> None:
    """Collect rounds until cancelled."""
    settings = config.metrics
    interval = config.refresh.metrics_seconds
    history = settings.history_minutes * 60.0
    # Alert windows are about the cluster's time: a simulator running faster shortens them.
    engine = AlertEngine(config.alerts.scaled(time_scale))
    reader = Reader(interval, rate_window=settings.rate_window_seconds, span=settings.rate_window_seconds)

    def targets() -> list[Target]:
        return targets_of(snapshot(), settings.vllm_port, settings.epp_port)

    def namespace() -> str | None:
        return snapshot().namespace

    prometheus: PrometheusSource | None = None
    if settings.source == "prometheus" or (settings.source == "auto" and config.prometheus.url):
        prometheus = PrometheusSource(prometheus_settings(config), interval=interval, history_seconds=history, now=now)
        if settings.source == "auto" and not await prometheus.answering():
            prometheus = None  # auto: fall back to the pods' own /metrics
    source: Scraper | PrometheusSource
    if prometheus is None:
        scraper = source = Scraper(
            client,
            interval=interval,
            history_seconds=history,
            max_bytes=settings.max_page_bytes,
            now=now,
            token=endpoint_token(config, client),
        )

        async def collect(wanted: list[Target]) -> None:
            await scraper.round(wanted)

    else:
        source = prometheus
        backfilled = False

        async def collect(wanted: list[Target]) -> None:
            nonlocal backfilled
            if wanted and not backfilled:
                # History from before the console started, once the pods to show are known.
                await prometheus.backfill(wanted, namespace())
                backfilled = True
            await prometheus.round(wanted, namespace())

    await _pods_known(snapshot)
    while True:
        started = time.monotonic()
        await collect(targets())
        feed = source.feed()
        deliver(feed, tuple(engine.evaluate(feed, reader, now())))
        # The next round is armed after this one completed: a slow endpoint stretches the
        # interval instead of stacking requests.
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
