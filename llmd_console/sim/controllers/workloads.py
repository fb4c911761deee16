"""Deployments (rolling update, recreate, rollout restart, scale) and ReplicaSets."""

from __future__ import annotations

import asyncio
import math

from llmd_console.sim.controllers.base import Controller, create_pod_from_template, owner_or_own_key, split_key
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import (
    Obj,
    condition,
    controller_uid,
    deep_copy,
    name_of,
    namespace_of,
    owner_ref,
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
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Deployment annotations the controller never copies to its ReplicaSets (annotationsToSkip).
_NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
REVISION_HISTORY_CHARS = 2000  # the controller's --deployment-controller revision history cap


def _pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def _resolve(value: object, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        raw = total * int(value[:-1]) / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(str(value)) if value is not None else 0


def _semantic(value: object) -> object:
    """A template as Go's semantic equality sees it: nulls and empty maps or lists are absent."""
    if isinstance(value, dict):
        kept = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def template_key(template: Obj) -> object:
    """A pod template as EqualIgnoreHash compares it: without the pod-template-hash label."""
    bare = deep_copy(template)
    labels = (bare.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return _semantic(bare)


def _max_surge(dep: Obj) -> int:
    strategy = dep["spec"].get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    replicas = int(dep["spec"].get("replicas", 1))
    return _resolve((strategy.get("rollingUpdate") or {}).get("maxSurge", "25%"), replicas, round_up=True)


def _revision(rs: Obj) -> int:
    value = rs["metadata"].get("annotations", {}).get(REVISION, "0")
    return int(value) if str(value).isdigit() else 0


def rs_annotations(dep: Obj, annotations: dict[str, str], revision: int) -> dict[str, str]:
    """A ReplicaSet's annotations after a sync (SetNewReplicaSetAnnotations): the Deployment's own
    (``kubernetes.io/change-cause`` among them) copied over, and a revision that only moves up;
    an older revision moving up is a rollback, remembered in ``revision-history``."""
    out = dict(annotations)
    for key, value in (dep["metadata"].get("annotations") or {}).items():
        if key not in _NOT_COPIED:
            out[key] = value
    old = out.get(REVISION)
    old_int = int(old) if old is not None and old.isdigit() else 0
    if old_int < revision:
        out[REVISION] = str(revision)
        if old is not None:
            history = [r for r in out.get(REVISION_HISTORY, "").split(",") if r]
            history.append(old)
            while len(",".join(history)) > REVISION_HISTORY_CHARS:
                history.pop(0)
            out[REVISION_HISTORY] = ",".join(history)
    return out


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
        return owner_or_own_key(rtype, new or old, "pods", "ReplicaSet")

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
        created = create_pod_from_template(self.ctx, rs, rs["spec"]["template"])
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
        return owner_or_own_key(rtype, new or old, "replicasets.apps", "Deployment")

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        # Simulated instant of each Deployment's last noted progress, by key: the progress
        # deadline counts simulated seconds, while condition timestamps stay on the wall clock.
        self._progress_at: dict[str, float] = {}
        self._recheck: dict[str, asyncio.TimerHandle] = {}

    def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        store = self.ctx.store
        dep = store.get("deployments.apps", ns, name)
        if dep is None:
            self._progress_at.pop(key, None)
            handle = self._recheck.pop(key, None)
            if handle is not None:
                handle.cancel()
            return
        rs_rt = self.ctx.rt("replicasets.apps")
        uid = dep["metadata"]["uid"]
        owned = [rs for rs in store.list("replicasets.apps", ns) if controller_uid(rs) == uid]
        template = dep["spec"]["template"]
        thash = template_hash(template, int(dep.get("status", {}).get("collisionCount", 0)))
        # FindNewReplicaSet: the oldest owned ReplicaSet whose template equals the Deployment's
        # once the pod-template-hash label is set aside (not the one whose hash matches: a
        # collisionCount bump changes the hash, not the template).
        by_age = sorted(owned, key=lambda rs: (rs["metadata"].get("creationTimestamp") or "", name_of(rs)))
        wanted_template = template_key(template)
        new_rs = next((rs for rs in by_age if template_key(rs["spec"].get("template") or {}) == wanted_template), None)
        old = [rs for rs in owned if rs is not new_rs]
        # The new ReplicaSet's revision is one past the newest old one (MaxRevision(oldRSs) + 1).
        revision = 1 + max((_revision(rs) for rs in old), default=0)
        replicas = int(dep["spec"].get("replicas", 1))
        strategy = dep["spec"].get("strategy") or {}
        created = False
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
            annotations = rs_annotations(dep, {}, revision)
            annotations[DESIRED_REPLICAS] = str(replicas)
            annotations[MAX_REPLICAS] = str(replicas + _max_surge(dep))
            new_rs = self.ctx.create(
                "replicasets.apps",
                {
                    "metadata": {
                        "name": f"{name}-{thash}",
                        "namespace": ns,
                        "labels": labels,
                        "annotations": annotations,
                        "ownerReferences": [owner_ref(dep)],
                    },
                    "spec": {"replicas": 0 if start == 0 or old else replicas, "selector": selector, "template": tmpl},
                },
            )
            created = True
            if not old:
                self.ctx.record_event(
                    dep,
                    "Normal",
                    "ScalingReplicaSet",
                    f"Scaled up replica set {name_of(new_rs)} from 0 to {replicas}",
                    "deployment-controller",
                )
        else:
            # An existing ReplicaSet with this template (a rollback reuses it): it takes the new
            # revision and the Deployment's current annotations.
            current = new_rs["metadata"].get("annotations") or {}
            wanted = rs_annotations(dep, current, revision)
            if wanted != current:
                store.mutate(
                    rs_rt,
                    ns,
                    name_of(new_rs),
                    lambda draft: draft["metadata"].__setitem__("annotations", wanted),
                )
                new_rs = store.get("replicasets.apps", ns, name_of(new_rs)) or new_rs
        if strategy.get("type") == "Recreate":
            self._recreate(dep, new_rs, old, replicas)
        else:
            self._rolling(dep, new_rs, old, replicas, strategy.get("rollingUpdate") or {})
        self._cleanup(dep, old)
        self._status(key, dep, new_rs, created=created)

    def _set_replicas(self, rs_rt: ResourceType, rs: Obj, n: int, dep: Obj | None = None) -> None:
        before = int(rs["spec"].get("replicas", 0))

        def change(draft: Obj) -> None:
            draft["spec"]["replicas"] = n
            if dep is not None:
                # SetReplicasAnnotations: what the Deployment wanted when it last scaled this set.
                annotations = draft["metadata"].setdefault("annotations", {})
                want = int(dep["spec"].get("replicas", 1))
                annotations[DESIRED_REPLICAS] = str(want)
                annotations[MAX_REPLICAS] = str(want + _max_surge(dep))

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

    def _status(self, key: str, dep: Obj, new_rs: Obj, *, created: bool) -> None:
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
        deadline = dep["spec"].get("progressDeadlineSeconds", 600)
        before: Obj = dep.get("status") or {}
        # DeploymentProgressing: more updated, ready or available pods, or fewer old ones.
        progressed = (
            updated > int(before.get("updatedReplicas", 0))
            or total - updated < int(before.get("replicas", 0)) - int(before.get("updatedReplicas", 0))
            or ready > int(before.get("readyReplicas", 0))
            or available > int(before.get("availableReplicas", 0))
        )
        rs_name = name_of(new_now)

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
            if draft.get("status", {}).get("collisionCount"):
                st["collisionCount"] = draft["status"]["collisionCount"]
            for field in ("readyReplicas", "availableReplicas", "unavailableReplicas"):
                if not st[field]:
                    st.pop(field)
            ok = available >= replicas - max_unavailable
            set_condition(
                st["conditions"],
                "Available",
                "True" if ok else "False",
                "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
                "Deployment has minimum availability." if ok else "Deployment does not have minimum availability.",
                now,
            )
            self._progress(
                key, st["conditions"], rs_name, now, deadline, created, complete, progressed, total == updated
            )
            for cond in st["conditions"]:
                cond.setdefault("lastUpdateTime", now)
            st["conditions"].sort(key=lambda c: 0 if c["type"] == "Available" else 1)
            draft["status"] = st
            draft["metadata"].setdefault("annotations", {})[REVISION] = revision

        self.ctx.store.mutate(self.ctx.rt("deployments.apps"), ns, name_of(dep), status, status_only=True)

    def _progress(
        self,
        key: str,
        conditions: list[Obj],
        rs_name: str,
        now: str,
        deadline: object,
        created: bool,
        complete: bool,
        progressed: bool,
        settled: bool,
    ) -> None:
        """The Progressing condition as syncRolloutStatus keeps it: renewed on progress, False
        with ProgressDeadlineExceeded once progressDeadlineSeconds pass without any."""
        current = next((c for c in conditions if c.get("type") == "Progressing"), None)

        def renew(reason: str, message: str) -> None:
            kept = current.get("lastTransitionTime") if current and current.get("status") == "True" else None
            conditions[:] = [c for c in conditions if c.get("type") != "Progressing"]
            conditions.append(
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": reason,
                    "message": message,
                    "lastUpdateTime": now,
                    "lastTransitionTime": kept or now,
                }
            )
            self._progress_at[key] = self.ctx.clock.elapsed()

        if created:
            renew("NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
        elif current is not None and current.get("reason") == "NewReplicaSetAvailable" and settled:
            # isCompleteDeployment: no rollout under way (a scale is not one), nothing to estimate.
            return
        if not isinstance(deadline, int) or isinstance(deadline, bool):
            return  # no progress deadline: nothing is estimated
        if complete:
            ok = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
            if current is None or (current.get("status"), current.get("reason"), current.get("message")) != ok:
                renew(ok[1], ok[2])
            return
        renewed = created or progressed or current is None
        if not created and renewed:
            renew("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        elif not renewed and current is not None and current.get("reason") == "ProgressDeadlineExceeded":
            return
        since = self._progress_at.setdefault(key, self.ctx.clock.elapsed())
        left = since + deadline - self.ctx.clock.elapsed()
        if left < 0 and current is not None and not renewed:
            set_condition(
                conditions,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
                now,
            )
            current["lastUpdateTime"] = now
            return
        # requeueStuckDeployment: look again when the deadline passes.
        handle = self._recheck.pop(key, None)
        if handle is not None:
            handle.cancel()
        self._recheck[key] = asyncio.get_running_loop().call_later(
            self.ctx.clock.wall(max(left, 0.0)) + 0.01, self.enqueue, key
        )
