"""List-then-watch for every kind the console shows, with resume, relist on
``410 Gone``, back-off on disconnect, and per-kind states (forbidden, missing CRD).

Changes are coalesced per object and handed over in batches every ``batch_ms``, so
a burst of a thousand events costs the UI one update, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
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
        liveness_seconds: float = 5.0,
    ) -> None:
        self.client = client
        self.kinds = kinds
        self.namespace = namespace
        self.deliver = deliver
        self.batch_seconds = batch_ms / 1000
        self.reconnect_max = reconnect_max
        self.liveness_seconds = liveness_seconds
        self._pending = Batch()
        self._wake = asyncio.Event()
        self._status: dict[str, KindStatus] = {}
        self._follows: dict[str, asyncio.Task[None]] = {}
        self.relists = 0
        self.hangs = 0  # times the server stopped answering while watches were open

    async def run(self) -> None:
        """Run until cancelled (or until a watch fails in a way it cannot recover from)."""
        for kind in self.kinds:
            self._follows[kind.name] = asyncio.create_task(self._follow(kind))
        helpers = [asyncio.create_task(self._flush_forever()), asyncio.create_task(self._liveness())]
        try:
            await asyncio.gather(*helpers)
        finally:
            tasks = [*helpers, *self._follows.values()]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # ---- a server that stops answering ----------------------------------------------------
    async def _liveness(self) -> None:
        """Ask for /version every ``liveness_seconds``. A watch on a server that stopped answering
        (hung, or its host frozen) just waits: no error ever arrives. No answer in time marks the
        live kinds as reconnecting and restarts their watches, which then back off until it answers."""
        while True:
            await asyncio.sleep(self.liveness_seconds)
            for task in self._follows.values():
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]  # a bug, not the network: to the error funnel
            try:
                await asyncio.wait_for(self.client.get("/version"), self.liveness_seconds)
            except TimeoutError:
                self._stalled(
                    f"the API server does not answer (no reply to /version within {self.liveness_seconds:g} s)"
                )
            except KubeError as exc:
                if exc.status == 0:  # unreachable; any HTTP answer (even 403) means it is alive
                    self._stalled(_describe(exc, None))

    def _stalled(self, message: str) -> None:
        live = [kind for kind in self.kinds if self._status.get(kind.name) == "live"]
        if live:
            self.hangs += 1
        for kind in live:
            self._state(kind.name, "reconnecting", message)
            self._follows[kind.name].cancel()
            self._follows[kind.name] = asyncio.create_task(self._follow(kind))

    # ---- batching -------------------------------------------------------------
    def _state(self, kind: str, status: KindStatus, message: str = "", retry_in: float | None = None) -> None:
        self._status[kind] = status
        retry_at = None if retry_in is None else time.time() + retry_in
        self._pending.states[kind] = KindState(status, message, retry_at)
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
                self._state(kind.name, status, _describe(exc, kind), wait if status == "reconnecting" else None)
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


def _describe(exc: KubeError, kind: Kind | None) -> str:
    if exc.status == 403 and kind is not None:
        return f"forbidden: cannot list {kind.plural} ({exc.message})"
    if exc.status == 404 and kind is not None:
        api = f"{kind.group}/{kind.version}" if kind.group else kind.version
        return f"{kind.plural}.{kind.group or 'core'} is not served ({api} missing)"
    if exc.status == 0:
        return exc.message
    return f"{exc.status} {exc.reason}: {exc.message}"
