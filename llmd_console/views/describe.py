"""A pod described as ``kubectl describe pod`` prints it (events included), and any object
as YAML with secret values never shown: pure functions from the raw JSON the API returned.

Secret values: a Secret's ``data`` and ``stringData`` values, and its last-applied
annotation (which repeats them), become ``<redacted: N bytes>``; an environment variable
taken from a Secret is shown as the reference it is, never resolved."""

from __future__ import annotations

import binascii
import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from llmd_console.views.common import human_age, timestamp

Obj = Mapping[str, Any]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_EVENTS = 50  # the newest ones; a crash loop can have thousands
MAX_OBJECT_CHARS = 2_000_000  # larger YAML is cut, saying so


# ---- YAML ----------------------------------------------------------------------------
def redacted(obj: Obj) -> dict[str, Any]:
    """A copy of ``obj`` without secret values and without ``managedFields`` (as
    ``kubectl get -o yaml`` leaves them out); a List's items are redacted one by one."""
    out: dict[str, Any] = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    if isinstance(out.get("items"), list):
        out["items"] = [redacted(item) if isinstance(item, Mapping) else item for item in out["items"]]
    if out.get("kind") == "Secret":
        for field in ("data", "stringData"):
            values = out.get(field)
            if isinstance(values, dict):
                out[field] = {k: f"<redacted, {_size(v, base64=field == 'data')} bytes>" for k, v in values.items()}
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = "<redacted, it repeats the secret's data>"
    return out


def _size(value: object, *, base64: bool) -> int:
    """Bytes of a secret value (``data`` holds them base64-encoded)."""
    text = str(value)
    if base64:
        try:
            return len(binascii.a2b_base64(text))
        except binascii.Error:
            pass
    return len(text.encode())


def to_yaml(obj: Obj) -> str:
    """``obj`` (redacted) as YAML, keys sorted as ``kubectl get -o yaml`` prints them."""
    text = yaml.safe_dump(redacted(obj), sort_keys=True, default_flow_style=False, allow_unicode=True, width=1000)
    if len(text) > MAX_OBJECT_CHARS:
        return text[:MAX_OBJECT_CHARS] + f"\n# ... cut: the object is {len(text):,} characters\n"
    return text


