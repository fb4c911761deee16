"""A work-queue controller driven by store changes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, deep_copy, name_of, namespace_of, owner_ref, random_suffix
from llmd_console.sim.storage.registry import ResourceType

log = logging.getLogger("llmd_console.sim")


class Controller:
    """Collects keys from store events and reconciles them one at a time.

    Subclasses set ``watches`` and implement ``keys_for`` and ``reconcile``.
    """

    watches: tuple[str, ...] = ()
    resync_sim_seconds: float | None = None

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: set[str] = set()
        ctx.store.add_listener(self._on_change)

    def _on_change(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if rtype.key in self.watches:
            for key in self.keys_for(etype, rtype, old, new):
                self.enqueue(key)

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        """Which keys a change concerns (default: the object's own ns/name)."""
        obj = new or old
        return [f"{namespace_of(obj)}/{name_of(obj)}"] if obj else []

    def enqueue(self, key: str) -> None:
        """Schedule a reconcile of ``key`` (deduplicated)."""
        if key not in self._pending:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def reconcile(self, key: str) -> Awaitable[None] | None:
        """Bring the world in line for one key (a coroutine when the work is long enough to
        be spread over several event-loop turns)."""
        raise NotImplementedError

    def resync(self) -> None:
        """Periodic work (optional)."""

    async def run(self) -> None:
        """Process the queue forever."""
        if self.resync_sim_seconds:
            asyncio.get_running_loop().create_task(self._resync_loop())
        while True:
            key = await self._queue.get()
            self._pending.discard(key)
            try:
                pending = self.reconcile(key)
                if pending is not None:
                    await pending
            except Exception:
                log.exception("%s failed to reconcile %s", type(self).__name__, key)
            # One key per event-loop turn: a long queue must not keep the API server
            # (and every other controller) waiting.
            await asyncio.sleep(0)

    async def _resync_loop(self) -> None:
        assert self.resync_sim_seconds is not None
        while True:
            await self.ctx.clock.sleep(self.resync_sim_seconds)
            try:
                self.resync()
            except Exception:
                log.exception("%s resync failed", type(self).__name__)


def split_key(key: str) -> tuple[str, str]:
    """``ns/name`` -> (ns, name)."""
    ns, _, name = key.partition("/")
    return ns, name


def owner_or_own_key(rtype: ResourceType, obj: Obj | None, child_key: str, owner_kind: str) -> list[str]:
    """For a controller of ``owner_kind`` objects that also watches their ``child_key``
    children: the key of the object itself, or of a child's controlling owner."""
    if obj is None:
        return []
    if rtype.key == child_key:
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == owner_kind and ref.get("controller"):
                return [f"{namespace_of(obj)}/{ref['name']}"]
        return []
    return [f"{namespace_of(obj)}/{name_of(obj)}"]


def create_pod_from_template(ctx: SimContext, owner: Obj, template: Obj) -> Obj:
    """Create a pod from ``owner``'s pod template, named ``<owner>-<suffix>`` and controlled by it."""
    ns, name = namespace_of(owner), name_of(owner)
    while True:
        # generateName: a suffix already taken is drawn again, as the API server retries.
        pod_name = f"{name}-{random_suffix(ctx.rng)}"
        if ctx.store.get("pods", ns, pod_name) is None:
            break
    pod: Obj = {
        "metadata": {
            "name": pod_name,
            "namespace": ns,
            "labels": dict((template.get("metadata") or {}).get("labels") or {}),
            "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
            "ownerReferences": [owner_ref(owner)],
        },
        "spec": deep_copy(template.get("spec") or {}),
    }
    return ctx.create("pods", pod)
