"""The console's copy of the cluster: raw objects per kind, updated from watch
batches on the UI thread, with the pod rows kept up to date incrementally.

Panes read it; only ``apply`` changes it. It never imports Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmd_console.cluster.watch import Batch, KindState, object_key
from llmd_console.views.common import Obj
from llmd_console.views.pods import PodRow, pod_row


@dataclass(frozen=True)
class Changes:
    """What one batch changed: keys per kind (upserted or removed)."""

    kinds: dict[str, set[str]] = field(default_factory=dict)
    states: dict[str, KindState] = field(default_factory=dict)

    def touched(self, *kinds: str) -> bool:
        """Whether any of ``kinds`` changed (objects or state)."""
        return any(k in self.kinds or k in self.states for k in kinds)


class ClusterState:
    """Objects by kind and key, plus derived pod rows."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Obj]] = {}
        self.states: dict[str, KindState] = {}
        self.pod_rows: dict[str, PodRow] = {}
        self.version = 0

    def of(self, kind: str) -> dict[str, Obj]:
        """Objects of one kind by key."""
        return self.objects.setdefault(kind, {})

    def apply(self, batch: Batch) -> Changes:
        """Take in a batch; return what changed."""
        changed: dict[str, set[str]] = {}
        for kind, items in batch.relisted.items():
            store = self.of(kind)
            fresh = {object_key(obj): obj for obj in items}
            keys = {k for k in store if k not in fresh}
            keys.update(k for k, obj in fresh.items() if store.get(k) is not obj and _rv(store.get(k)) != _rv(obj))
            self.objects[kind] = fresh
            if keys:
                changed.setdefault(kind, set()).update(keys)
        for kind, updates in batch.changed.items():
            store = self.of(kind)
            for key, obj in updates.items():
                if obj is None:
                    store.pop(key, None)
                else:
                    store[key] = obj
            changed.setdefault(kind, set()).update(updates)
        for key in changed.get("pods", set()):
            pod = self.of("pods").get(key)
            if pod is None:
                self.pod_rows.pop(key, None)
            else:
                self.pod_rows[key] = _safe_row(pod, key)
        self.states.update(batch.states)
        if changed or batch.states:
            self.version += 1
        return Changes(changed, dict(batch.states))

    def status_of(self, kind: str) -> KindState:
        """How the view of ``kind`` is doing."""
        return self.states.get(kind, KindState("loading"))

    def unavailable(self, status: str) -> frozenset[str]:
        """Kinds in a given state (``missing``, ``forbidden``)."""
        return frozenset(k for k, s in self.states.items() if s.status == status)


def _safe_row(pod: Obj, key: str) -> PodRow:
    """The pod's row; a pod whose fields are not what Kubernetes sends still gets one, saying so."""
    try:
        return pod_row(pod, key)
    except (TypeError, ValueError, AttributeError) as exc:
        namespace, _, name = key.partition("/")
        return PodRow(
            key, namespace, name, "other", "?", f"unreadable: {type(exc).__name__}", "error", 0, None, "", 0, ()
        )


def _rv(obj: Obj | None) -> str | None:
    return None if obj is None else str((obj.get("metadata") or {}).get("resourceVersion"))
