"""Defaulting and validation, as the API server applies them on create and update."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any

from llmd_console.sim.apiserver import conversion, jobs
from llmd_console.sim.apiserver.errors import ApiError, invalid
from llmd_console.sim.storage import validation
from llmd_console.sim.storage.objects import Obj, meta
from llmd_console.sim.storage.quantity import parse_quantity
from llmd_console.sim.storage.registry import ResourceType
from llmd_console.sim.storage.selectors import labels_match, selector_from_label_selector

MAX_DATA_BYTES = 1024 * 1024  # MaxSecretSize, also the ConfigMap limit


class IpAllocator:
    """Hands out cluster IPs for Services from 34.118.224.0/20, as GKE does."""

    def __init__(self, cidr: str = "34.118.224.0/20") -> None:
        self._net = ipaddress.ip_network(cidr)
        self._next = 10
        self._used: set[str] = set()

    def allocate(self) -> str:
        """The next free address (after the last one handed out, wrapping round)."""
        size = self._net.num_addresses
        for _ in range(size):
            if self._next >= size - 1:  # the broadcast address is never handed out
                self._next = 10
            ip = str(self._net.network_address + self._next)
            self._next += 1
            if ip not in self._used:
                self._used.add(ip)
                return ip
        raise ApiError(500, "Internal error occurred: failed to allocate a serviceIP: range is full")

    def in_use(self, ip: str) -> bool:
        """Whether an address is handed out."""
        return ip in self._used

    def release(self, ip: str) -> None:
        """Give an address back (a dry-run create only borrowed it)."""
        self._used.discard(ip)


def _check_name(rtype: ResourceType, obj: Obj) -> None:
    name = meta(obj).get("name", "")
    if not name:
        raise invalid(
            rtype.kind, "", [("metadata.name", "Required value: name or generateName is required")], rtype.group
        )
    if rtype.plural == "namespaces":
        problem = validation.dns1123_label(name)
    elif rtype.plural == "services" and not rtype.group:
        problem = validation.dns1035_label(name)
    else:
        problem = validation.dns1123_subdomain(name)
    if problem:
        raise invalid(rtype.kind, name, [("metadata.name", problem)], rtype.group)


def _check_metadata(rtype: ResourceType, obj: Obj) -> None:
    """Label keys and values, annotation keys and total size (ValidateObjectMeta)."""
    m = meta(obj)
    causes = validation.label_map("metadata.labels", m.get("labels"))
    causes += validation.annotation_map("metadata.annotations", m.get("annotations"))
    if causes:
        raise invalid(rtype.kind, m.get("name", ""), causes, rtype.group)


def _check_data_size(rtype: ResourceType, obj: Obj) -> None:
    """ConfigMaps and Secrets hold at most 1 MiB of data (ValidateConfigMap, ValidateSecret)."""
    total = 0
    for section in ("data", "binaryData", "stringData"):
        for key, value in (obj.get(section) or {}).items():
            total += len(str(key).encode()) + len(str(value).encode())
    if total > MAX_DATA_BYTES:
        raise invalid(
            rtype.kind, meta(obj).get("name", ""), [("[]", f"Too long: must have at most {MAX_DATA_BYTES} bytes")]
        )


def _check_resources(kind: str, name: str, containers: list[Any], prefix: str) -> None:
    for i, c in enumerate(containers):
        if not isinstance(c, dict) or not c.get("name"):
            raise invalid(kind, name, [(f"{prefix}[{i}].name", "Required value")])
        if not c.get("image"):
            raise invalid(kind, name, [(f"{prefix}[{i}].image", "Required value")])
        res = c.get("resources") or {}
        for section in ("requests", "limits"):
            for rname, qty in (res.get(section) or {}).items():
                try:
                    parse_quantity(qty)
                except ValueError as exc:
                    raise invalid(kind, name, [(f"{prefix}[{i}].resources.{section}[{rname}]", str(exc))]) from exc
        for ext in ("google.com/tpu", "nvidia.com/gpu"):
            req, lim = (res.get("requests") or {}).get(ext), (res.get("limits") or {}).get(ext)
            if req is not None and lim is not None and parse_quantity(req) != parse_quantity(lim):
                raise invalid(
                    kind,
                    name,
                    [
                        (
                            f"{prefix}[{i}].resources.requests",
                            f'Invalid value: "{req}": must be equal to {ext} limit of {lim}',
                        )
                    ],
                )


def _default_pod_spec(spec: Obj) -> None:
    """SetDefaults_PodSpec and the container defaults: they apply to pods and pod templates alike."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    if not spec.get("serviceAccountName") and spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]  # the deprecated field, read on the way in
    if spec.get("serviceAccountName"):
        # The v1 conversion mirrors the name into the deprecated field, templates included.
        spec["serviceAccount"] = spec["serviceAccountName"]
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            image = str(c.get("image", ""))
            c.setdefault(
                "imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in image else "IfNotPresent"
            )
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def _default_pod_only(spec: Obj) -> None:
    """What only a Pod gets, never a template: SetDefaults_Pod (requests from limits,
    enableServiceLinks) and the ServiceAccount and DefaultTolerationSeconds admission plugins."""
    for c in spec.get("containers") or []:
        res = c.get("resources") if isinstance(c, dict) else None
        if isinstance(res, dict) and isinstance(res.get("limits"), dict):
            requests = res.setdefault("requests", {})
            for rname, qty in res["limits"].items():
                requests.setdefault(rname, qty)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tolerations if isinstance(t, dict)):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})


