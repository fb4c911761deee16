"""The Job controller: runs a Job's pods until enough succeed, or too many fail."""

from __future__ import annotations

import asyncio

from llmd_console.sim.controllers.base import Controller, create_pod_from_template, owner_or_own_key, split_key
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import (
    Obj,
    condition,
    controller_uid,
    deep_copy,
    name_of,
    set_condition,
)
from llmd_console.sim.storage.registry import ResourceType

COMPONENT = "job-controller"
# The Job controller's pod-failure back-off: 10 s, doubled per failure, at most 6 minutes.
BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0


def _finished(job: Obj) -> bool:
    return any((condition(job, kind) or {}).get("status") == "True" for kind in ("Complete", "Failed"))


def _ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


class Jobs(Controller):
    """Creates a Job's pods (up to parallelism), counts the ones that end, replaces failed
    ones after the controller's exponential back-off (in simulated time), and marks the Job
    Complete or Failed (backoffLimit) as the Job controller does."""

    watches = ("jobs.batch", "pods")

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        # job key -> (uid, failures seen, simulated instant from which new pods may start)
        self._backoff: dict[str, tuple[str, int, float]] = {}
        self._retrying: set[str] = set()

    def _start_after(self, key: str, uid: str, failed: int) -> float:
        """Simulated seconds before a Job with ``failed`` failed pods may start another."""
        known, seen, ready_at = self._backoff.get(key, (uid, 0, 0.0))
        if known != uid:  # a new Job of the same name
            seen, ready_at = 0, 0.0
        if failed > seen:
            ready_at = self.ctx.clock.elapsed() + min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_MAX)
        self._backoff[key] = (uid, failed, ready_at)
        wait = ready_at - self.ctx.clock.elapsed()
        if wait > 0 and key not in self._retrying:
            self._retrying.add(key)
            asyncio.get_running_loop().create_task(self._retry(key, wait))
        return wait

    async def _retry(self, key: str, wait: float) -> None:
        await self.ctx.clock.sleep(wait)
        self._retrying.discard(key)
        self.enqueue(key)

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        return owner_or_own_key(rtype, new or old, "pods", "Job")

    def _create_pod(self, job: Obj) -> None:
        pod = create_pod_from_template(self.ctx, job, job["spec"].get("template") or {})
        self.ctx.record_event(job, "Normal", "SuccessfulCreate", f"Created pod: {name_of(pod)}", COMPONENT)

    def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        store = self.ctx.store
        job = store.get("jobs.batch", ns, name)
        if job is None or job["metadata"].get("deletionTimestamp") or _finished(job):
            self._backoff.pop(key, None)
            return
        spec = job.get("spec") or {}
        uid = job["metadata"]["uid"]
        pods = [p for p in store.list("pods", ns) if controller_uid(p) == uid]
        phases = [p.get("status", {}).get("phase") for p in pods]
        succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
        running = [
            p
            for p, phase in zip(pods, phases, strict=True)
            if phase not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp")
        ]
        completions = int(spec.get("completions") or 1)
        now = self.ctx.clock.iso()
        updated = deep_copy(job)
        status = updated.setdefault("status", {})
        status.setdefault("startTime", now)
        conditions = status.setdefault("conditions", [])
        active = len(running)
        if succeeded >= completions:
            for kind in ("SuccessCriteriaMet", "Complete"):
                message = "Reached expected number of succeeded pods"
                set_condition(conditions, kind, "True", "CompletionsReached", message, now, probe_time=True)
            status["completionTime"] = now
            self.ctx.record_event(job, "Normal", "Completed", "Job completed", COMPONENT)
        elif failed > int(spec.get("backoffLimit", 6)):
            message = "Job has reached the specified backoff limit"
            for kind in ("FailureTarget", "Failed"):
                set_condition(conditions, kind, "True", "BackoffLimitExceeded", message, now, probe_time=True)
            for pod in running:
                self.ctx.delete(self.ctx.rt("pods"), pod)
            self.ctx.record_event(job, "Warning", "BackoffLimitExceeded", message, COMPONENT)
        elif not spec.get("suspend") and self._start_after(key, uid, failed) <= 0:
            want = min(int(spec.get("parallelism", 1)), completions - succeeded)
            for _ in range(want - active):
                self._create_pod(job)
            active = max(active, want)
        if not conditions:
            del status["conditions"]
        status["active"] = 0 if _finished(updated) else active
        status["ready"] = 0 if _finished(updated) else sum(1 for p in running if _ready(p))
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        for field, count in (("succeeded", succeeded), ("failed", failed)):
            if count:
                status[field] = count
        if status != job.get("status"):
            store.update(self.ctx.rt("jobs.batch"), updated, status_only=True)
