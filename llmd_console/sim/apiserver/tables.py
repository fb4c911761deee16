"""``meta.k8s.io/v1`` Table responses, with the columns ``kubectl get`` users know."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmd_console.sim.apiserver import jsonpath
from llmd_console.sim.apiserver.printing import (
    AGE,
    NAME,
    Column,
    RowFn,
    age,
    containers,
    human_duration,
    parse_time,
    selector,
)
from llmd_console.sim.apiserver.tables_groups import GROUP_TABLES
from llmd_console.sim.storage.objects import Obj, condition
from llmd_console.sim.storage.registry import ResourceType


def pod_status_reason(pod: Obj) -> str:
    """The STATUS column of ``kubectl get pods`` (kubectl's printPod logic)."""
    status = pod.get("status", {})
    reason = status.get("reason") or status.get("phase") or "Unknown"
    init_statuses = status.get("initContainerStatuses") or []
    initializing = False
    for i, cs in enumerate(init_statuses):
        state = cs.get("state", {})
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}")
        elif state.get("waiting", {}).get("reason") not in (None, "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{i}/{len(pod.get('spec', {}).get('initContainers') or [])}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state", {})
            if state.get("waiting", {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated"):
                term = state["terminated"]
                reason = term.get("reason") or (
                    f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
                )
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            ready = condition(pod, "Ready")
            reason = "Running" if ready and ready.get("status") == "True" else "NotReady"
    if pod.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_row(pod: Obj, now: float) -> list[Any]:
    status = pod.get("status", {})
    statuses = status.get("containerStatuses") or []
    total = len(pod.get("spec", {}).get("containers") or [])
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    restart_text = str(restarts)
    last_finish = max(
        (parse_time(cs.get("lastState", {}).get("terminated", {}).get("finishedAt")) or 0 for cs in statuses),
        default=0,
    )
    if restarts and last_finish:
        restart_text = f"{restarts} ({human_duration(now - last_finish)} ago)"
    nominated = status.get("nominatedNodeName") or "<none>"
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        pod_status_reason(pod),
        restart_text,
        age(pod, now),
        status.get("podIP") or "<none>",
        pod.get("spec", {}).get("nodeName") or "<none>",
        nominated,
        "<none>",
    ]


def _node_row(node: Obj, now: float) -> list[Any]:
    ready = condition(node, "Ready")
    state = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    if node.get("spec", {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = node.get("metadata", {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    info = node.get("status", {}).get("nodeInfo", {})
    addrs = {a.get("type"): a.get("address") for a in node.get("status", {}).get("addresses") or []}
    return [
        node["metadata"]["name"],
        state,
        ",".join(roles) or "<none>",
        age(node, now),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _deployment_row(dep: Obj, now: float) -> list[Any]:
    st = dep.get("status", {})
    names, images = containers(dep)
    return [
        dep["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{dep.get('spec', {}).get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        age(dep, now),
        names,
        images,
        selector(dep),
    ]


def _replicaset_row(rs: Obj, now: float) -> list[Any]:
    st = rs.get("status", {})
    names, images = containers(rs)
    return [
        rs["metadata"]["name"],
        rs.get("spec", {}).get("replicas", 0),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        age(rs, now),
        names,
        images,
        selector(rs),
    ]


def _service_row(svc: Obj, now: float) -> list[Any]:
    spec = svc.get("spec", {})
    ports = ",".join(
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )
    ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or (
        "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    )
    sel = spec.get("selector") or {}
    return [
        svc["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", "<none>"),
        external,
        ports or "<none>",
        age(svc, now),
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>",
    ]


def _endpoints_row(ep: Obj, now: float) -> list[Any]:
    addrs = []
    for subset in ep.get("subsets") or []:
        for a in subset.get("addresses") or []:
            for p in subset.get("ports") or []:
                addrs.append(f"{a.get('ip')}:{p.get('port')}")
    text = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
    return [ep["metadata"]["name"], text or "<none>", age(ep, now)]


def _event_row(ev: Obj, now: float) -> list[Any]:
    last = parse_time(ev.get("lastTimestamp") or ev.get("eventTime"))
    first = parse_time(ev.get("firstTimestamp") or ev.get("eventTime"))
    inv = ev.get("involvedObject", {})
    src = ev.get("source", {})
    return [
        human_duration(now - last) if last else "<unknown>",
        ev.get("type", ""),
        ev.get("reason", ""),
        f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
        ev.get("message", ""),
        inv.get("fieldPath", ""),
        ", ".join(x for x in (src.get("component"), src.get("host")) if x),
        human_duration(now - first) if first else "<unknown>",
        ev.get("count", 1),
        ev["metadata"]["name"],
    ]


def _namespace_row(ns: Obj, now: float) -> list[Any]:
    return [ns["metadata"]["name"], ns.get("status", {}).get("phase", "Active"), age(ns, now)]


def _secret_row(s: Obj, now: float) -> list[Any]:
    return [s["metadata"]["name"], s.get("type", "Opaque"), len(s.get("data") or {}), age(s, now)]


def _configmap_row(cm: Obj, now: float) -> list[Any]:
    return [cm["metadata"]["name"], len(cm.get("data") or {}) + len(cm.get("binaryData") or {}), age(cm, now)]


def _sa_row(sa: Obj, now: float) -> list[Any]:
    return [sa["metadata"]["name"], len(sa.get("secrets") or []), age(sa, now)]


def _crd_row(crd: Obj, now: float) -> list[Any]:
    return [crd["metadata"]["name"], crd["metadata"].get("creationTimestamp", "")]


BUILTIN_TABLES: dict[str, tuple[list[Column], RowFn]] = {
    "pods": (
        [
            NAME,
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            AGE,
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        _pod_row,
    ),
    "nodes": (
        [
            NAME,
            ("Status", "string", 0),
            ("Roles", "string", 0),
            AGE,
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        _node_row,
    ),
    "deployments.apps": (
        [
            NAME,
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _deployment_row,
    ),
    "replicasets.apps": (
        [
            NAME,
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _replicaset_row,
    ),
    "services": (
        [
            NAME,
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            AGE,
            ("Selector", "string", 1),
        ],
        _service_row,
    ),
    "endpoints": ([NAME, ("Endpoints", "string", 0), AGE], _endpoints_row),
    "events": (
        [
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ],
        _event_row,
    ),
    "namespaces": ([NAME, ("Status", "string", 0), AGE], _namespace_row),
    "secrets": ([NAME, ("Type", "string", 0), ("Data", "string", 0), AGE], _secret_row),
    "configmaps": ([NAME, ("Data", "string", 0), AGE], _configmap_row),
    "serviceaccounts": ([NAME, ("Secrets", "string", 0), AGE], _sa_row),
    "customresourcedefinitions.apiextensions.k8s.io": ([NAME, ("Created At", "date", 0)], _crd_row),
    **GROUP_TABLES,
}


def columns_and_rows(rtype: ResourceType) -> tuple[list[Column], RowFn]:
    """Column definitions and the row function for a type (CRDs use printer columns)."""
    if rtype.key in BUILTIN_TABLES:
        return BUILTIN_TABLES[rtype.key]
    printer = list(rtype.printer_columns)
    if not printer:
        printer = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    cols: list[Column] = [NAME] + [
        (str(c.get("name")), str(c.get("type", "string")), int(c.get("priority", 0))) for c in printer
    ]

    def row(obj: Obj, now: float) -> list[Any]:
        cells: list[Any] = [obj["metadata"]["name"]]
        for col in printer:
            path = str(col.get("jsonPath", ""))
            if col.get("type") == "date" or path == ".metadata.creationTimestamp":
                stamp = parse_time(jsonpath.render(obj, path))
                cells.append(human_duration(now - stamp) if stamp else "<unknown>")
            else:
                try:
                    cells.append(jsonpath.render(obj, path))
                except ValueError:
                    cells.append("<error>")
        return cells

    return cols, row


def partial_metadata(obj: Obj) -> Obj:
    """A PartialObjectMetadata for a table row."""
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def make_table(
    rtype: ResourceType,
    objs: list[Obj],
    now: float,
    include: str = "Metadata",
    resource_version: str = "",
    continue_token: str = "",
    with_columns: bool = True,
    view: Callable[[Obj], Obj] | None = None,
) -> Obj:
    """Render stored objects as a Table; ``view`` turns a stored object into the client's
    version of it for the rows' ``object``."""
    cols, row_fn = columns_and_rows(rtype)
    rows = []
    for obj in objs:
        row: Obj = {"cells": row_fn(obj, now)[: len(cols)]}
        if include == "Object":
            row["object"] = view(obj) if view else obj
        elif include != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    table: Obj = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {"name": n, "type": t, "format": "name" if n == "Name" else "", "description": "", "priority": p}
            for n, t, p in cols
        ]
        if with_columns
        else [],
        "rows": rows,
    }
    if continue_token:
        table["metadata"]["continue"] = continue_token
    return table
