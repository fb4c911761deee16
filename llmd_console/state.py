"""The console's copy of the cluster, and the one immutable snapshot per batch that
every pane, the check command and the doctor read.

``ClusterState.apply`` takes a watch batch, updates the raw objects, recomputes only
the derived values the batch can have changed (the pods it touched, the nodes those
pods sit on, the events of the objects concerned, the request path when one of its
kinds moved) and returns a new :class:`~llmd_console.models.Snapshot`. It runs on
the event loop that owns the state; it never imports Textual.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

from llmd_console.cluster.watch import Batch, object_key
from llmd_console.config import ResourcesConfig
from llmd_console.models import (
    Changes,
    Event,
    Hop,
    KindState,
    Node,
    Obj,
    Pod,
    RequestPath,
    Snapshot,
    TpuSlice,
    UnknownKind,
)
from llmd_console.views.events import event_model
from llmd_console.views.gateway import PATH_KINDS, PathInput, request_paths
from llmd_console.views.nodes import chip_map, node_model, pool_rows
from llmd_console.views.pods import pod_model, unreadable_pod

_DONE_PHASES = ("Succeeded", "Failed")


class ClusterState:
    """Raw objects by kind and key, and the derived views kept up to date batch by batch."""

    def __init__(
        self,
        kinds: Collection[str],
        *,
        namespace: str | None,
        resources: ResourcesConfig | None = None,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        self.kinds = frozenset(kinds)
        self.namespace = namespace
        self.resources = resources or ResourcesConfig()
        self.prices = dict(prices or {})
        self._objects: dict[str, dict[str, Obj]] = {kind: {} for kind in self.kinds}
        self._states: dict[str, KindState] = {}
        self._pods: dict[str, Pod] = {}
        self._pod_node: dict[str, str] = {}  # pod key -> node it holds resources on
        self._on_node: dict[str, dict[str, Obj]] = {}  # node -> live pods on it
        self._nodes: dict[str, Node] = {}
        self._slices: dict[str, TpuSlice] = {}
        self._event_owner: dict[str, str] = {}  # event key -> object key
        self._events: dict[str, dict[str, Event]] = {}  # object key -> event key -> event
        self._event_lists: dict[str, tuple[Event, ...]] = {}
        self.snapshot = Snapshot(namespace=namespace, watched=self.kinds)

    # ---- reading -------------------------------------------------------------------
    def raw(self, kind: str) -> Mapping[str, Obj]:
        """The raw objects of one kind by key (read-only), for actions that need a whole object."""
        if kind not in self._objects:
            raise UnknownKind(f"{kind!r} is not a kind the console watches")
        return MappingProxyType(self._objects[kind])

    # ---- applying a batch ----------------------------------------------------------------
    def apply(self, batch: Batch) -> Snapshot:
        """Take in a batch; return the new snapshot (the old one is left as it was)."""
        changed: dict[str, set[str]] = {}
        for kind, items in batch.relisted.items():
            store = self._store(kind)
            fresh = {object_key(obj): obj for obj in items}
            keys = {k for k in store if k not in fresh}
            keys.update(k for k, obj in fresh.items() if store.get(k) is not obj and _rv(store.get(k)) != _rv(obj))
            self._objects[kind] = fresh
            if keys:
                changed.setdefault(kind, set()).update(keys)
        for kind, updates in batch.changed.items():
            store = self._store(kind)
            for key, obj in updates.items():
                if obj is None:
                    store.pop(key, None)
                else:
                    store[key] = obj
            changed.setdefault(kind, set()).update(updates)
        self._states.update(batch.states)
        if not changed and not batch.states:
            return self.snapshot
        touched_nodes = self._update_pods(changed.get("pods", set()))
        touched_nodes |= changed.get("nodes", set())
        self._update_nodes(touched_nodes)
        self._update_events(changed.get("events", set()))
        changes = Changes(
            MappingProxyType({k: frozenset(v) for k, v in changed.items()}), MappingProxyType(dict(batch.states))
        )
        previous = self.snapshot
        paths = previous.paths
        if changes.touched(*PATH_KINDS) or not paths:
            paths = self._request_paths()
        pools = previous.pools if not touched_nodes else tuple(pool_rows(list(self._nodes.values()), self.prices))
        self.snapshot = Snapshot(
            version=previous.version + 1,
            namespace=self.namespace,
            pods=MappingProxyType(dict(self._pods)),
            nodes=MappingProxyType(dict(self._nodes)),
            pools=pools,
            slices=MappingProxyType(dict(self._slices)),
            events=MappingProxyType(dict(self._event_lists)),
            paths=paths,
            kinds=MappingProxyType(dict(self._states)),
            changes=changes,
            watched=self.kinds,
        )
        return self.snapshot

    def _store(self, kind: str) -> dict[str, Obj]:
        if kind not in self._objects:
            raise UnknownKind(f"the watch delivered {kind!r}, which the state was not made for")
        return self._objects[kind]

    def _update_pods(self, keys: Iterable[str]) -> set[str]:
        """Pod models for ``keys``; returns the nodes whose set of pods changed."""
        pods = self._objects.get("pods", {})
        nodes: set[str] = set()
        for key in keys:
            pod = pods.get(key)
            old_node = self._pod_node.pop(key, None)
            if old_node is not None:
                self._on_node.get(old_node, {}).pop(key, None)
                nodes.add(old_node)
            if pod is None:
                self._pods.pop(key, None)
                continue
            try:
                self._pods[key] = pod_model(pod, key)
            except (TypeError, ValueError, AttributeError) as exc:
                self._pods[key] = unreadable_pod(key, exc)
                continue
            node = (pod.get("spec") or {}).get("nodeName")
            if node and (pod.get("status") or {}).get("phase") not in _DONE_PHASES:
                self._pod_node[key] = str(node)
                self._on_node.setdefault(str(node), {})[key] = pod
                nodes.add(str(node))
        return nodes

    def _update_nodes(self, names: Iterable[str]) -> None:
        objects = self._objects.get("nodes", {})
        for node_name in names:
            node = objects.get(node_name)
            if node is None:
                self._nodes.pop(node_name, None)
                self._slices.pop(node_name, None)
                continue
            pods = sorted(
                self._on_node.get(node_name, {}).values(),
                key=lambda p: str((p.get("metadata") or {}).get("creationTimestamp", "")),
            )
            try:
                self._nodes[node_name] = node_model(node, pods)
                chips = chip_map(node, pods)
            except (TypeError, ValueError, AttributeError):
                continue  # the previous model stays; the pane says nothing new
            if chips is None:
                self._slices.pop(node_name, None)
            else:
                self._slices[node_name] = chips

    def _update_events(self, keys: Iterable[str]) -> None:
        events = self._objects.get("events", {})
        owners: set[str] = set()
        for key in keys:
            old_owner = self._event_owner.pop(key, None)
            if old_owner is not None:
                self._events.get(old_owner, {}).pop(key, None)
                owners.add(old_owner)
            obj = events.get(key)
            if obj is None:
                continue
            try:
                event = event_model(obj, key)
            except (TypeError, ValueError, AttributeError):
                continue
            self._event_owner[key] = event.object_key
            self._events.setdefault(event.object_key, {})[key] = event
            owners.add(event.object_key)
        for owner in owners:
            items = self._events.get(owner)
            if items:
                self._event_lists[owner] = tuple(sorted(items.values(), key=lambda e: e.order))
            else:
                self._events.pop(owner, None)
                self._event_lists.pop(owner, None)

    def _request_paths(self) -> tuple[RequestPath, ...]:
        states = self._states
        try:
            return request_paths(
                PathInput.of(
                    self.resources,
                    self.namespace or "",
                    self._objects,
                    missing=frozenset(k for k, s in states.items() if s.status == "missing"),
                    forbidden=frozenset(k for k, s in states.items() if s.status == "forbidden"),
                ),
                every_namespace=self.namespace is None,
            )
        except (TypeError, ValueError, AttributeError) as exc:
            return (RequestPath((_unreadable_hop(exc),)),)


def _unreadable_hop(exc: Exception) -> Hop:
    return Hop("Gateway", "?", "unknown", problem=f"cannot read the request path's objects: {type(exc).__name__}")


def _rv(obj: Obj | None) -> str | None:
    return None if obj is None else str((obj.get("metadata") or {}).get("resourceVersion"))
