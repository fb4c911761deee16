"""Deletion semantics: graceful pod deletion, namespace cascade, owner garbage collection,
and CRDs that add and remove API types."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from llmd_console.sim.controllers.base import Controller, split_key
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, deep_copy, name_of, namespace_of
from llmd_console.sim.storage.registry import ResourceType, type_from_crd

GC_KINDS = ("replicasets.apps", "pods", "endpoints")  # the kinds with owners the collector follows
COLLECT_PER_TURN = 10


class Lifecycle(Controller):
    """Owns every delete: the API's DELETE and the controllers' both come here."""

    watches = ("namespaces",)
    resync_sim_seconds = 2.0

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        # Dependents by owner uid, kept from store events, so collecting an owner's
        # dependents does not scan every pod of the cluster on every delete.
        self._dependents: dict[str, dict[tuple[str, str, str], None]] = {}
        self._collecting: set[asyncio.Task[None]] = set()
        for key in GC_KINDS:
            for obj in ctx.store.list(key):
                self._index(key, None, obj)
        ctx.store.add_listener(self._after_change)

    def _index(self, key: str, old: Obj | None, new: Obj | None) -> None:
        for obj, adding in ((old, False), (new, True)):
            if obj is None:
                continue
            place = (key, namespace_of(obj), name_of(obj))
            for ref in obj["metadata"].get("ownerReferences") or []:
                uid = ref.get("uid") if isinstance(ref, dict) else None
                if not isinstance(uid, str):
                    continue
                if adding:
                    self._dependents.setdefault(uid, {})[place] = None
                else:
                    deps = self._dependents.get(uid)
                    if deps is not None:
                        deps.pop(place, None)
                        if not deps:
                            del self._dependents[uid]

    # ---- the delete entry point ------------------------------------------
    def delete(self, rtype: ResourceType, obj: Obj, opts: Obj | None = None) -> Obj:
        """Delete ``obj`` the way the API server would; returns what DELETE answers."""
        opts = opts or {}
        store = self.ctx.store
        ns, name = namespace_of(obj), name_of(obj)
        if rtype.key == "pods":
            grace = opts.get("gracePeriodSeconds")
            if grace is None:
                grace = obj.get("spec", {}).get("terminationGracePeriodSeconds", 30)
            if (
                obj.get("spec", {}).get("nodeName")
                and int(grace) > 0
                and obj.get("status", {}).get("phase") not in ("Succeeded", "Failed")
            ):
                if obj["metadata"].get("deletionTimestamp"):
                    return obj
                return self._mark_deleting(rtype, obj, int(grace))
            return store.delete(rtype, ns, name)
        if rtype.key == "namespaces":
            if obj["metadata"].get("deletionTimestamp"):
                return obj
            marked = self._mark_deleting(rtype, obj, 0)

            def terminating(draft: Obj) -> None:
                draft.setdefault("status", {})["phase"] = "Terminating"

            self.enqueue(f"/{name}")
            return self.ctx.store.mutate(rtype, "", name, terminating, status_only=True) or marked
        return store.delete(rtype, ns, name)

    def _mark_deleting(self, rtype: ResourceType, obj: Obj, grace: int) -> Obj:
        draft = deep_copy(self.ctx.store.require(rtype, namespace_of(obj), name_of(obj)))
        draft["metadata"]["deletionTimestamp"] = self.ctx.clock.iso()
        draft["metadata"]["deletionGracePeriodSeconds"] = grace
        # Only the server sets deletionTimestamp, so this write skips update()'s guards.
        return self.ctx.store.force_replace(rtype, draft)

    # ---- namespaces ----------------------------------------------------------
    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        if new and new["metadata"].get("deletionTimestamp"):
            return [f"/{name_of(new)}"]
        return []

    def reconcile(self, key: str) -> None:
        _, name = split_key(key)
        ns = self.ctx.store.get("namespaces", "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        for rtype in self.ctx.registry.stored_types():
            if not rtype.namespaced or rtype.key == "events":
                continue
            for obj in self.ctx.store.list(rtype.key, name):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self.delete(rtype, obj)
        if remaining == 0:
            for ev in self.ctx.store.list("events", name):
                self.ctx.store.delete(self.ctx.rt("events"), name, name_of(ev))
            self.ctx.store.delete(self.ctx.rt("namespaces"), "", name)

    def resync(self) -> None:
        for ns in self.ctx.store.list("namespaces"):
            if ns["metadata"].get("deletionTimestamp"):
                self.enqueue(f"/{name_of(ns)}")

    # ---- garbage collection and CRDs ---------------------------------------------
    def _after_change(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if rtype.key == "customresourcedefinitions.apiextensions.k8s.io":
            crd = new or old
            assert crd is not None
            if etype == "DELETED":
                for t in type_from_crd(crd):
                    if self.ctx.registry.has(t.key):
                        for obj in self.ctx.store.list(t.key):
                            self.ctx.store.delete(t, namespace_of(obj), name_of(obj))
                    # As the API server does, watches on a type that is no longer served end.
                    self.ctx.store.close_watches(t.key)
                self.ctx.registry.remove_crd(name_of(crd))
            else:
                self.ctx.registry.set_crd(name_of(crd), type_from_crd(crd))
        if rtype.key in GC_KINDS:
            self._index(rtype.key, old, None if etype == "DELETED" else new)
        if etype == "DELETED" and old is not None:
            uid = old["metadata"].get("uid")
            if uid in self._dependents:
                self.ctx.loop_call_soon(lambda: self._start_collect(uid, namespace_of(old)))

    def _start_collect(self, owner_uid: str, namespace: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            for _ in self._collect_steps(owner_uid, namespace):
                pass
            return
        task = loop.create_task(self._collect(owner_uid, namespace))
        self._collecting.add(task)
        task.add_done_callback(self._collecting.discard)

    async def _collect(self, owner_uid: str, namespace: str) -> None:
        for _ in self._collect_steps(owner_uid, namespace):
            await asyncio.sleep(0)

    def _collect_steps(self, owner_uid: str, namespace: str) -> Iterator[None]:
        """Delete an owner's dependents, yielding every few deletions (a big ReplicaSet's
        pods go over several event-loop turns)."""
        deleted = 0
        for key, ns, name in sorted(self._dependents.get(owner_uid, {})):
            if namespace and ns != namespace:
                continue
            obj = self.ctx.store.get(key, ns, name)
            if obj is None or obj["metadata"].get("deletionTimestamp"):
                continue
            if not any(r.get("uid") == owner_uid for r in obj["metadata"].get("ownerReferences") or []):
                continue
            self.delete(self.ctx.rt(key), obj)
            deleted += 1
            if deleted % COLLECT_PER_TURN == 0:
                yield
