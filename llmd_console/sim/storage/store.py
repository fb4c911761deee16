"""The object store: resourceVersions, an event log, and watches.

Everything runs on the simulator's event loop, so there are no locks. Stored
objects are never mutated in place: writers build a new dict, so the event log
and in-flight watch streams can share them safely.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.apiserver.errors import ApiError, already_exists, conflict, not_found
from llmd_console.sim.runtime.clock import SimClock
from llmd_console.sim.storage.objects import Obj, deep_copy, labels_of, meta, name_of, namespace_of, new_uid
from llmd_console.sim.storage.registry import Registry, ResourceType
from llmd_console.sim.storage.selectors import FieldPredicate, Requirement, fields_match, labels_match

HISTORY_BYTES = 64 * 1024 * 1024  # JSON bytes of watch history kept (the dicts behind them cost several times more)
HISTORY_SECONDS = 300.0  # events older than this (wall seconds) are compacted away


def _place(item: tuple[tuple[str, str], Obj]) -> tuple[str, str]:
    return item[0]


Listener = Callable[[str, ResourceType, "Obj | None", "Obj | None"], None]


@dataclass
class Event:
    """One change in the store."""

    rv: int
    rtype: ResourceType
    type: str  # ADDED, MODIFIED, DELETED
    obj: Obj
    old: Obj | None
    _json: bytes | None = None
    at: float = 0.0  # time.monotonic() when recorded

    def obj_json(self) -> bytes:
        """The object serialised once, shared by every watcher."""
        if self._json is None:
            self._json = json.dumps(self.obj, separators=(",", ":")).encode()
        return self._json


@dataclass
class Watcher:
    """A registered watch: a queue of events that pass its filters."""

    rtype: ResourceType
    namespace: str | None
    labels: list[Requirement]
    fields: list[FieldPredicate]
    queue: asyncio.Queue[tuple[str, Event] | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def matches(self, obj: Obj | None) -> bool:
        """Whether an object is in this watch's view."""
        if obj is None:
            return False
        if self.namespace and namespace_of(obj) != self.namespace:
            return False
        return labels_match(self.labels, labels_of(obj)) and fields_match(self.fields, obj)


