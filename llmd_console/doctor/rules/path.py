"""The request path Gateway -> HTTPRoute -> InferencePool -> EPP -> model pods.

The hops' problems are computed once, by ``views.gateway`` (the gateway pane shows the same
hops): these rules turn each unhealthy hop into a finding, and add what the hops do not
check: a backendRef to the wrong API group, a selector that misses the pods by a label's
spelling, a target port the pods do not serve, and an EPP Service without the picker's port.
"""

from __future__ import annotations

import json
import re

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Level, Quote
from llmd_console.doctor.rules.common import (
    OLD_POOL_GROUP,
    POOL_GROUP,
    Rule,
    pool_picker,
    pool_ports,
    pool_selector,
    selects,
    split,
    text,
)
from llmd_console.models import Hop, Obj, RequestPath, Snapshot
from llmd_console.views.common import meta
from llmd_console.views.gateway import POOL_CRD_FIX, SYMPTOMS

_HOP_KINDS = {"Gateway": "Gateway", "HTTPRoute": "HTTPRoute", "InferencePool": "InferencePool", "EPP": "Deployment"}


def _filled(command: str, evidence: Evidence) -> str:
    """The gateway view's fix with the configured GKE names in place of its placeholders."""
    gke = evidence.config.gke
    zone = gke.location
    # A zone (europe-west4-a) lies in a region (europe-west4); a region stays as it is.
    region = zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone
    command = command.replace("--region=$REGION", f"--region={region} --project={gke.project}")
    for name, value in (("$CLUSTER_NAME", gke.cluster), ("$ZONE", zone), ("$PROJECT_ID", gke.project)):
        command = command.replace(name, value)
    return command


def _hop_finding(path: RequestPath, hop: Hop, evidence: Evidence) -> Finding:
    namespace = split(path.title)[0] if path.title else ""
    kind, name = _HOP_KINDS.get(hop.kind), hop.name
    if kind is None:  # the model pods: the pool that selects them is the object to show
        pool = next((h for h in path.hops if h.kind == "InferencePool"), None)
        kind, name = "InferencePool", pool.name if pool else hop.name
    quotes = [Quote(kind, namespace, name, hop.problem)]
    quotes += [Quote(kind, namespace, name, fact) for fact in hop.facts[:4]]
    fix = tuple(_filled(part.strip(), evidence) for part in hop.fix.split("; ") if part.strip())
    severity: Level = "error" if hop.light == "error" else "warning"
    named = f"{hop.kind} {hop.name}"
    return Finding(
        hop.code or f"{hop.kind.lower().replace(' ', '-')}-problem",
        severity,
        hop.problem if hop.problem.startswith(named) else f"{named}: {hop.problem}",
        tuple(quotes),
        fix,
        area="request path",
        symptom=hop.code in SYMPTOMS,
    )


