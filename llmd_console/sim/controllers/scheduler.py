"""The default-scheduler: node selectors, affinity, taints, resource fit."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from llmd_console.sim.controllers.base import Controller, split_key
from llmd_console.sim.controllers.resources import node_allocatable, pod_is_active, pod_requests
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, labels_of, name_of, namespace_of, set_condition
from llmd_console.sim.storage.registry import ResourceType

INSUFFICIENT = "Insufficient"


def _tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol.get("key") == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and str(tol.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def _affinity_matches(pod: Obj, labels: dict[str, str]) -> bool:
    spec = pod.get("spec", {})
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    for term in terms:
        ok = True
        for expr in term.get("matchExpressions") or []:
            key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
            have = labels.get(key)
            if (
                (op == "In" and have not in values)
                or (op == "NotIn" and have in values)
                or (op == "Exists" and have is None)
                or (op == "DoesNotExist" and have is not None)
            ):
                ok = False
        if ok:
            return True
    return False


def node_misfit(pod: Obj, node: Obj, used: dict[str, Decimal]) -> list[str]:
    """Why ``pod`` cannot go on ``node`` (empty when it fits), in kube-scheduler's words."""
    spec = node.get("spec", {})
    if spec.get("unschedulable"):
        return ["node(s) were unschedulable"]
    tolerations = pod.get("spec", {}).get("tolerations") or []
    for taint in spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, taint):
            return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"]
    if not _affinity_matches(pod, labels_of(node)):
        return ["node(s) didn't match Pod's node affinity/selector"]
    alloc = node_allocatable(node)
    reasons = []
    for name, want in pod_requests(pod).items():
        if want <= 0:
            continue
        if name == "pods":
            if alloc.get("pods", Decimal(110)) - used.get("pods", Decimal(0)) < want:
                reasons.append("Too many pods")
            continue
        if alloc.get(name, Decimal(0)) - used.get(name, Decimal(0)) < want:
            reasons.append(f"{INSUFFICIENT} {name}")
    return reasons


def failed_scheduling_message(total: int, reasons: Counter[str]) -> str:
    """``0/N nodes are available: ...`` with the preemption tail, as kube-scheduler writes it."""
    if total == 0:
        return "no nodes available to schedule pods"
    parts = sorted(f"{n} {r}" for r, n in reasons.items())
    preempt: Counter[str] = Counter()
    for reason, n in reasons.items():
        key = (
            "No preemption victims found for incoming pod"
            if reason.startswith(INSUFFICIENT)
            else "Preemption is not helpful for scheduling"
        )
        preempt[key] += n
    tail = sorted(f"{n} {r}" for r, n in preempt.items())
    return (
        f"0/{total} nodes are available: {', '.join(parts)}. "
        f"preemption: 0/{total} nodes are available: {', '.join(tail)}."
    )


class Scheduler(Controller):
    """Binds pending pods to nodes."""

    watches = ("pods", "nodes")
    resync_sim_seconds = 60.0

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.pods = ctx.rt("pods")
        # Requested resources per node, kept up to date from pod events (None until first use),
        # so binding one pod does not re-add every pod's requests.
        self._used: dict[str, dict[str, Decimal]] | None = None
        # Pods waiting for a node, kept from pod events: a node change requeues them without
        # scanning every pod.
        self._unscheduled: set[tuple[str, str]] = set()
        for pod in ctx.store.list("pods"):
            self._track(pod, pod)

    def _track(self, place_of: Obj, pod: Obj | None) -> None:
        place = (namespace_of(place_of), name_of(place_of))
        if pod is not None and not pod.get("spec", {}).get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
            self._unscheduled.add(place)
        else:
            self._unscheduled.discard(place)

    def _on_change(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if rtype.key == "pods":
            if self._used is not None:
                self._account(old, -1)
                self._account(new, +1)
            subject = new or old
            if subject is not None:
                self._track(subject, new)
        super()._on_change(etype, rtype, old, new)

    def _account(self, pod: Obj | None, sign: int) -> None:
        assert self._used is not None
        node = (pod or {}).get("spec", {}).get("nodeName")
        if pod is None or not node or not pod_is_active(pod):
            return
        acc = self._used.setdefault(node, {})
        for name, qty in pod_requests(pod).items():
            total = acc.get(name, Decimal(0)) + sign * qty
            if total:
                acc[name] = total
            else:
                acc.pop(name, None)
        if not acc:
            self._used.pop(node, None)

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        if rtype.key == "nodes" or (etype == "DELETED" and old and old.get("spec", {}).get("nodeName")):
            return self._unscheduled_keys()
        if new and not new.get("spec", {}).get("nodeName") and not new["metadata"].get("deletionTimestamp"):
            return [f"{namespace_of(new)}/{name_of(new)}"]
        if etype == "MODIFIED" and new and new.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return self._unscheduled_keys()
        return []

    def _unscheduled_keys(self) -> list[str]:
        return [f"{ns}/{name}" for ns, name in sorted(self._unscheduled)]

    def resync(self) -> None:
        for key in self._unscheduled_keys():
            self.enqueue(key)

    def usage(self) -> dict[str, dict[str, Decimal]]:
        """Requested resources per node, from every active pod bound to it (read-only)."""
        if self._used is None:
            self._used = {}
            for pod in self.ctx.store.list("pods"):
                self._account(pod, +1)
        return self._used

    def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        pod = self.ctx.store.get("pods", ns, name)
        if pod is None or pod.get("spec", {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if pod.get("spec", {}).get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        nodes = self.ctx.store.list("nodes")
        used = self.usage()
        reasons: Counter[str] = Counter()
        chosen = None
        best_free = Decimal(-1)
        for node in nodes:
            misfit = node_misfit(pod, node, used.get(name_of(node), {}))
            if misfit:
                reasons.update(misfit)
                continue
            # Least-allocated: prefer the node with the most free pod slots.
            free = node_allocatable(node).get("pods", Decimal(110)) - used.get(name_of(node), {}).get(
                "pods", Decimal(0)
            )
            if free > best_free:
                chosen, best_free = node, free
        now = self.ctx.clock.iso()
        if chosen is None:
            message = failed_scheduling_message(len(nodes), reasons)

            def unschedulable(draft: Obj) -> None:
                conds = draft.setdefault("status", {}).setdefault("conditions", [])
                set_condition(conds, "PodScheduled", "False", "Unschedulable", message, now, probe_time=True)
                draft["status"]["phase"] = "Pending"

            self.ctx.store.mutate(self.pods, ns, name, unschedulable, status_only=True)
            self.ctx.record_event(pod, "Warning", "FailedScheduling", message, "default-scheduler")
            return
        node_name = name_of(chosen)

        def bind(draft: Obj) -> None:
            draft["spec"]["nodeName"] = node_name

        def scheduled(draft: Obj) -> None:
            conds = draft.setdefault("status", {}).setdefault("conditions", [])
            set_condition(conds, "PodScheduled", "True", "", "", now, probe_time=True)

        bound = self.ctx.store.mutate(self.pods, ns, name, bind)
        if bound is not None:
            bound = self.ctx.store.mutate(self.pods, ns, name, scheduled, status_only=True) or bound
            self.ctx.record_event(
                bound, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node_name}", "default-scheduler"
            )