# ---- describe --------------------------------------------------------------------------
class _Out:
    """Lines with kubectl's label column."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, indent: int, label: str, value: object = None, width: int = 0) -> None:
        pad = " " * indent
        if value is None:
            self.lines.append(f"{pad}{label}")
            return
        head = f"{label}:"
        self.lines.append(f"{pad}{head:<{max(width, len(head) + 1)}}{value}".rstrip())

    def heading(self, indent: int, label: str, present: bool, width: int) -> None:
        """``label:`` above what follows, or ``label: <none>`` when nothing does."""
        if present:
            self.add(indent, f"{label}:")
        else:
            self.add(indent, label, "<none>", width)

    def pairs(self, indent: int, label: str, values: Sequence[str], width: int) -> None:
        """``label: first`` then the rest aligned under it (``<none>`` when empty)."""
        self.add(indent, label, values[0] if values else "<none>", width)
        for value in values[1:]:
            self.lines.append(" " * (indent + width) + value)


def _when(text: object) -> str:
    at = timestamp(text)
    return datetime.fromtimestamp(at, tz=UTC).strftime("%a, %d %b %Y %H:%M:%S +0000") if at else "<unknown>"


def _kv(values: object, sep: str = "=") -> list[str]:
    return [f"{k}{sep}{v}" for k, v in sorted(values.items())] if isinstance(values, dict) else []


def _probe(probe: Obj) -> str:
    if "httpGet" in probe:
        get = probe["httpGet"]
        scheme = str(get.get("scheme", "")).lower()
        what = f"http-get {scheme}//{get.get('host', '')}:{get.get('port', '')}{get.get('path', '')}"
    elif "tcpSocket" in probe:
        what = f"tcp-socket :{probe['tcpSocket'].get('port', '')}"
    elif "exec" in probe:
        what = f"exec {list(probe['exec'].get('command') or [])}"
    elif "grpc" in probe:
        what = f"grpc <pod>:{probe['grpc'].get('port', '')}"
    else:
        what = "unknown"
    return (
        f"{what} delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
        f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 0)} "
        f"#failure={probe.get('failureThreshold', 0)}"
    )


def _env_value(env: Obj) -> str:
    """A variable's value, or for one taken from elsewhere the reference (a Secret's is never resolved)."""
    source = env.get("valueFrom")
    if not isinstance(source, Mapping):
        return str(env.get("value", ""))
    for field, where in (("secretKeyRef", "in secret"), ("configMapKeyRef", "of config map")):
        ref = source.get(field)
        if isinstance(ref, Mapping):
            optional = str(bool(ref.get("optional"))).lower()
            return f"<set to the key '{ref.get('key', '')}' {where} '{ref.get('name', '')}'>  Optional: {optional}"
    if "fieldRef" in source:
        return f"({source['fieldRef'].get('apiVersion', 'v1')}:{source['fieldRef'].get('fieldPath', '')})"
    if "resourceFieldRef" in source:
        return f"{source['resourceFieldRef'].get('resource', '')}"
    return "<set from elsewhere>"


def _state(out: _Out, label: str, state: object) -> None:
    if not isinstance(state, Mapping) or not state:
        if label == "State":
            out.add(4, label, "Waiting", 15)
        return
    name, detail = next(iter(state.items()))
    detail = detail if isinstance(detail, Mapping) else {}
    out.add(4, label, str(name).capitalize(), 15)
    if detail.get("reason"):
        out.add(6, "Reason", detail["reason"], 14)
    if detail.get("message"):
        out.add(6, "Message", detail["message"], 14)
    if "exitCode" in detail:
        out.add(6, "Exit Code", detail["exitCode"], 14)
    if detail.get("startedAt"):
        out.add(6, "Started", _when(detail["startedAt"]), 14)
    if detail.get("finishedAt"):
        out.add(6, "Finished", _when(detail["finishedAt"]), 14)


def _container(out: _Out, spec: Obj, status: Obj) -> None:
    out.add(2, f"{spec.get('name', '')}:")
    out.add(4, "Container ID", status.get("containerID", ""), 15)
    out.add(4, "Image", spec.get("image", ""), 15)
    out.add(4, "Image ID", status.get("imageID", ""), 15)
    ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []]
    out.add(4, "Port", ", ".join(ports) or "<none>", 15)
    out.add(
        4,
        "Host Port",
        ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or "<none>",
        16,
    )
    for label, field in (("Command", "command"), ("Args", "args")):
        if spec.get(field):
            out.add(4, f"{label}:")
            for word in spec[field]:
                out.add(6, str(word))
    _state(out, "State", status.get("state"))
    _state(out, "Last State", status.get("lastState"))
    out.add(4, "Ready", str(bool(status.get("ready"))), 15)
    out.add(4, "Restart Count", status.get("restartCount", 0), 15)
    resources = spec.get("resources") or {}
    for label in ("limits", "requests"):
        if resources.get(label):
            out.add(4, f"{label.capitalize()}:")
            for k, v in sorted(resources[label].items()):
                out.add(6, k, v, 17)
    for label, field in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"), ("Startup", "startupProbe")):
        if isinstance(spec.get(field), Mapping):
            out.add(4, label, _probe(spec[field]), 15)
    env = [e for e in spec.get("env") or [] if isinstance(e, Mapping)]
    out.heading(4, "Environment", bool(env), 15)
    width = max((len(str(e.get("name", ""))) for e in env), default=0) + 3
    for e in env:
        out.add(6, str(e.get("name", "")), _env_value(e), width)
    mounts = spec.get("volumeMounts") or []
    out.heading(4, "Mounts", bool(mounts), 15)
    for m in mounts:
        out.add(6, f"{m.get('mountPath', '')} from {m.get('name', '')} ({'ro' if m.get('readOnly') else 'rw'})")


def _volume(out: _Out, volume: Obj) -> None:
    out.add(2, f"{volume.get('name', '')}:")
    kinds = [k for k in volume if k != "name"]
    kind = kinds[0] if kinds else "unknown"
    found = volume.get(kind)
    detail: Obj = found if isinstance(found, Mapping) else {}
    if kind == "emptyDir":
        out.add(4, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)", 13)
        out.add(4, "Medium", detail.get("medium", ""), 13)
        out.add(4, "SizeLimit", detail.get("sizeLimit", "<unset>"), 13)
        return
    out.add(4, "Type", kind[:1].upper() + kind[1:], 13)
    for k, v in sorted(detail.items()):
        out.add(4, k[:1].upper() + k[1:], v, 13)


def _events(out: _Out, events: Sequence[Obj], now: float) -> None:
    if not events:
        out.add(0, "Events", "<none>", 18)
        return

    def when(e: Obj) -> str:
        return str(e.get("lastTimestamp") or e.get("eventTime") or "")

    shown = sorted(events, key=when)[-MAX_EVENTS:]
    rows = [("Type", "Reason", "Age", "From", "Message"), ("----", "------", "----", "----", "-------")]
    for e in shown:
        last = timestamp(when(e))
        first = timestamp(e.get("firstTimestamp")) or last
        age = human_age(now - last) if last else "<unknown>"
        count = int(e.get("count") or 1)
        if count > 1 and first is not None:
            age = f"{age} (x{count} over {human_age(now - first)})"
        source = e.get("source") or {}
        origin = str(source.get("component") or e.get("reportingComponent") or "")
        rows.append((str(e.get("type", "")), str(e.get("reason", "")), age, origin, str(e.get("message", ""))))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out.add(0, "Events:")
    for r in rows:
        out.add(2, "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    if len(events) > MAX_EVENTS:
        out.add(2, f"({len(events) - MAX_EVENTS} older events not shown)")


def describe_pod(pod: Obj, events: Sequence[Obj], now: float) -> str:
    """``kubectl describe pod``: identity, containers with their states, probes and
    environment (secret references only), conditions, volumes, scheduling, events."""
    out = _Out()
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    w = 18
    out.add(0, "Name", meta.get("name", ""), w)
    out.add(0, "Namespace", meta.get("namespace", ""), w)
    if spec.get("priority") is not None:
        out.add(0, "Priority", spec["priority"], w)
    out.add(0, "Service Account", spec.get("serviceAccountName", "default"), w)
    node = spec.get("nodeName")
    out.add(0, "Node", f"{node}/{status.get('hostIP', '')}" if node else "<none>", w)
    out.add(0, "Start Time", _when(status.get("startTime")) if status.get("startTime") else "<unknown>", w)
    out.pairs(0, "Labels", _kv(meta.get("labels")), w)
    out.pairs(0, "Annotations", _kv(meta.get("annotations"), ": "), w)
    if meta.get("deletionTimestamp"):
        out.add(0, "Status", f"Terminating (lasts {spec.get('terminationGracePeriodSeconds', 30)}s)", w)
    else:
        out.add(0, "Status", status.get("phase", "Unknown"), w)
    if status.get("reason"):
        out.add(0, "Reason", status["reason"], w)
    if status.get("message"):
        out.add(0, "Message", status["message"], w)
    out.add(0, "IP", status.get("podIP", ""), w)
    out.heading(0, "IPs", bool(status.get("podIPs")), w)
    for ip in status.get("podIPs") or []:
        out.add(2, "IP", ip.get("ip", ""), 14)
    owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
    if owners:
        out.add(0, "Controlled By", f"{owners[0].get('kind', '')}/{owners[0].get('name', '')}", 16)
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or [] if isinstance(s, Mapping)}
    init_statuses = {s.get("name"): s for s in status.get("initContainerStatuses") or [] if isinstance(s, Mapping)}
    if spec.get("initContainers"):
        out.add(0, "Init Containers:")
        for c in spec["initContainers"]:
            _container(out, c, init_statuses.get(c.get("name"), {}))
    out.add(0, "Containers:")
    for c in spec.get("containers") or []:
        _container(out, c, statuses.get(c.get("name"), {}))
    conditions = status.get("conditions") or []
    if conditions:
        out.add(0, "Conditions:")
        width = max(len(str(c.get("type", ""))) for c in conditions) + 3
        out.add(2, f"{'Type':<{width}}Status")
        for c in conditions:
            out.add(2, f"{c.get('type', '')!s:<{width}}{c.get('status', '')} ")
    volumes = spec.get("volumes") or []
    out.heading(0, "Volumes", bool(volumes), w)
    for v in volumes:
        _volume(out, v)
    out.add(0, "QoS Class", status.get("qosClass", ""), w)
    out.pairs(0, "Node-Selectors", _kv(spec.get("nodeSelector")), w)
    tolerations = []
    for t in spec.get("tolerations") or []:
        text = str(t.get("key", ""))
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists":
            text += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        tolerations.append(text)
    out.pairs(0, "Tolerations", tolerations, w)
    _events(out, events, now)
    return "\n".join(out.lines) + "\n"
