"""Pod rows: role, readiness and the status with its reason, as an operator reads them."""

from __future__ import annotations

import re
from types import MappingProxyType

from llmd_console.models import Container, Obj, Pod, Role, Severity, StartupProbe
from llmd_console.sanitize import middle_ellipsis, one_line
from llmd_console.views.common import is_true, meta, name, pod_accelerators, timestamp

_BAD_WAITING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
}


# Words in a pod's name that say what it is; shortening a name never drops them.
ROLE_WORDS = frozenset({"decode", "prefill", "epp", "gateway"})
# A ReplicaSet's pod-template-hash, as the deployment controller writes it.
_HASH = re.compile(r"[bcdfghjklmnpqrstvwxz2456789]{6,10}")


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
    init = _init_status(pod)
    if init is not None:
        return init
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, dict)]
    for s in statuses:
        waiting = (s.get("state") or {}).get("waiting") or {}
        why = waiting.get("reason")
        if why and why != "ContainerCreating":
            text = one_line(str(why), 40)
            last = ((s.get("lastState") or {}).get("terminated") or {}).get("reason")
            if last and why == "CrashLoopBackOff":
                # Why it keeps dying is what the operator needs next (kubectl hides it in describe).
                text += f" ({one_line(str(last), 30)})"
            return text, "error" if why in _BAD_WAITING else "progress"
        terminated = (s.get("state") or {}).get("terminated") or {}
        if terminated:
            return _terminated_text(terminated), "error" if terminated.get("exitCode") else "progress"
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


def _terminated_text(terminated: Obj) -> str:
    """kubectl's words for a terminated container: its reason, else the signal or exit code."""
    if terminated.get("reason"):
        return one_line(str(terminated["reason"]), 40)
    if terminated.get("signal"):
        return f"Signal:{one_line(str(terminated['signal']), 10)}"
    return f"ExitCode:{one_line(str(terminated.get('exitCode')), 10)}"


def _init_status(pod: Obj) -> tuple[str, Severity] | None:
    """``Init:i/n`` or ``Init:<reason>`` while init containers have not all finished, as kubectl
    prints it; sidecars (init containers that keep running) count once started."""
    specs = {str(c.get("name")): c for c in (pod.get("spec") or {}).get("initContainers") or [] if isinstance(c, dict)}
    statuses = [s for s in (pod.get("status") or {}).get("initContainerStatuses") or [] if isinstance(s, dict)]
    if not specs:
        return None
    for i, s in enumerate(statuses):
        state = s.get("state") or {}
        terminated = state.get("terminated") or {}
        waiting = state.get("waiting") or {}
        sidecar = (specs.get(str(s.get("name"))) or {}).get("restartPolicy") == "Always"
        if terminated and terminated.get("exitCode") == 0:
            continue
        if sidecar and (state.get("running") or s.get("started")):
            continue
        if terminated:
            return "Init:" + _terminated_text(terminated), "error"
        if waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            why = str(waiting["reason"])
            return "Init:" + one_line(why, 40), "error" if why in _BAD_WAITING else "progress"
        return f"Init:{i}/{len(specs)}", "progress"
    if len(statuses) < len(specs) and (pod.get("spec") or {}).get("nodeName"):
        return f"Init:{len(statuses)}/{len(specs)}", "progress"
    return None


def short_name(text: str, width: int) -> str:
    """A pod name shortened to ``width`` cells the way an operator can still read it: the
    generated ReplicaSet hash goes first, then the middle of the prefix, keeping the role word
    (decode, prefill, epp) and the pod's own suffix; as a last resort, the middle."""
    if len(text) <= width:
        return text
    tokens = text.split("-")
    if len(tokens) >= 3 and _HASH.fullmatch(tokens[-2]) and len(tokens[-1]) == 5:
        tokens[-2] = "\u2026"
        candidate = "-".join(tokens)
        if len(candidate) <= width:
            return candidate
    roles = [i for i, token in enumerate(tokens) if token in ROLE_WORDS]
    if roles:
        tail = "-".join(tokens[roles[-1] :])
        head = "-".join(tokens[: roles[-1]])
        room = width - len(tail) - 2  # "…" and the dash before the role word
        if room >= 3:
            return head[:room] + "\u2026-" + tail
    return middle_ellipsis(text, width)


def _probe(spec: Obj) -> StartupProbe | None:
    probe = spec.get("startupProbe")
    if not isinstance(probe, dict):
        return None
    return StartupProbe(
        float(probe.get("initialDelaySeconds", 0)),
        float(probe.get("periodSeconds", 10)),
        float(probe.get("failureThreshold", 3)),
    )


def _containers(pod: Obj) -> tuple[Container, ...]:
    specs = [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    statuses = {
        s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or [] if isinstance(s, dict)
    }
    out = []
    for spec in specs:
        cname = str(spec.get("name", ""))
        status = statuses.get(cname) or {}
        state = status.get("state") or {}
        last = (status.get("lastState") or {}).get("terminated") or {}
        out.append(
            Container(
                name=one_line(cname, 63),
                instance=str(status.get("containerID") or ""),
                restarts=int(status.get("restartCount") or 0),
                ready=bool(status.get("ready")),
                started=bool(status.get("started")),
                running_since=timestamp((state.get("running") or {}).get("startedAt")),
                waiting=one_line(str((state.get("waiting") or {}).get("reason") or ""), 60),
                last_exit=one_line(str(last.get("reason") or ""), 60),
                startup_probe=_probe(spec),
            )
        )
    return tuple(out)


def pod_model(pod: Obj, key: str) -> Pod:
    """The console's view of one pod."""
    m = meta(pod)
    spec = pod.get("spec") or {}
    statuses = [s for s in (pod.get("status") or {}).get("containerStatuses") or [] if isinstance(s, dict)]
    containers = _containers(pod)
    ready = sum(1 for s in statuses if s.get("ready"))
    text, severity = status_of(pod)
    labels = m.get("labels") or {}
    return Pod(
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
        labels=MappingProxyType({str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}),
        phase=str((pod.get("status") or {}).get("phase") or "Pending"),
        is_ready=is_true(pod, "Ready"),
        terminating=bool(m.get("deletionTimestamp")),
    )


def unreadable_pod(key: str, error: Exception) -> Pod:
    """The row of a pod whose fields are not what Kubernetes sends: it is shown, saying so."""
    namespace, _, pod_name = key.partition("/")
    return Pod(
        key,
        one_line(namespace, 63),
        one_line(pod_name, 253),
        "other",
        "?",
        f"unreadable: {type(error).__name__}",
        "error",
        0,
        None,
        "",
        0,
    )