def hops(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """Every unhealthy hop of every stack in view."""
    out: list[Finding] = []
    for path in snapshot.paths:
        problems = [h for h in path.problems if h.problem]
        for hop in problems:
            out.append(_hop_finding(path, hop, evidence))
    return out


def _pools(evidence: Evidence) -> list[tuple[str, Obj]]:
    return sorted(evidence.raw("inferencepools").items())


def backend_group(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """An HTTPRoute backendRef to an InferencePool of the wrong (or no) API group."""
    del snapshot
    served = POOL_GROUP
    out = []
    for key, route in sorted(evidence.raw("httproutes").items()):
        namespace, name = split(key)
        for rule in (route.get("spec") or {}).get("rules") or []:
            for ref in (rule or {}).get("backendRefs") or []:
                if not isinstance(ref, dict) or ref.get("kind") != "InferencePool":
                    continue
                group = str(ref.get("group") or "")
                if group == served:
                    continue
                said = f"backendRef InferencePool/{text(ref.get('name'), 100)} group {group or '(none: core)'}"
                why = (
                    "the older API group; the pool is served as inference.networking.k8s.io/v1"
                    if group == OLD_POOL_GROUP
                    else "an InferencePool backendRef needs group inference.networking.k8s.io"
                )
                out.append(
                    Finding(
                        "httproute-backend-group",
                        "error",
                        f"HTTPRoute {name}: the InferencePool backendRef has group {group or '(none)'}: {why}",
                        (Quote("HTTPRoute", namespace, name, said),),
                        (f"kubectl edit httproute {name} -n {namespace}  # set backendRefs[].group: {served}",),
                        area="request path",
                    )
                )
    return out


def _squash(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


def selector_near_miss(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """A pool whose selector matches no pod while pods carry the same label spelled otherwise
    (``llm-d.ai/inferenceServing`` against ``llm-d.ai/inference-serving``)."""
    del snapshot
    pods = [p for p in evidence.raw("pods").values() if not meta(p).get("deletionTimestamp")]
    out = []
    for key, pool in _pools(evidence):
        namespace, name = split(key)
        labels = pool_selector(pool)
        local = [p for p in pods if meta(p).get("namespace") == namespace]
        if not labels or any(selects(labels, p) for p in local):
            continue
        for want_key, want_value in labels.items():
            for pod in local:
                have = meta(pod).get("labels") or {}
                if have.get(want_key) == want_value:
                    continue
                near = next((k for k in have if k != want_key and _squash(k) == _squash(want_key)), None)
                if near is None or have[near] != want_value:
                    continue
                labels_patch = json.dumps({"spec": {"selector": {"matchLabels": {want_key: None, near: want_value}}}})
                out.append(
                    Finding(
                        "inferencepool-selector-mismatch",
                        "error",
                        f"InferencePool {name} selects {want_key}={want_value}, but the pods carry "
                        f"{text(near, 100)}={want_value}: it selects no pod",
                        (
                            Quote("InferencePool", namespace, name, f"selector {want_key}={want_value}"),
                            Quote(
                                "Pod",
                                namespace,
                                text(meta(pod).get("name"), 253),
                                f"label {text(near, 100)}={want_value}",
                            ),
                        ),
                        (f"kubectl patch inferencepool {name} -n {namespace} --type=merge -p '{labels_patch}'",),
                        area="request path",
                    )
                )
                break
            else:
                continue
            break
    return out


def _container_ports(pod: Obj) -> set[int]:
    ports: set[int] = set()
    for c in (pod.get("spec") or {}).get("containers") or []:
        for port in (c or {}).get("ports") or []:
            if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
                ports.add(port["containerPort"])
    return ports


def target_port(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """The pool's target port is not a port its pods declare."""
    del snapshot
    out = []
    for key, pool in _pools(evidence):
        namespace, name = split(key)
        labels = pool_selector(pool)
        selected = [
            p for p in evidence.raw("pods").values() if meta(p).get("namespace") == namespace and selects(labels, p)
        ]
        declared = set().union(*(_container_ports(p) for p in selected)) if selected else set()
        missing = [port for port in pool_ports(pool) if declared and port not in declared]
        if missing:
            out.append(
                Finding(
                    "inferencepool-port-not-served",
                    "error",
                    f"InferencePool {name} sends to port {missing[0]}, which its pods do not serve "
                    f"(they declare {', '.join(map(str, sorted(declared)))})",
                    (Quote("InferencePool", namespace, name, f"targetPorts {missing[0]}"),),
                    (
                        f"kubectl patch inferencepool {name} -n {namespace} --type=merge "
                        f'-p \'{{"spec":{{"targetPorts":[{{"number":{min(declared)}}}]}}}}\'',
                    ),
                    area="request path",
                )
            )
    return out


def epp_service_port(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """The pool's endpoint picker port is not among its Service's ports."""
    del snapshot
    out = []
    services = evidence.raw("services")
    for key, pool in _pools(evidence):
        namespace, name = split(key)
        epp, port, mode = pool_picker(pool)
        svc = services.get(f"{namespace}/{epp}")
        if svc is None or port is None:
            continue
        ports = [p.get("port") for p in (svc.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
        if port not in ports:
            out.append(
                Finding(
                    "epp-service-port",
                    "error",
                    f"InferencePool {name} calls its EPP on port {port}, which Service {epp} does not expose "
                    f"({mode}: requests {'fail' if mode == 'FailClose' else 'skip scheduling'})",
                    (
                        Quote("InferencePool", namespace, name, f"endpointPickerRef {epp}:{port}"),
                        Quote("Service", namespace, epp, f"ports {', '.join(map(str, ports)) or '(none)'}"),
                    ),
                    (f"kubectl get svc {epp} -n {namespace} -o yaml  # expose grpc {port} (ext-proc)",),
                    area="request path",
                )
            )
    return out


def old_api_group(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """InferencePools exist only in the older ``inference.networking.x-k8s.io`` group, which this
    llm-d (and the console) no longer reads: the CRDs need the newer group and the pools moving."""
    state = snapshot.kinds.get("inferencepools")
    if not evidence.old_pools or state is None or state.status != "missing":
        return []
    keys = sorted(evidence.old_pools)
    return [
        Finding(
            "inferencepool-old-api-group",
            "error",
            f"{len(keys)} InferencePool(s) exist only as {OLD_POOL_GROUP} (the older API); "
            f"{POOL_GROUP}/v1 is not installed, so nothing routes to them",
            tuple(Quote("InferencePool", *split(key), f"apiVersion {OLD_POOL_GROUP}") for key in keys[:5]),
            (
                POOL_CRD_FIX,
                f"kubectl get inferencepools.{OLD_POOL_GROUP} -A -o yaml  # re-create each as {POOL_GROUP}/v1: "
                "selector.matchLabels, targetPorts[].number, endpointPickerRef",
            ),
            area="request path",
        )
    ]


RULES: tuple[Rule, ...] = (hops, backend_group, selector_near_miss, target_port, epp_service_port, old_api_group)