class Store:
    """All objects of the simulated cluster."""

    def __init__(
        self,
        registry: Registry,
        clock: SimClock,
        history_limit: int = 200_000,
        watcher_queue_limit: int = 100_000,
        history_bytes: int = HISTORY_BYTES,
        history_seconds: float = HISTORY_SECONDS,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.rv = 1
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._log: list[Event] = []
        self._log_base = 0  # events before this rv were compacted away
        self.compacted_rv = 0
        self.history_limit = history_limit
        self.history_bytes = history_bytes
        self.history_seconds = history_seconds
        self._log_size = 0  # JSON bytes of the events in the log
        self._next_age_check = 0.0
        self.watcher_queue_limit = watcher_queue_limit
        self._watchers: dict[str, list[Watcher]] = {}
        self._listeners: list[Listener] = []

    # ---- reading -------------------------------------------------------
    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        """The stored object (read-only: copy before changing it)."""
        return self._objects.get(key, {}).get((namespace, name))

    def require(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        """The stored object or a NotFound error."""
        obj = self.get(rtype.key, namespace, name)
        if obj is None:
            raise not_found(rtype.plural, name, rtype.group)
        return obj

    def list(
        self,
        key: str,
        namespace: str | None = None,
        labels: list[Requirement] | None = None,
        fields: list[FieldPredicate] | None = None,
    ) -> list[Obj]:
        """Objects of a type, sorted by namespace and name, optionally filtered."""
        items = self._objects.get(key, {})
        chosen = []
        for place, obj in items.items():
            if namespace and place[0] != namespace:
                continue
            if labels and not labels_match(labels, labels_of(obj)):
                continue
            if fields and not fields_match(fields, obj):
                continue
            chosen.append((place, obj))
        chosen.sort(key=_place)
        return [obj for _place_, obj in chosen]

    def count(self, key: str) -> int:
        """How many objects of a type exist."""
        return len(self._objects.get(key, {}))

    # ---- writing -------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(type, rtype, old, new)`` after every change."""
        self._listeners.append(listener)

    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def create(self, rtype: ResourceType, obj: Obj, uid: str | None = None) -> Obj:
        """Store a new object; fills uid (``uid`` when the API server made it already, for
        admission to use), resourceVersion, creationTimestamp, generation."""
        obj = deep_copy(obj)
        m = meta(obj)
        ns = m.get("namespace", "") if rtype.namespaced else ""
        if not rtype.namespaced:
            m.pop("namespace", None)
        name = m.get("name", "")
        bucket = self._objects.setdefault(rtype.key, {})
        if (ns, name) in bucket:
            raise already_exists(rtype.plural, name, rtype.group)
        obj["apiVersion"] = rtype.api_version
        obj["kind"] = rtype.kind
        m["uid"] = uid or new_uid()
        m["resourceVersion"] = self._next_rv()
        if not m.get("creationTimestamp"):
            # Clients send null (kubectl does); the server sets the time.
            m["creationTimestamp"] = self.clock.iso()
        m["generation"] = 1
        bucket[(ns, name)] = obj
        self._record("ADDED", rtype, obj, None)
        return obj

    def update(self, rtype: ResourceType, obj: Obj, *, check_rv: bool = False, status_only: bool = False) -> Obj:
        """Replace an object. ``status_only`` keeps the stored spec (the status subresource);
        otherwise status is kept from the stored object unless the type has no status
        subresource. Bumps generation when the spec changes."""
        new, current = self.prepare_update(rtype, obj, check_rv=check_rv, status_only=status_only)
        if new == current:
            return current
        m = meta(new)
        m["resourceVersion"] = self._next_rv()
        self._objects[rtype.key][(m.get("namespace", "") if rtype.namespaced else "", m["name"])] = new
        self._record("MODIFIED", rtype, new, current)
        return new

    def prepare_update(
        self, rtype: ResourceType, obj: Obj, *, check_rv: bool = False, status_only: bool = False
    ) -> tuple[Obj, Obj]:
        """(what :meth:`update` would store, what is stored now), changing nothing: a dry run
        answers with the first (server-owned metadata kept, generation moved as it would be)."""
        m = meta(obj)
        ns = m.get("namespace", "") if rtype.namespaced else ""
        name = m.get("name", "")
        bucket = self._objects.setdefault(rtype.key, {})
        current = bucket.get((ns, name))
        if current is None:
            raise not_found(rtype.plural, name, rtype.group)
        if check_rv and m.get("resourceVersion") and m["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise conflict(rtype.plural, name, rtype.group)
        new = deep_copy(obj)
        nm = meta(new)
        cm = current["metadata"]
        for immutable in ("uid", "creationTimestamp", "namespace", "name"):
            if immutable in cm:
                nm[immutable] = cm[immutable]
        if "deletionTimestamp" in cm:
            nm["deletionTimestamp"] = cm["deletionTimestamp"]
            nm["deletionGracePeriodSeconds"] = cm.get("deletionGracePeriodSeconds")
        new["apiVersion"] = rtype.api_version
        new["kind"] = rtype.kind
        if status_only:
            for key in list(new):
                if key not in ("status", "metadata", "apiVersion", "kind"):
                    new.pop(key)
            for key, value in current.items():
                if key not in ("status", "metadata"):
                    new[key] = value
        elif "status" in rtype.subresources and "status" in current:
            new["status"] = current["status"]
        spec_changed = any(
            new.get(k) != current.get(k) for k in new if k not in ("metadata", "status", "apiVersion", "kind")
        )
        nm["generation"] = cm.get("generation", 1) + (1 if spec_changed and not status_only else 0)
        return new, current

    def mutate(
        self, rtype: ResourceType, namespace: str, name: str, fn: Callable[[Obj], Any], *, status_only: bool = False
    ) -> Obj | None:
        """Copy, change with ``fn``, and store; returns the new object or None if absent."""
        current = self.get(rtype.key, namespace, name)
        if current is None:
            return None
        draft = deep_copy(current)
        fn(draft)
        if draft == current:
            return current
        return self.update(rtype, draft, status_only=status_only)

    def force_replace(self, rtype: ResourceType, obj: Obj) -> Obj:
        """Store ``obj`` as it is (server-owned fields such as deletionTimestamp included)."""
        ns, name = namespace_of(obj) if rtype.namespaced else "", name_of(obj)
        bucket = self._objects.setdefault(rtype.key, {})
        current = bucket.get((ns, name))
        if current is None:
            raise not_found(rtype.plural, name, rtype.group)
        new = deep_copy(obj)
        new["metadata"]["resourceVersion"] = self._next_rv()
        bucket[(ns, name)] = new
        self._record("MODIFIED", rtype, new, current)
        return new

    def delete(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        """Remove an object now (graceful deletion is the controllers' business)."""
        bucket = self._objects.get(rtype.key, {})
        key = (namespace if rtype.namespaced else "", name)
        current = bucket.pop(key, None)
        if current is None:
            raise not_found(rtype.plural, name, rtype.group)
        gone = deep_copy(current)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._record("DELETED", rtype, gone, current)
        return gone

    # ---- events and watches -------------------------------------------
    def _record(self, etype: str, rtype: ResourceType, obj: Obj, old: Obj | None) -> None:
        event = Event(int(obj["metadata"]["resourceVersion"]), rtype, etype, obj, old, at=time.monotonic())
        self._log.append(event)
        # Serialised once here: the history is bounded in bytes, and watchers reuse it.
        self._log_size += len(event.obj_json())
        self._bound_history(event.at)
        for watcher in self._watchers.get(rtype.key, ()):
            self._deliver(watcher, event)
        new = None if etype == "DELETED" else obj
        for listener in self._listeners:
            listener(etype, rtype, old, new)

    def _bound_history(self, now: float) -> None:
        """Keep the event history within its count and byte bounds, and drop events older
        than ``history_seconds`` (the API server compacts etcd every five minutes). Over a
        bound, a tenth more than needed goes, so compaction runs now and then, not per event."""
        if len(self._log) > self.history_limit or self._log_size > self.history_bytes:
            keep_count = self.history_limit * 9 // 10
            keep_bytes = self.history_bytes * 9 // 10
            drop, size = max(0, len(self._log) - keep_count), self._log_size
            for event in self._log[:drop]:
                size -= len(event.obj_json())
            while drop < len(self._log) and size > keep_bytes:
                size -= len(self._log[drop].obj_json())
                drop += 1
            self._drop(drop)
        if now >= self._next_age_check:
            self._next_age_check = now + 1.0
            cutoff = now - self.history_seconds
            drop = 0
            while drop < len(self._log) and self._log[drop].at < cutoff:
                drop += 1
            self._drop(drop)

    def _drop(self, count: int) -> None:
        if count <= 0:
            return
        self.compacted_rv = self._log[count - 1].rv
        self._log_size -= sum(len(event.obj_json()) for event in self._log[:count])
        del self._log[:count]

    def history(self) -> tuple[int, int, float]:
        """(events, JSON bytes, age in seconds of the oldest) of the watch history, for tests
        and benchmarks."""
        age = time.monotonic() - self._log[0].at if self._log else 0.0
        return len(self._log), self._log_size, age

    def compact(self, keep: int = 0) -> None:
        """Drop old events, like etcd compaction; watches from before then get 410 Gone."""
        self._drop(max(0, len(self._log) - keep))
        if keep == 0:
            self.compacted_rv = self.rv

    def _deliver(self, watcher: Watcher, event: Event) -> None:
        was = watcher.matches(event.old) if event.old is not None else False
        now = event.type != "DELETED" and watcher.matches(event.obj)
        if event.type == "DELETED":
            etype = "DELETED" if was or watcher.matches(event.obj) else ""
        elif now and was:
            etype = "MODIFIED"
        elif now:
            etype = "ADDED"
        elif was:
            etype = "DELETED"
        else:
            etype = ""
        if not etype:
            return
        if watcher.queue.qsize() >= self.watcher_queue_limit:
            watcher.overflowed = True
            return
        watcher.queue.put_nowait((etype, event))

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: builtins.list[Requirement],
        fields: builtins.list[FieldPredicate],
        resource_version: str | None,
    ) -> Watcher:
        """Start a watch. With no resourceVersion (or "0") the current objects come first as
        ADDED; with a version, every later event; a compacted version raises 410 Gone."""
        watcher = Watcher(rtype, namespace, labels, fields)
        if resource_version in (None, "", "0"):
            for obj in self.list(rtype.key, namespace, labels, fields):
                watcher.queue.put_nowait(
                    ("ADDED", Event(int(obj["metadata"]["resourceVersion"]), rtype, "ADDED", obj, None))
                )
        else:
            try:
                since = int(resource_version)
            except ValueError as exc:
                raise ApiError(400, f"invalid resource version {resource_version!r}") from exc
            if since < self.compacted_rv:
                raise ApiError(410, f"too old resource version: {since} ({self.compacted_rv})", "Expired")
            for event in self._log:
                if event.rv > since and event.rtype.key == rtype.key:
                    self._deliver(watcher, event)
        self._watchers.setdefault(rtype.key, []).append(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        """Stop delivering to a watcher."""
        watchers = self._watchers.get(watcher.rtype.key, [])
        if watcher in watchers:
            watchers.remove(watcher)

    def watcher_count(self) -> int:
        """Open watches, for tests and benchmarks."""
        return sum(len(w) for w in self._watchers.values())

    def close_watches(self, key: str) -> None:
        """End every watch on one type (its API went away)."""
        for watcher in self._watchers.pop(key, []):
            watcher.queue.put_nowait(None)

    def close_all_watches(self) -> None:
        """End every watch stream (shutdown)."""
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.queue.put_nowait(None)
        self._watchers.clear()
