"""The scrape source: each model pod's and EPP pod's ``/metrics`` through the Kubernetes API
server's pod proxy (what ``kubectl get --raw`` does), into per-endpoint history.

Every request is bounded in bytes and time, and a round's endpoints are scraped concurrently
up to a limit (the runner starts the next round only after this one has finished).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.metrics.catalog import EPP, VLLM, Source, sample_names
from llmd_console.metrics.exposition import NotMetrics, parse
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.models import Snapshot

ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"  # the text format, as Prometheus asks for it
WANTED: dict[Source, frozenset[str]] = {
    "vllm": frozenset(name for metric in VLLM for name in sample_names(metric)),
    "epp": frozenset(name for metric in EPP for name in sample_names(metric)),
}


@dataclass(frozen=True)
class Target:
    """One metrics endpoint: a pod's port."""

    key: str  # the pod, namespace/name
    source: Source
    port: int

    @property
    def path(self) -> str:
        """The API server's proxy path to the endpoint's ``/metrics``."""
        namespace, _, name = self.key.partition("/")
        return f"/api/v1/namespaces/{namespace}/pods/{name}:{self.port}/proxy/metrics"


def explain(error: KubeError, target: Target) -> str:
    """Why an endpoint gave no metrics, in words."""
    what = "the EPP" if target.source == "epp" else "the model server"
    if error.status in (401, 403):
        return (
            f"{what} refused the scrape ({error.status}): its metrics need a bearer token "
            "(the EPP's --metrics-endpoint-auth), or RBAC denies pods/proxy"
        )
    if error.status == 404:
        return f"{what} has no /metrics on port {target.port} (404)"
    if error.status == 413:
        return f"{what}'s /metrics page is too large: {error.message}"
    if error.status in (502, 503):
        return f"{what} is unreachable on port {target.port} ({error.status}: {error.message[:120]})"
    if error.status == 0:
        return f"{what}: {error.message}"
    return f"{what}: {error.status} {error.reason}: {error.message[:160]}"


class Scraper:
    """Scrapes a changing set of endpoints into bounded history."""

    def __init__(
        self,
        client: KubeClient,
        *,
        interval: float = 2.0,
        history_seconds: float = 3600.0,
        max_bytes: int = 8 * 1024 * 1024,
        timeout: float = 5.0,
        concurrency: int = 8,
        now: Callable[[], float] = time.time,
    ) -> None:
        """A scraper keeping ``history_seconds`` of history at ``interval``."""
        self.client = client
        self.interval = interval
        self.capacity = max(2, int(history_seconds / interval) + 1)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.now = now
        self._slots = asyncio.Semaphore(concurrency)
        self.endpoints: dict[Target, EndpointHistory] = {}
        self.rounds = 0
        self.last_round: float | None = None  # when the last round finished

    async def scrape(self, target: Target) -> None:
        """One endpoint, once: its history gains a point, or its reason for having none."""
        history = self.endpoints.setdefault(target, EndpointHistory(self.capacity))
        async with self._slots:
            try:
                body = await self.client.get_bytes(
                    target.path, max_bytes=self.max_bytes, accept=ACCEPT, seconds=self.timeout
                )
                page = await asyncio.to_thread(parse, body, WANTED[target.source])
            except KubeError as exc:
                history.failed(explain(exc, target))
                return
            except NotMetrics as exc:
                history.failed(f"port {target.port} answered with {exc}")
                return
        history.record(self.now(), page)

    async def round(self, targets: Iterable[Target]) -> None:
        """Every endpoint once, concurrently (bounded); endpoints no longer wanted are forgotten."""
        wanted = set(targets)
        for gone in set(self.endpoints) - wanted:
            del self.endpoints[gone]
        await asyncio.gather(*(self.scrape(target) for target in wanted))
        self.rounds += 1
        self.last_round = self.now()

    def histories(self, source: Source) -> dict[str, EndpointHistory]:
        """The endpoints of one source, by pod key."""
        return {target.key: history for target, history in self.endpoints.items() if target.source == source}

    def feed(self) -> Feed:
        """What the pane draws from."""
        endpoints = ((target.key, target.source, history) for target, history in self.endpoints.items())
        return Feed.split(endpoints, self.interval, self.last_round, "scrape: pods' /metrics via the API proxy")


def targets_of(snapshot: Snapshot, vllm_port: int, epp_port: int) -> list[Target]:
    """The endpoints to scrape: every running model server and EPP pod in view."""
    out = []
    for key, pod in snapshot.pods.items():
        if pod.terminating or pod.phase != "Running":
            continue
        if pod.role in ("decode", "prefill"):
            out.append(Target(key, "vllm", vllm_port))
        elif pod.role == "epp":
            out.append(Target(key, "epp", epp_port))
    return out
