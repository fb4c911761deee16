"""Pod rows: role, readiness and the status with its reason, as an operator reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmd_console.sanitize import one_line
from llmd_console.views.common import Obj, meta, name, pod_accelerators, timestamp

Severity = Literal["ok", "progress", "warning", "error"]
Role = Literal["decode", "prefill", "epp", "gateway", "other"]
_BAD_WAITING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
}


@dataclass(frozen=True)
class PodRow:
    """One line of the pods table."""

    key: str
    namespace: str
    name: str
    role: Role
    ready: str
    status: str
    severity: Severity
    restarts: int
    created: float | None
    node: str
    chips: int
    containers: tuple[str, ...]


def role_of(pod: Obj) -> Role:
    """What a pod is in the llm-d stack, from its labels."""
    labels = meta(pod).get("labels") or {}
    llmd_role = labels.get("llm-d.ai/role")
    if llmd_role in ("decode", "prefill"):
        return "decode" if llmd_role == "decode" else "prefill"
    if labels.get("llm-d.ai/inferenceServing") == "true" or labels.get("llm-d.ai/inference-serving") == "true":
        return "decode"
    if "inferencepool" in labels:
        return "epp"
    if (
        labels.get("app.kubernetes.io/component") == "inference-gateway"
        or "gateway.networking.k8s.io/gateway-name" in labels
    ):
        return "gateway"
    return "other"


def status_of(pod: Obj) -> tuple[str, Severity]:
    """kubectl's STATUS column, with how bad it is."""
    m = meta(pod)
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "Pending")
    if m.get("deletionTimestamp"):
        return "Terminating", "progress"
    reason = status.get("reason")
    if reason:
        return one_line(str(reason), 40), "error"
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, dict)]
    for s in statuses:
        waiting = (s.get("state") or {}).get("waiting") or {}
        why = waiting.get("reason")
        if why and why != "ContainerCreating":
            return one_line(str(why), 40), "error" if why in _BAD_WAITING else "progress"
        terminated = (s.get("state") or {}).get("terminated") or {}
        if terminated.get("reason"):
            return one_line(str(terminated["reason"]), 40), "error" if terminated.get("exitCode") else "progress"
    if phase == "Pending":
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                return "Pending (" + one_line(str(cond.get("reason") or "Unschedulable"), 30) + ")", "warning"
        return ("ContainerCreating", "progress") if pod.get("spec", {}).get("nodeName") else ("Pending", "warning")
    if phase == "Running":
        ready = all(s.get("ready") for s in statuses) if statuses else False
        return "Running", "ok" if ready else "progress"
    if phase == "Succeeded":
        return "Completed", "ok"
    return phase, "error" if phase == "Failed" else "progress"


def pod_row(pod: Obj, key: str) -> PodRow:
    """The row for one pod."""
    m = meta(pod)
    spec = pod.get("spec") or {}
    statuses = [s for s in (pod.get("status") or {}).get("containerStatuses") or [] if isinstance(s, dict)]
    containers = tuple(one_line(str(c.get("name", "")), 63) for c in spec.get("containers") or [])
    ready = sum(1 for s in statuses if s.get("ready"))
    text, severity = status_of(pod)
    return PodRow(
        key=key,
        namespace=one_line(str(m.get("namespace", "")), 63),
        name=name(pod),
        role=role_of(pod),
        ready=f"{ready}/{len(containers)}",
        status=text,
        severity=severity,
        restarts=sum(int(s.get("restartCount") or 0) for s in statuses),
        created=timestamp(m.get("creationTimestamp")),
        node=one_line(str(spec.get("nodeName") or ""), 253),
        chips=pod_accelerators(pod),
        containers=containers,
    )
