"""Server-side printer columns of the kinds outside the core workload set: batch, the other
apps workloads, autoscaling, policy, networking, RBAC, storage, coordination, apiregistration
and the rarer core kinds, with the columns a 1.32 API server prints for them."""

from __future__ import annotations

from typing import Any

from llmd_console.sim.apiserver.printing import AGE, NAME, Column, RowFn, age, containers, human_duration, parse_time
from llmd_console.sim.apiserver.printing import selector as selector_cell
from llmd_console.sim.storage.objects import Obj, condition

WORKLOAD_WIDE: list[Column] = [("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]


def _name(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _status(obj: Obj) -> Obj:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _true(obj: Obj, kind: str) -> bool:
    cond = condition(obj, kind)
    return bool(cond and cond.get("status") == "True")


def _wide(obj: Obj) -> list[Any]:
    names, images = containers(obj)
    return [names, images, selector_cell(obj)]


def _job_status(job: Obj) -> str:
    for kind, text in (
        ("Failed", "Failed"),
        ("Complete", "Complete"),
        ("Suspended", "Suspended"),
        ("FailureTarget", "FailureTarget"),
        ("SuccessCriteriaMet", "SuccessCriteriaMet"),
    ):
        if _true(job, kind):
            return text
    return "Terminating" if job["metadata"].get("deletionTimestamp") else "Running"


def _job_row(job: Obj, now: float) -> list[Any]:
    spec, status = _spec(job), _status(job)
    completions = spec.get("completions")
    succeeded = status.get("succeeded", 0)
    shown = (
        f"{succeeded}/{completions}" if completions is not None else f"{succeeded}/1 of {spec.get('parallelism', 1)}"
    )
    start = parse_time(status.get("startTime"))
    end = parse_time(status.get("completionTime")) or now
    duration = human_duration(end - start) if start is not None else ""
    return [_name(job), _job_status(job), shown, duration, age(job, now), *_wide(job)]


def _cronjob_row(cron: Obj, now: float) -> list[Any]:
    spec, status = _spec(cron), _status(cron)
    template = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = containers({"spec": template})
    last = parse_time(status.get("lastScheduleTime"))
    return [
        _name(cron),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "True" if spec.get("suspend") else "False",
        len(status.get("active") or []),
        human_duration(now - last) if last is not None else "<none>",
        age(cron, now),
        names,
        images,
        selector_cell({"spec": template}),
    ]


def _daemonset_row(ds: Obj, now: float) -> list[Any]:
    st = _status(ds)
    node_selector = ((_spec(ds).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [
        _name(ds),
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or "<none>",
        age(ds, now),
        *_wide(ds),
    ]


def _statefulset_row(sts: Obj, now: float) -> list[Any]:
    names, images = containers(sts)
    ready = f"{_status(sts).get('readyReplicas', 0)}/{_spec(sts).get('replicas', 1)}"
    return [_name(sts), ready, age(sts, now), names, images]


def _rc_row(rc: Obj, now: float) -> list[Any]:
    st = _status(rc)
    spec = _spec(rc)
    sel = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    names, images = containers(rc)
    return [
        _name(rc),
        spec.get("replicas", 1),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        age(rc, now),
        names,
        images,
        sel,
    ]


def _hpa_targets(hpa: Obj) -> str:
    current = {
        (m.get("resource") or {}).get("name"): (m.get("resource") or {}).get("current") or {}
        for m in _status(hpa).get("currentMetrics") or []
    }
    shown = []
    for metric in _spec(hpa).get("metrics") or []:
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        if metric.get("type") != "Resource" or "averageUtilization" not in target:
            shown.append("<unknown>/<unknown>")
            continue
        now = (current.get(resource.get("name")) or {}).get("averageUtilization")
        shown.append(
            f"{resource.get('name')}: {'<unknown>' if now is None else f'{now}%'}/{target['averageUtilization']}%"
        )
    return ", ".join(shown) or "<none>"


def _hpa_row(hpa: Obj, now: float) -> list[Any]:
    spec = _spec(hpa)
    ref = spec.get("scaleTargetRef") or {}
    return [
        _name(hpa),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _hpa_targets(hpa),
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        _status(hpa).get("currentReplicas", 0),
        age(hpa, now),
    ]


def _pdb_row(pdb: Obj, now: float) -> list[Any]:
    spec = _spec(pdb)
    return [
        _name(pdb),
        str(spec.get("minAvailable", "N/A")),
        str(spec.get("maxUnavailable", "N/A")),
        _status(pdb).get("disruptionsAllowed", 0),
        age(pdb, now),
    ]


def _ingress_row(ing: Obj, now: float) -> list[Any]:
    spec = _spec(ing)
    hosts = ",".join(r.get("host", "") for r in spec.get("rules") or [] if r.get("host")) or "*"
    lbs = (_status(ing).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname", "") for i in lbs)
    ports = "80, 443" if spec.get("tls") else "80"
    return [_name(ing), spec.get("ingressClassName") or "<none>", hosts, address, ports, age(ing, now)]


def _ingressclass_row(ic: Obj, now: float) -> list[Any]:
    params = _spec(ic).get("parameters") or {}
    shown = f"{params.get('kind', '')}/{params.get('name', '')}" if params else "<none>"
    return [_name(ic), _spec(ic).get("controller", ""), shown, age(ic, now)]


def _netpol_row(np: Obj, now: float) -> list[Any]:
    sel = (_spec(np).get("podSelector") or {}).get("matchLabels") or {}
    return [_name(np), ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>", age(np, now)]


def _lease_row(lease: Obj, now: float) -> list[Any]:
    return [_name(lease), _spec(lease).get("holderIdentity", ""), age(lease, now)]


def _storageclass_row(sc: Obj, now: float) -> list[Any]:
    default = (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    return [
        _name(sc) + (" (default)" if default else ""),
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy", "Delete"),
        sc.get("volumeBindingMode", "Immediate"),
        str(bool(sc.get("allowVolumeExpansion"))).lower(),
        age(sc, now),
    ]


def _created_at_row(obj: Obj, now: float) -> list[Any]:
    return [_name(obj), obj["metadata"].get("creationTimestamp", "")]


def _binding_row(binding: Obj, now: float) -> list[Any]:
    ref = binding.get("roleRef") or {}
    subjects = binding.get("subjects") or []

    def names(kind: str) -> str:
        return ", ".join(
            (f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount" else s.get("name", ""))
            for s in subjects
            if s.get("kind") == kind
        )

    return [
        _name(binding),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        age(binding, now),
        names("User"),
        names("Group"),
        names("ServiceAccount"),
    ]


def _apiservice_row(svc: Obj, now: float) -> list[Any]:
    ref = _spec(svc).get("service")
    where = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if isinstance(ref, dict) else "Local"
    available = condition(svc, "Available")
    shown = "Unknown"
    if available:
        shown = str(available.get("status"))
        if shown != "True" and available.get("reason"):
            shown += f" ({available['reason']})"
    return [_name(svc), where, shown, age(svc, now)]


def _pvc_row(pvc: Obj, now: float) -> list[Any]:
    spec, st = _spec(pvc), _status(pvc)
    return [
        _name(pvc),
        st.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (st.get("capacity") or {}).get("storage", ""),
        ",".join(
            {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}.get(m, m)
            for m in st.get("accessModes") or []
        ),
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        age(pvc, now),
    ]


def _priorityclass_row(pc: Obj, now: float) -> list[Any]:
    return [
        _name(pc),
        pc.get("value", 0),
        str(bool(pc.get("globalDefault"))).lower(),
        age(pc, now),
        pc.get("preemptionPolicy", ""),
    ]


def _controllerrevision_row(cr: Obj, now: float) -> list[Any]:
    owner = next((o for o in cr["metadata"].get("ownerReferences") or [] if o.get("controller")), None)
    shown = (
        f"{owner.get('kind', '').lower()}.{owner.get('apiVersion', '').split('/')[0]}/{owner.get('name', '')}"
        if owner
        else "<none>"
    )
    return [_name(cr), shown, cr.get("revision", 0), age(cr, now)]


_BINDING_COLUMNS: list[Column] = [
    NAME,
    ("Role", "string", 0),
    AGE,
    ("Users", "string", 1),
    ("Groups", "string", 1),
    ("ServiceAccounts", "string", 1),
]
_CREATED_AT: list[Column] = [NAME, ("Created At", "date", 0)]
GROUP_TABLES: dict[str, tuple[list[Column], RowFn]] = {
    "jobs.batch": (
        [NAME, ("Status", "string", 0), ("Completions", "string", 0), ("Duration", "string", 0), AGE, *WORKLOAD_WIDE],
        _job_row,
    ),
    "cronjobs.batch": (
        [
            NAME,
            ("Schedule", "string", 0),
            ("Timezone", "string", 0),
            ("Suspend", "boolean", 0),
            ("Active", "integer", 0),
            ("Last Schedule", "date", 0),
            AGE,
            *WORKLOAD_WIDE,
        ],
        _cronjob_row,
    ),
    "daemonsets.apps": (
        [
            NAME,
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            AGE,
            *WORKLOAD_WIDE,
        ],
        _daemonset_row,
    ),
    "statefulsets.apps": (
        [NAME, ("Ready", "string", 0), AGE, ("Containers", "string", 1), ("Images", "string", 1)],
        _statefulset_row,
    ),
    "replicationcontrollers": (
        [NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0), AGE, *WORKLOAD_WIDE],
        _rc_row,
    ),
    "horizontalpodautoscalers.autoscaling": (
        [
            NAME,
            ("Reference", "string", 0),
            ("Targets", "string", 0),
            ("MinPods", "string", 0),
            ("MaxPods", "integer", 0),
            ("Replicas", "integer", 0),
            AGE,
        ],
        _hpa_row,
    ),
    "poddisruptionbudgets.policy": (
        [
            NAME,
            ("Min Available", "string", 0),
            ("Max Unavailable", "string", 0),
            ("Allowed Disruptions", "integer", 0),
            AGE,
        ],
        _pdb_row,
    ),
    "ingresses.networking.k8s.io": (
        [NAME, ("Class", "string", 0), ("Hosts", "string", 0), ("Address", "string", 0), ("Ports", "string", 0), AGE],
        _ingress_row,
    ),
    "ingressclasses.networking.k8s.io": (
        [NAME, ("Controller", "string", 0), ("Parameters", "string", 0), AGE],
        _ingressclass_row,
    ),
    "networkpolicies.networking.k8s.io": ([NAME, ("Pod-Selector", "string", 0), AGE], _netpol_row),
    "leases.coordination.k8s.io": ([NAME, ("Holder", "string", 0), AGE], _lease_row),
    "storageclasses.storage.k8s.io": (
        [
            NAME,
            ("Provisioner", "string", 0),
            ("ReclaimPolicy", "string", 0),
            ("VolumeBindingMode", "string", 0),
            ("AllowVolumeExpansion", "string", 0),
            AGE,
        ],
        _storageclass_row,
    ),
    "roles.rbac.authorization.k8s.io": (_CREATED_AT, _created_at_row),
    "clusterroles.rbac.authorization.k8s.io": (_CREATED_AT, _created_at_row),
    "limitranges": (_CREATED_AT, _created_at_row),
    "rolebindings.rbac.authorization.k8s.io": (_BINDING_COLUMNS, _binding_row),
    "clusterrolebindings.rbac.authorization.k8s.io": (_BINDING_COLUMNS, _binding_row),
    "apiservices.apiregistration.k8s.io": (
        [NAME, ("Service", "string", 0), ("Available", "string", 0), AGE],
        _apiservice_row,
    ),
    "persistentvolumeclaims": (
        [
            NAME,
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            AGE,
        ],
        _pvc_row,
    ),
    "priorityclasses.scheduling.k8s.io": (
        [NAME, ("Value", "integer", 0), ("Global-Default", "boolean", 0), AGE, ("PreemptionPolicy", "string", 0)],
        _priorityclass_row,
    ),
    "controllerrevisions.apps": (
        [NAME, ("Controller", "string", 0), ("Revision", "integer", 0), AGE],
        _controllerrevision_row,
    ),
}
