"""The scrape source: each model pod's and EPP pod's ``/metrics`` through the Kubernetes API
server's pod proxy (what ``kubectl get --raw`` does), into per-endpoint history.

An endpoint the proxy cannot read for want of credentials (401/403: the EPP's metrics
authentication, or RBAC denying ``pods/proxy``) is read over a port-forward instead, with the
configured bearer token where there is one; it stays on the port-forward from then on.

Every request is bounded in bytes and time, and a round's endpoints are scraped concurrently
up to a limit (the runner starts the next round only after this one has finished).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.cluster.portforward import http_get
from llmd_console.metrics.catalog import EPP, VLLM, Source, sample_names
from llmd_console.metrics.exposition import NotMetrics, parse
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.models import Snapshot

ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"  # the text format, as Prometheus asks for it
Token = Callable[[], Awaitable[str | None]]
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


def explain(error: KubeError, target: Target, *, endpoint: bool = False, token: bool = False) -> str:
    """Why an endpoint gave no metrics, in words (``endpoint``: the pod's server itself answered
    ``error`` over a port-forward; ``token``: a bearer token was sent to it)."""
    what = "the EPP" if target.source == "epp" else "the model server"
    if endpoint and error.status == 401:
        if token:
            return f"{what} refused the bearer token (401): the API server does not accept it"
        return (
            f"{what}'s /metrics wants a bearer token (401; the EPP's --metrics-endpoint-auth): set "
            "metrics.token_file or metrics.kubeconfig_token, or run it with --metrics-endpoint-auth=false"
        )
    if endpoint and error.status == 403:
        return (
            f"{what} refused the scrape (403): the token's identity may not GET /metrics; grant it a "
            'ClusterRole with nonResourceURLs ["/metrics"] and verbs ["get"]'
        )
    if error.status == 401:
        return (
            f"{what} could not be read (401: the API server, or the endpoint behind its proxy, wants "
            f"credentials): {error.message[:200]}"
        )
    if error.status == 403:
        return (
            f"the API server refused to reach {what} (403: RBAC must allow pods/proxy or pods/portforward): "
            f"{error.message[:200]}"
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
        token: Token | None = None,
    ) -> None:
        """A scraper keeping ``history_seconds`` of history at ``interval``; ``token`` gives the
        bearer token for endpoints that want one (None: none is sent)."""
        self.client = client
        self.token = token
        # Endpoints read over a port-forward, because the proxy could not read them.
        self.forwarded: set[Target] = set()
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
                body = await self._fetch(target)
                page = await asyncio.to_thread(parse, body, WANTED[target.source])
            except _Refused as exc:
                history.failed(explain(exc.error, target, endpoint=True, token=exc.token))
                return
            except KubeError as exc:
                history.failed(explain(exc, target))
                return
            except NotMetrics as exc:
                history.failed(f"port {target.port} answered with {exc}")
                return
        history.record(self.now(), page)

    async def _fetch(self, target: Target) -> bytes:
        proxied: KubeError | None = None
        if target not in self.forwarded:
            try:
                return await self.client.get_bytes(
                    target.path, max_bytes=self.max_bytes, accept=ACCEPT, seconds=self.timeout
                )
            except KubeError as exc:
                if exc.status not in (401, 403):
                    raise
                proxied = exc
        token = await self.token() if self.token is not None else None
        headers = {"Accept": ACCEPT} | ({"Authorization": f"Bearer {token}"} if token else {})
        try:
            answer = await http_get(
                self.client,
                target.key,
                target.port,
                "/metrics",
                headers=headers,
                max_bytes=self.max_bytes,
                seconds=self.timeout,
            )
        except KubeError as exc:
            if proxied is None:
                raise
            # What the proxy said is the news; the port-forward's failure is the footnote.
            note = f"{proxied.message[:120]} (a port-forward failed too: {exc.message[:120]})"
            raise KubeError(proxied.status, proxied.reason, note) from None
        if answer.status != 200:
            error = KubeError(answer.status, answer.reason, answer.body[:200].decode("utf-8", "replace"))
            raise _Refused(error, token=bool(token))
        self.forwarded.add(target)
        return answer.body

    async def round(self, targets: Iterable[Target]) -> None:
        """Every endpoint once, concurrently (bounded); endpoints no longer wanted are forgotten."""
        wanted = set(targets)
        for gone in set(self.endpoints) - wanted:
            del self.endpoints[gone]
        self.forwarded &= wanted
        await asyncio.gather(*(self.scrape(target) for target in wanted))
        self.rounds += 1
        self.last_round = self.now()

    def histories(self, source: Source) -> dict[str, EndpointHistory]:
        """The endpoints of one source, by pod key."""
        return {target.key: history for target, history in self.endpoints.items() if target.source == source}

    def feed(self) -> Feed:
        """What the pane draws from."""
        endpoints = ((target.key, target.source, history) for target, history in self.endpoints.items())
        how = "scrape: pods' /metrics via the API proxy"
        if self.forwarded:
            sources = sorted({"EPP" if t.source == "epp" else "vLLM" for t in self.forwarded})
            how += f" ({' and '.join(sources)} via port-forward)"
        return Feed.split(endpoints, self.interval, self.last_round, how)


class _Refused(Exception):
    """The endpoint itself refused the request sent over the port-forward."""

    def __init__(self, error: KubeError, *, token: bool) -> None:
        super().__init__(str(error))
        self.error, self.token = error, token


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
