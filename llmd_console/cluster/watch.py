"""List-then-watch for every kind the console shows, with resume, relist on
``410 Gone``, back-off on disconnect, and per-kind states (forbidden, missing CRD).

Changes are coalesced per object and handed over in batches every ``batch_ms``, so
a burst of a thousand events costs the UI one update, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from llmd_console.cluster.kube import Kind, KubeClient, KubeError
from llmd_console.models import KindState, KindStatus, Obj


@dataclass
class Batch:
    """Everything that changed since the last batch."""

    relisted: dict[str, list[Obj]] = field(default_factory=dict)  # kind -> the complete current list
    changed: dict[str, dict[str, Obj | None]] = field(default_factory=dict)  # kind -> key -> object (None: gone)
    states: dict[str, KindState] = field(default_factory=dict)

    def empty(self) -> bool:
        """Nothing to apply."""
        return not (self.relisted or self.changed or self.states)


def object_key(obj: Obj) -> str:
    """``namespace/name`` (or ``name`` for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '')}" if ns else str(meta.get("name", ""))


class _Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


class WatchHub:
    """Keeps every kind in sync and calls ``deliver`` with batches (on the running loop)."""

    def __init__(
        self,
        client: KubeClient,
        kinds: list[Kind],
        namespace: str | None,
        deliver: Callable[[Batch], None],
        *,
        batch_ms: int = 80,
        reconnect_max: float = 10.0,
    ) -> None:
        self.client = client
        self.kinds = kinds
        self.namespace = namespace
        self.deliver = deliver
        self.batch_seconds = batch_ms / 1000
        self.reconnect_max = reconnect_max
        self._pending = Batch()
        self._wake = asyncio.Event()
        self.relists = 0

    async def run(self) -> None:
        """Run until cancelled."""
        tasks = [asyncio.create_task(self._follow(kind)) for kind in self.kinds]
        tasks.append(asyncio.create_task(self._flush_forever()))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # ---- batching -------------------------------------------------------------
    def _state(self, kind: str, status: KindStatus, message: str = "") -> None:
        self._pending.states[kind] = KindState(status, message)
        self._wake.set()

    def _relist(self, kind: str, items: list[Obj]) -> None:
        self._pending.relisted[kind] = items
        self._pending.changed.pop(kind, None)
        self.relists += 1
        self._wake.set()

    def _change(self, kind: str, obj: Obj, gone: bool) -> None:
        self._pending.changed.setdefault(kind, {})[object_key(obj)] = None if gone else obj
        self._wake.set()

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            # Let a burst gather for one batch interval, then hand it over whole.
            await asyncio.sleep(self.batch_seconds)
            self._wake.clear()
            batch, self._pending = self._pending, Batch()
            if not batch.empty():
                self.deliver(batch)

    # ---- one kind ---------------------------------------------------------------
    async def _follow(self, kind: Kind) -> None:
        backoff = 0.25
        while True:
            try:
                items, version = await self.client.list(kind, self.namespace)
                self._relist(kind.name, items)
                self._state(kind.name, "live")
                backoff = 0.25
                while True:
                    version = await self._watch(kind, version)
            except _Gone:
                continue
            except KubeError as exc:
                status, wait = self._classify(exc, backoff)
                self._state(kind.name, status, _describe(exc, kind))
                if status == "reconnecting":
                    backoff = min(backoff * 2, self.reconnect_max)
                await asyncio.sleep(wait)

    def _classify(self, exc: KubeError, backoff: float) -> tuple[KindStatus, float]:
        if exc.status == 403:
            return "forbidden", 30.0
        if exc.status == 404:
            return "missing", 15.0
        if exc.status == 410:
            return "loading", 0.0
        return "reconnecting", backoff

    async def _watch(self, kind: Kind, version: str) -> str:
        """Apply one watch session's events; returns the version to resume from."""
        async for event in self.client.watch(kind, self.namespace, version):
            etype = event.get("type")
            obj = event.get("object")
            if not isinstance(obj, dict):
                continue
            if etype == "ERROR":
                if obj.get("code") == 410:
                    raise _Gone
                raise KubeError(int(obj.get("code") or 500), str(obj.get("reason", "")), str(obj.get("message", "")))
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if etype == "BOOKMARK":
                continue
            if etype in ("ADDED", "MODIFIED", "DELETED"):
                self._change(kind.name, obj, gone=etype == "DELETED")
        return version


def _describe(exc: KubeError, kind: Kind) -> str:
    if exc.status == 403:
        return f"forbidden: cannot list {kind.plural} ({exc.message})"
    if exc.status == 404:
        api = f"{kind.group}/{kind.version}" if kind.group else kind.version
        return f"{kind.plural}.{kind.group or 'core'} is not served ({api} missing)"
    if exc.status == 0:
        return exc.message
    return f"{exc.status} {exc.reason}: {exc.message}"
