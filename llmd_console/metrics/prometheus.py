"""The Prometheus source: the same series the scrape source reads from the pods, read from a
Prometheus server (or Google Managed Prometheus: a URL and a token) with prometheus-api-client,
into the same per-pod history, so the pane's rates, quantiles and alerts are computed the same
way whichever source fed them. History is backfilled with ``query_range`` when it starts.

prometheus-api-client is synchronous: its calls run in a thread, each bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from llmd_console.metrics.exposition import Labels, Page
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.metrics.scrape import WANTED, Target
from llmd_console.sanitize import one_line

# Labels Prometheus adds that are not the pod's own.
_TARGET_LABELS = frozenset({"__name__", "job", "instance", "endpoint", "service", "container", "prometheus"})


@dataclass(frozen=True)
class PrometheusSettings:
    """Where the server is and how to reach it."""

    url: str
    token: str = ""  # a bearer token (Google Managed Prometheus: an access token)
    username: str = ""
    password: str = ""
    verify: bool | str = True  # False, or a CA bundle's path
    pod_label: str = "pod"
    namespace_label: str = "namespace"
    timeout: float = 10.0


def _selector(settings: PrometheusSettings, names: Iterable[str], namespace: str | None) -> str:
    pattern = "|".join(sorted(names)).replace(".", "\\\\.")
    matchers = [f'__name__=~"{pattern}"']
    if namespace:
        # Series without the label (a scrape job that does not add it) match too.
        matchers.append(f'{settings.namespace_label}=~"{namespace}|"')
    return "{" + ",".join(matchers) + "}"


def _own_labels(metric: Mapping[str, str], settings: PrometheusSettings) -> Labels:
    drop = _TARGET_LABELS | {settings.pod_label, settings.namespace_label}
    return tuple(sorted((str(k), str(v)) for k, v in metric.items() if k not in drop))


class PrometheusSource:
    """Reads the wanted series of every target from Prometheus into bounded history."""

    def __init__(
        self,
        settings: PrometheusSettings,
        *,
        interval: float = 2.0,
        history_seconds: float = 3600.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        """A source keeping ``history_seconds`` at ``interval``; nothing is contacted yet."""
        import requests  # noqa: PLC0415 - comes with prometheus-api-client
        from prometheus_api_client import PrometheusConnect  # noqa: PLC0415 - heavy (pandas); only when used
        from urllib3.util.retry import Retry  # noqa: PLC0415

        headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else None
        auth = (settings.username, settings.password) if settings.username else None
        session = requests.Session()
        session.verify = settings.verify  # a CA bundle's path, or whether to check at all
        self.settings = settings
        self.client = PrometheusConnect(
            url=settings.url,
            headers=headers,
            auth=auth,
            session=session,
            retry=Retry(total=1, backoff_factor=0.2),  # the next round retries anyway
            timeout=math.ceil(settings.timeout),
        )
        self.interval = interval
        self.capacity = max(2, int(history_seconds / interval) + 1)
        self.history_seconds = history_seconds
        self.now = now
        self.endpoints: dict[Target, EndpointHistory] = {}
        self.error = ""
        self.last_round: float | None = None

    # ---- talking to the server -------------------------------------------------------------
    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), self.settings.timeout + 1)
        except TimeoutError:
            raise PrometheusError(
                f"Prometheus at {self.settings.url} did not answer within {self.settings.timeout:g} s"
            ) from None
        except Exception as exc:  # the client raises requests' and its own errors
            raise PrometheusError(f"Prometheus at {self.settings.url}: {one_line(str(exc), 200)}") from None

    async def answering(self) -> bool:
        """Whether the server answers a trivial query."""
        try:
            await self._call(self.client.custom_query, "vector(1)")
        except PrometheusError:
            return False
        return True

    # ---- filling history ----------------------------------------------------------------
    def _group(
        self, results: Sequence[Mapping[str, Any]], targets: Sequence[Target]
    ) -> dict[Target, list[Mapping[str, Any]]]:
        """Each series to the target it belongs to: by the pod label; an EPP series without one
        (scraped through its Service) to the only EPP target."""
        by_pod = {target.key.partition("/")[2]: target for target in targets}
        epps = [t for t in targets if t.source == "epp"]
        out: dict[Target, list[Mapping[str, Any]]] = defaultdict(list)
        for result in results:
            labels = result.get("metric") or {}
            name = str(labels.get("__name__", ""))
            target = by_pod.get(str(labels.get(self.settings.pod_label, "")))
            if target is None and len(epps) == 1 and name in WANTED["epp"]:
                target = epps[0]
            if target is not None and name in WANTED[target.source]:
                out[target].append(result)
        return out

    async def backfill(self, targets: Sequence[Target], namespace: str | None) -> None:
        """History for the span kept, from ``query_range`` (once, when the source starts)."""
        end = self.now()
        # At most 1,800 points per series, at the round's own step (the readings count points).
        start = end - min(self.history_seconds, self.interval * 1800)
        query = _selector(self.settings, WANTED["vllm"] | WANTED["epp"], namespace)
        try:
            results = await self._backfill_query(query, start, end)
        except PrometheusError as exc:
            self.error = f"no history backfilled: {exc}"
            return
        self._record_ranges(results, targets)

    async def _backfill_query(self, query: str, start: float, end: float) -> Any:
        from datetime import datetime  # noqa: PLC0415

        return await self._call(
            self.client.custom_query_range,
            query,
            start_time=datetime.fromtimestamp(start),
            end_time=datetime.fromtimestamp(end),
            step=f"{self.interval:g}s",
        )

    def _record_ranges(self, results: Sequence[Mapping[str, Any]], targets: Sequence[Target]) -> None:
        for target, series in self._group(results, targets).items():
            points: dict[float, dict[str, list[tuple[Labels, float]]]] = defaultdict(lambda: defaultdict(list))
            for result in series:
                name = str(result["metric"]["__name__"])
                labels = _own_labels(result["metric"], self.settings)
                for stamp, value in result.get("values") or []:
                    points[float(stamp)][name].append((labels, float(value)))
            history = self.endpoints.setdefault(target, EndpointHistory(self.capacity))
            for stamp in sorted(points)[-self.capacity :]:
                samples = points[stamp]
                history.record(stamp, _page(samples))

    async def round(self, targets: Sequence[Target], namespace: str | None) -> None:
        """The latest value of every wanted series, one point per target."""
        wanted = set(targets)
        for gone in set(self.endpoints) - wanted:
            del self.endpoints[gone]
        try:
            results = await self._call(
                self.client.custom_query, _selector(self.settings, WANTED["vllm"] | WANTED["epp"], namespace)
            )
        except PrometheusError as exc:
            self.error = str(exc)
            for target in targets:
                self.endpoints.setdefault(target, EndpointHistory(self.capacity)).failed(self.error)
            return
        self.error = ""
        now = self.now()
        grouped = self._group(results, targets)
        for target in targets:
            history = self.endpoints.setdefault(target, EndpointHistory(self.capacity))
            series = grouped.get(target)
            if not series:
                label = self.settings.pod_label
                history.failed(f"Prometheus has no series of {target.key} (is it scraped, with a '{label}' label?)")
                continue
            samples: dict[str, list[tuple[Labels, float]]] = defaultdict(list)
            for result in series:
                value = float(result["value"][1])
                samples[str(result["metric"]["__name__"])].append((_own_labels(result["metric"], self.settings), value))
            history.record(now, _page(samples))
        self.last_round = now

    def feed(self) -> Feed:
        """What the pane draws from."""
        endpoints = ((target.key, target.source, history) for target, history in self.endpoints.items())
        return Feed.split(endpoints, self.interval, self.last_round, f"prometheus: {one_line(self.settings.url, 60)}")


class PrometheusError(Exception):
    """Prometheus could not be asked; the message says which server and why."""


def _page(samples: Mapping[str, list[tuple[Labels, float]]]) -> Page:
    kept = {name: tuple(v for v in series if not math.isnan(v[1])) for name, series in samples.items()}
    names = frozenset(kept)
    return Page(MappingProxyType(kept), names, frozenset(n.removesuffix("_total") for n in names))
