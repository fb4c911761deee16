"""Deployments (rolling update, recreate, rollout restart, scale) and ReplicaSets."""

from __future__ import annotations

import asyncio
import math

from llmd_console.sim.controllers.base import Controller, split_key
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import (
    Obj,
    condition,
    controller_uid,
    deep_copy,
    name_of,
    namespace_of,
    owner_ref,
    random_suffix,
    set_condition,
    template_hash,
)
from llmd_console.sim.storage.registry import ResourceType

HASH_LABEL = "pod-template-hash"
# The ReplicaSet controller's burstReplicas: pods created or deleted per sync.
BURST_REPLICAS = 500
TURN_BATCH = 10  # pods created or deleted per event-loop turn
FAILED_CREATE_BACKOFF = 5.0  # wall seconds before a refused creation is retried
# Kubernetes' scalability threshold is 150,000 pods per cluster; the simulator, which
# keeps every pod in one Python process, stops the ReplicaSet controller far earlier.
MAX_PODS = 20_000
REVISION = "deployment.kubernetes.io/revision"


def _pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def _resolve(value: object, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        raw = total * int(value[:-1]) / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(str(value)) if value is not None else 0


class ReplicaSets(Controller):
    """Keeps each ReplicaSet's pod count at spec.replicas."""

    watches = ("replicasets.apps", "pods")

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        # Pods by their controller's uid, kept from store events: a sync looks at its own
        # pods instead of scanning and sorting every pod of the namespace.
        self._owned: dict[str, dict[tuple[str, str], Obj]] = {}
        for pod in ctx.store.list("pods"):
            self._index(None, pod)

    def _on_change(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if rtype.key == "pods":
            self._index(old, new)
        super()._on_change(etype, rtype, old, new)

    def _index(self, old: Obj | None, new: Obj | None) -> None:
        if old is not None:
            owner = controller_uid(old)
            if owner is not None:
                pods = self._owned.get(owner, {})
                pods.pop((namespace_of(old), name_of(old)), None)
                if not pods:
                    self._owned.pop(owner, None)
        if new is not None:
            owner = controller_uid(new)
            if owner is not None:
                self._owned.setdefault(owner, {})[(namespace_of(new), name_of(new))] = new

    def owned_pods(self, uid: str) -> list[Obj]:
        """The pods whose controller is the ReplicaSet with this uid."""
        return list(self._owned.get(uid, {}).values())

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        obj = new or old
        if obj is None:
            return []
        if rtype.key == "pods":
            for ref in obj["metadata"].get("ownerReferences") or []:
                if ref.get("kind") == "ReplicaSet" and ref.get("controller"):
                    return [f"{namespace_of(obj)}/{ref['name']}"]
            return []
        return [f"{namespace_of(obj)}/{name_of(obj)}"]

    def _create_pod(self, rs: Obj, ns: str, name: str) -> bool:
        """Create one pod from the template; False (and a FailedCreate event) at the pod cap."""
        if self.ctx.store.count("pods") >= MAX_PODS:
            self.ctx.record_event(
                rs,
                "Warning",
                "FailedCreate",
                f'Error creating: pods "{name}-" is forbidden: the simulated cluster holds at most {MAX_PODS} pods',
                "replicaset-controller",
            )
            return False
        template = rs["spec"]["template"]
        while True:
            # generateName: a suffix already taken is drawn again, as the API server retries.
            pod_name = f"{name}-{random_suffix(self.ctx.rng)}"
            if self.ctx.store.get("pods", ns, pod_name) is None:
                break
        pod: Obj = {
            "metadata": {
                "name": pod_name,
                "namespace": ns,
                "labels": dict(template.get("metadata", {}).get("labels") or {}),
                "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
                "ownerReferences": [owner_ref(rs)],
            },
            "spec": deep_copy(template.get("spec", {})),
        }
        created = self.ctx.create("pods", pod)
        self.ctx.record_event(
            rs, "Normal", "SuccessfulCreate", f"Created pod: {name_of(created)}", "replicaset-controller"
        )
        return True

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        store = self.ctx.store
        rs = store.get("replicasets.apps", ns, name)
        if rs is None:
            return
        uid = rs["metadata"]["uid"]
        pods = self.owned_pods(uid)
        active = [
            p
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
            and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
        ]
        want = int(rs["spec"].get("replicas", 0))
        pods_rt = self.ctx.rt("pods")
        if len(active) < want:
            # At most BURST_REPLICAS per sync, in slow-start batches of 1, 2, 4, ...; the
            # event loop turns between batches, and the rest waits for the next sync.
            remaining = min(want - len(active), BURST_REPLICAS)
            batch, created = 1, 0
            while remaining > 0:
                for _ in range(min(batch, remaining)):
                    if not self._create_pod(rs, ns, name):
                        # Refused: retry after a back-off, as the controller's rate limiter would.
                        asyncio.get_running_loop().call_later(FAILED_CREATE_BACKOFF, self.enqueue, key)
                        return
                    remaining -= 1
                    created += 1
                    if created % TURN_BATCH == 0:
                        await asyncio.sleep(0)
                batch *= 2
                await asyncio.sleep(0)
                rs = store.get("replicasets.apps", ns, name)
                if rs is None or rs["metadata"]["uid"] != uid:
                    return
            if len(active) + created < int(rs["spec"].get("replicas", 0)):
                self.enqueue(key)
        elif len(active) > want:
            # Delete the least useful first: unscheduled, then not ready, then the youngest.
            def rank(p: Obj) -> tuple[int, int, str]:
                return (
                    0 if not p["spec"].get("nodeName") else 1,
                    1 if _pod_ready(p) else 0,
                    "~" + p["metadata"].get("creationTimestamp", ""),
                )

            victims = sorted(active, key=rank)[: min(len(active) - want, BURST_REPLICAS)]
            for done, pod in enumerate(victims, 1):
                if store.get("pods", ns, name_of(pod)) is not None:
                    self.ctx.delete(pods_rt, pod)
                    self.ctx.record_event(
                        rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name_of(pod)}", "replicaset-controller"
                    )
                if done % TURN_BATCH == 0:
                    await asyncio.sleep(0)
            if len(active) - BURST_REPLICAS > want:
                self.enqueue(key)
            rs = store.get("replicasets.apps", ns, name)
            if rs is None or rs["metadata"]["uid"] != uid:
                return
        current = [p for p in self.owned_pods(uid) if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in current if _pod_ready(p))

        def status(draft: Obj) -> None:
            draft["status"] = {
                "replicas": len(current),
                "fullyLabeledReplicas": len(current),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": draft["metadata"].get("generation", 1),
            }
            if not ready:
                draft["status"].pop("readyReplicas")
                draft["status"].pop("availableReplicas")

        store.mutate(self.ctx.rt("replicasets.apps"), ns, name, status, status_only=True)


class Deployments(Controller):
    """Rolls ReplicaSets forward for each Deployment."""

    watches = ("deployments.apps", "replicasets.apps")

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        obj = new or old
        if obj is None:
            return []
        if rtype.key == "replicasets.apps":
            for ref in obj["metadata"].get("ownerReferences") or []:
                if ref.get("kind") == "Deployment" and ref.get("controller"):
                    return [f"{namespace_of(obj)}/{ref['name']}"]
            return []
        return [f"{namespace_of(obj)}/{name_of(obj)}"]

    def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        store = self.ctx.store
        dep = store.get("deployments.apps", ns, name)
        if dep is None:
            return
        rs_rt = self.ctx.rt("replicasets.apps")
        uid = dep["metadata"]["uid"]
        owned = [rs for rs in store.list("replicasets.apps", ns) if controller_uid(rs) == uid]
        template = dep["spec"]["template"]
        thash = template_hash(template, int(dep.get("status", {}).get("collisionCount", 0)))
        new_rs = next((rs for rs in owned if rs["metadata"].get("labels", {}).get(HASH_LABEL) == thash), None)
        old = [rs for rs in owned if rs is not new_rs]
        revision = 1 + max((int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in owned), default=0)
        replicas = int(dep["spec"].get("replicas", 1))
        strategy = dep["spec"].get("strategy") or {}
        if new_rs is None:
            labels = dict(template.get("metadata", {}).get("labels") or {})
            labels[HASH_LABEL] = thash
            tmpl = deep_copy(template)
            tmpl.setdefault("metadata", {})["labels"] = labels
            selector = deep_copy(dep["spec"]["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = thash
            start = 0 if old and strategy.get("type") == "Recreate" else None
            if store.get("replicasets.apps", ns, f"{name}-{thash}") is not None:
                # A ReplicaSet of that name belongs to someone else (say, a deleted Deployment
                # still being collected): count the collision, which changes the hash.
                store.mutate(
                    self.ctx.rt("deployments.apps"),
                    ns,
                    name,
                    lambda d: d.setdefault("status", {}).__setitem__(
                        "collisionCount", int(d.get("status", {}).get("collisionCount", 0)) + 1
                    ),
                    status_only=True,
                )
                return
            new_rs = self.ctx.create(
                "replicasets.apps",
                {
                    "metadata": {
                        "name": f"{name}-{thash}",
                        "namespace": ns,
                        "labels": labels,
                        "annotations": {
                            REVISION: str(revision),
                            "deployment.kubernetes.io/desired-replicas": str(replicas),
                        },
                        "ownerReferences": [owner_ref(dep)],
                    },
                    "spec": {"replicas": 0 if start == 0 or old else replicas, "selector": selector, "template": tmpl},
                },
            )
            if not old:
                self.ctx.record_event(
                    dep,
                    "Normal",
                    "ScalingReplicaSet",
                    f"Scaled up replica set {name_of(new_rs)} from 0 to {replicas}",
                    "deployment-controller",
                )
        elif new_rs["metadata"].get("annotations", {}).get(REVISION) != str(revision - 1) and old:
            # A rollback to an older template: it becomes the newest revision.
            self._set_replicas(rs_rt, new_rs, int(new_rs["spec"].get("replicas", 0)), revision=revision)
        if strategy.get("type") == "Recreate":
            self._recreate(dep, new_rs, old, replicas)
        else:
            self._rolling(dep, new_rs, old, replicas, strategy.get("rollingUpdate") or {})
        self._cleanup(dep, old)
        self._status(dep, new_rs)

    def _set_replicas(
        self, rs_rt: ResourceType, rs: Obj, n: int, revision: int | None = None, dep: Obj | None = None
    ) -> None:
        before = int(rs["spec"].get("replicas", 0))

        def change(draft: Obj) -> None:
            draft["spec"]["replicas"] = n
            if revision is not None:
                draft["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        self.ctx.store.mutate(rs_rt, namespace_of(rs), name_of(rs), change)
        if dep is not None and before != n:
            verb = "up" if n > before else "down"
            self.ctx.record_event(
                dep,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {verb} replica set {name_of(rs)} from {before} to {n}",
                "deployment-controller",
            )

    def _recreate(self, dep: Obj, new_rs: Obj, old: list[Obj], replicas: int) -> None:
        rs_rt = self.ctx.rt("replicasets.apps")
        for rs in old:
            if int(rs["spec"].get("replicas", 0)):
                self._set_replicas(rs_rt, rs, 0, dep=dep)
        old_uids = {rs["metadata"]["uid"] for rs in old}
        if any(controller_uid(p) in old_uids for p in self.ctx.store.list("pods", namespace_of(dep))):
            return
        if int(new_rs["spec"].get("replicas", 0)) != replicas:
            self._set_replicas(rs_rt, new_rs, replicas, dep=dep)

    def _rolling(self, dep: Obj, new_rs: Obj, old: list[Obj], replicas: int, params: Obj) -> None:
        rs_rt = self.ctx.rt("replicasets.apps")
        surge = _resolve(params.get("maxSurge", "25%"), replicas, round_up=True)
        unavailable = _resolve(params.get("maxUnavailable", "25%"), replicas, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        live_old = [rs for rs in old if int(rs["spec"].get("replicas", 0)) > 0]
        new_count = int(new_rs["spec"].get("replicas", 0))
        if not live_old:
            if new_count != replicas:
                self._set_replicas(rs_rt, new_rs, replicas, dep=dep)
            return
        total = new_count + sum(int(rs["spec"].get("replicas", 0)) for rs in live_old)
        room = replicas + surge - total
        if room > 0 and new_count < replicas:
            self._set_replicas(rs_rt, new_rs, min(replicas, new_count + room), dep=dep)
            new_count = min(replicas, new_count + room)
        available = sum(int(rs.get("status", {}).get("availableReplicas", 0)) for rs in [new_rs, *live_old])
        can_remove = available - (replicas - unavailable)
        for rs in sorted(live_old, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            current = int(rs["spec"].get("replicas", 0))
            unhealthy = current - int(rs.get("status", {}).get("availableReplicas", 0))
            drop = min(current, max(0, can_remove) + unhealthy)
            if drop > 0:
                self._set_replicas(rs_rt, rs, current - drop, dep=dep)
                can_remove -= max(0, drop - unhealthy)

    def _cleanup(self, dep: Obj, old: list[Obj]) -> None:
        limit = int(dep["spec"].get("revisionHistoryLimit", 10))
        idle = sorted(
            (rs for rs in old if int(rs["spec"].get("replicas", 0)) == 0 and not rs.get("status", {}).get("replicas")),
            key=lambda r: int(r["metadata"].get("annotations", {}).get(REVISION, "0")),
        )
        for rs in idle[: max(0, len(idle) - limit)]:
            self.ctx.delete(self.ctx.rt("replicasets.apps"), rs)

    def _status(self, dep: Obj, new_rs: Obj) -> None:
        ns = namespace_of(dep)
        uid = dep["metadata"]["uid"]
        owned = [rs for rs in self.ctx.store.list("replicasets.apps", ns) if controller_uid(rs) == uid]
        new_now = next((rs for rs in owned if name_of(rs) == name_of(new_rs)), new_rs)
        total = sum(int(rs.get("status", {}).get("replicas", 0)) for rs in owned)
        ready = sum(int(rs.get("status", {}).get("readyReplicas", 0)) for rs in owned)
        available = sum(int(rs.get("status", {}).get("availableReplicas", 0)) for rs in owned)
        updated = int(new_now.get("status", {}).get("replicas", 0))
        replicas = int(dep["spec"].get("replicas", 1))
        strategy = dep["spec"].get("strategy") or {}
        max_unavailable = (
            0
            if strategy.get("type") == "Recreate"
            else _resolve((strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%"), replicas, round_up=False)
        )
        now = self.ctx.clock.iso()
        revision = new_now["metadata"].get("annotations", {}).get(REVISION, "1")
        complete = updated == replicas and available == replicas and total == replicas

        def status(draft: Obj) -> None:
            st: Obj = {
                "observedGeneration": draft["metadata"].get("generation", 1),
                "replicas": total,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": available,
                "unavailableReplicas": max(0, replicas - available),
                "conditions": deep_copy(draft.get("status", {}).get("conditions") or []),
            }
            for key in ("readyReplicas", "availableReplicas", "unavailableReplicas"):
                if not st[key]:
                    st.pop(key)
            ok = available >= replicas - max_unavailable
            set_condition(
                st["conditions"],
                "Available",
                "True" if ok else "False",
                "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
                "Deployment has minimum availability." if ok else "Deployment does not have minimum availability.",
                now,
            )
            if complete:
                set_condition(
                    st["conditions"],
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{name_of(new_now)}" has successfully progressed.',
                    now,
                )
            else:
                set_condition(
                    st["conditions"],
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{name_of(new_now)}" is progressing.',
                    now,
                )
            for cond in st["conditions"]:
                cond.setdefault("lastUpdateTime", now)
            st["conditions"].sort(key=lambda c: 0 if c["type"] == "Available" else 1)
            draft["status"] = st
            draft["metadata"].setdefault("annotations", {})[REVISION] = revision

        self.ctx.store.mutate(self.ctx.rt("deployments.apps"), ns, name_of(dep), status, status_only=True)