def admit(rtype: ResourceType, obj: Obj, *, creating: bool, ips: IpAllocator) -> None:
    """Default and validate ``obj`` in place; raises ApiError (422/400) when invalid."""
    if not isinstance(obj.get("metadata"), dict):
        raise ApiError(400, "Object 'metadata' is missing or not an object")
    _check_name(rtype, obj)
    name = meta(obj)["name"]
    for field in ("labels", "annotations"):
        value = meta(obj).get(field)
        if value is not None and (not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())):
            raise invalid(
                rtype.kind, name, [(f"metadata.{field}", "Invalid value: values must be strings")], rtype.group
            )
    _check_metadata(rtype, obj)
    if rtype.key in ("configmaps", "secrets"):
        _check_data_size(rtype, obj)
    handler = _ADMIT.get(rtype.key)
    if handler:
        handler(rtype, obj, creating, ips)


def _admit_pod(rtype: ResourceType, pod: Obj, creating: bool, ips: IpAllocator) -> None:
    name = meta(pod)["name"]
    spec = pod.get("spec")
    if not isinstance(spec, dict) or not spec.get("containers"):
        raise invalid("Pod", name, [("spec.containers", "Required value")])
    _check_resources("Pod", name, spec["containers"], "spec.containers")
    _default_pod_spec(spec)
    _default_pod_only(spec)
    if creating:
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _admit_workload(rtype: ResourceType, obj: Obj, creating: bool, ips: IpAllocator) -> None:
    name = meta(obj)["name"]
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise invalid(rtype.kind, name, [("spec", "Required value")], rtype.group)
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        raise invalid(rtype.kind, name, [("spec.selector", "Required value")], rtype.group)
    template = spec.get("template") or {}
    tlabels = (template.get("metadata") or {}).get("labels") or {}
    causes = validation.label_map("spec.selector.matchLabels", selector.get("matchLabels"))
    causes += validation.label_map("spec.template.metadata.labels", tlabels)
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        problem = validation.qualified_name(str(expr.get("key", "")))
        if problem:
            causes.append((f"spec.selector.matchExpressions[{i}].key", problem))
        if expr.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            causes.append(
                (
                    f"spec.selector.matchExpressions[{i}].operator",
                    f'Invalid value: "{expr.get("operator")}": not a valid selector operator',
                )
            )
    if causes:
        raise invalid(rtype.kind, name, causes, rtype.group)
    if not labels_match(selector_from_label_selector(selector), tlabels):
        raise invalid(
            rtype.kind,
            name,
            [
                (
                    "spec.template.metadata.labels",
                    f"Invalid value: {tlabels}: `selector` does not match template `labels`",
                )
            ],
            rtype.group,
        )
    pspec = template.get("spec")
    if not isinstance(pspec, dict) or not pspec.get("containers"):
        raise invalid(rtype.kind, name, [("spec.template.spec.containers", "Required value")], rtype.group)
    _check_resources(rtype.kind, name, pspec["containers"], "spec.template.spec.containers")
    _default_pod_spec(pspec)
    replicas = spec.setdefault("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0:
        raise invalid(
            rtype.kind,
            name,
            [("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")],
            rtype.group,
        )
    if rtype.plural == "deployments":
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        kind = strategy.setdefault("type", "RollingUpdate")
        if kind not in ("RollingUpdate", "Recreate"):
            raise invalid(
                rtype.kind,
                name,
                [("spec.strategy.type", f'Unsupported value: "{kind}": supported values: "Recreate", "RollingUpdate"')],
                rtype.group,
            )
        if kind == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
            for key in ("maxSurge", "maxUnavailable"):
                _check_int_or_percent(rtype, name, f"spec.strategy.rollingUpdate.{key}", rolling[key])
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    if creating:
        obj["status"] = {}


def _check_int_or_percent(rtype: ResourceType, name: str, field: str, value: object) -> None:
    if isinstance(value, int):
        ok, why = value >= 0, "must be greater than or equal to 0"
    else:
        text = str(value)
        ok = re.fullmatch(r"[0-9]{1,9}%", text, re.ASCII) is not None
        why = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')"
    if not ok:
        raise invalid(rtype.kind, name, [(field, f'Invalid value: "{value}": {why}')], rtype.group)


def _admit_service(rtype: ResourceType, svc: Obj, creating: bool, ips: IpAllocator) -> None:
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    for p in spec.get("ports") or []:
        if not isinstance(p, dict) or not isinstance(p.get("port"), int):
            raise invalid("Service", meta(svc)["name"], [("spec.ports[].port", "Required value")])
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
    if creating and spec.get("clusterIP") != "None":
        spec["clusterIP"] = spec.get("clusterIP") or ips.allocate()
        spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("sessionAffinity", "None")
    if creating:
        svc["status"] = {"loadBalancer": {}}


def _admit_secret(rtype: ResourceType, secret: Obj, creating: bool, ips: IpAllocator) -> None:
    if not secret.get("type"):
        secret["type"] = "Opaque"
    data = secret.get("data") or {}
    for key, value in data.items():
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid(
                "Secret", meta(secret)["name"], [(f"data[{key}]", "Invalid value: illegal base64 data")]
            ) from exc
    for key, value in (secret.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    if data:
        secret["data"] = data


def _admit_namespace(rtype: ResourceType, ns: Obj, creating: bool, ips: IpAllocator) -> None:
    meta(ns).setdefault("labels", {})["kubernetes.io/metadata.name"] = meta(ns)["name"]
    ns.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if creating:
        ns["status"] = {"phase": "Active"}


def _admit_crd(rtype: ResourceType, crd: Obj, creating: bool, ips: IpAllocator) -> None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = meta(crd)["name"]
    if not spec.get("group") or not names.get("plural") or not names.get("kind") or not spec.get("versions"):
        raise invalid(
            "CustomResourceDefinition",
            name,
            [("spec", "Required value: group, names and versions")],
            "apiextensions.k8s.io",
        )
    if name != f"{names['plural']}.{spec['group']}":
        raise invalid(
            "CustomResourceDefinition",
            name,
            [("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group')],
            "apiextensions.k8s.io",
        )
    if creating:
        crd["status"] = {
            "acceptedNames": names,
            "storedVersions": [v.get("name") for v in spec.get("versions") or [] if v.get("storage")],
            "conditions": [
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                }
            ],
        }


_GATEWAY_PENDING = [
    {
        "type": t,
        "status": "Unknown",
        "reason": "Pending",
        "message": "Waiting for controller",
        "lastTransitionTime": "1970-01-01T00:00:00Z",
    }
    for t in ("Accepted", "Programmed")
]


def _admit_gateway(rtype: ResourceType, gw: Obj, creating: bool, ips: IpAllocator) -> None:
    spec = gw.get("spec") or {}
    if not spec.get("gatewayClassName") or not isinstance(spec.get("listeners"), list) or not spec["listeners"]:
        raise invalid(
            "Gateway", meta(gw)["name"], [("spec", "Required value: gatewayClassName and listeners")], rtype.group
        )
    if creating:
        gw["status"] = {"conditions": [dict(c) for c in _GATEWAY_PENDING]}


def _admit_inferencepool(rtype: ResourceType, pool: Obj, creating: bool, ips: IpAllocator) -> None:
    spec = pool.get("spec") or {}
    name = meta(pool)["name"]
    if not (spec.get("selector") or {}).get("matchLabels"):
        raise invalid("InferencePool", name, [("spec.selector.matchLabels", "Required value")], rtype.group)
    ports = spec.get("targetPorts")
    if (
        not isinstance(ports, list)
        or not ports
        or not all(isinstance(p, dict) and isinstance(p.get("number"), int) for p in ports)
    ):
        raise invalid("InferencePool", name, [("spec.targetPorts", "Required value")], rtype.group)


def _admit_job(rtype: ResourceType, job: Obj, creating: bool, ips: IpAllocator) -> None:
    name = meta(job)["name"]
    pspec = ((job.get("spec") or {}).get("template") or {}).get("spec")
    if not isinstance(pspec, dict) or not pspec.get("containers"):
        raise invalid(rtype.kind, name, [("spec.template.spec.containers", "Required value")], rtype.group)
    jobs.check_restart_policy(rtype, name, pspec, "spec.template.spec")
    _check_resources(rtype.kind, name, pspec["containers"], "spec.template.spec.containers")
    _default_pod_spec(pspec)
    if creating:
        jobs.default_job(job)
        job["status"] = {}


def _admit_cronjob(rtype: ResourceType, cron: Obj, creating: bool, ips: IpAllocator) -> None:
    name = meta(cron)["name"]
    spec = cron.get("spec") or {}
    if not spec.get("schedule"):
        raise invalid(rtype.kind, name, [("spec.schedule", "Required value")], rtype.group)
    path = "spec.jobTemplate.spec.template.spec"
    pspec = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    if not isinstance(pspec, dict) or not pspec.get("containers"):
        raise invalid(rtype.kind, name, [(f"{path}.containers", "Required value")], rtype.group)
    jobs.check_restart_policy(rtype, name, pspec, path)
    _default_pod_spec(pspec)
    jobs.default_cronjob(cron)
    if creating:
        cron["status"] = {}


def _admit_hpa(rtype: ResourceType, hpa: Obj, creating: bool, ips: IpAllocator) -> None:
    """autoscaling/v2 defaults (minReplicas 1, a CPU target of 80% when no metric is named)
    and the replica bounds' validation."""
    name = meta(hpa)["name"]
    spec = hpa.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [conversion.cpu_metric(conversion.DEFAULT_CPU_UTILIZATION)]
    low, high = spec["minReplicas"], spec.get("maxReplicas")
    causes = []
    if not isinstance(low, int) or low < 1:
        causes.append(("spec.minReplicas", f"Invalid value: {low}: must be greater than or equal to 1"))
    if not isinstance(high, int) or high < 1:
        causes.append(("spec.maxReplicas", f"Invalid value: {high}: must be greater than 0"))
    elif isinstance(low, int) and high < low:
        causes.append(("spec.maxReplicas", f"Invalid value: {high}: must be greater than or equal to `minReplicas`"))
    if not (spec.get("scaleTargetRef") or {}).get("name"):
        causes.append(("spec.scaleTargetRef.name", "Required value"))
    if causes:
        raise invalid(rtype.kind, name, causes, rtype.group)


def _admit_priorityclass(rtype: ResourceType, pc: Obj, creating: bool, ips: IpAllocator) -> None:
    value = pc.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(rtype.kind, meta(pc)["name"], [("value", "Required value")], rtype.group)
    pc.setdefault("preemptionPolicy", "PreemptLowerPriority")


_ADMIT = {
    "priorityclasses.scheduling.k8s.io": _admit_priorityclass,
    "horizontalpodautoscalers.autoscaling": _admit_hpa,
    "jobs.batch": _admit_job,
    "cronjobs.batch": _admit_cronjob,
    "pods": _admit_pod,
    "deployments.apps": _admit_workload,
    "replicasets.apps": _admit_workload,
    "services": _admit_service,
    "secrets": _admit_secret,
    "namespaces": _admit_namespace,
    "customresourcedefinitions.apiextensions.k8s.io": _admit_crd,
    "gateways.gateway.networking.k8s.io": _admit_gateway,
    "inferencepools.inference.networking.k8s.io": _admit_inferencepool,
}
