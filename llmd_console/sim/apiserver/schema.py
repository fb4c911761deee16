"""The shape of every object the simulator reads: field types, checked once per write.

The real API server decodes a request into Go structs before anything else, so a
list where ``Service.spec`` belongs, a number as ``metadata.name`` or a string as a
container's ``resources`` never reaches validation, controllers or storage: it is a
400 ``BadRequest`` ("cannot unmarshal array into Go struct field ...") for built-in
types and a 422 ``Invalid`` ("must be of type object") for custom resources, whose
structural schema the API server enforces. Fields the simulator never reads are not
described and pass as they are.

Like Go's decoder (and structural-schema pruning for custom resources), a ``null``
where a struct field belongs means "unset" and is dropped, and a ``null`` list item
or map value becomes the zero value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import ResourceType

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class T:
    """One node of a schema."""

    kind: str  # string, int32, int64, bool, quantity, intorstring, any, struct, list, map
    go: str = ""
    fields: dict[str, T] = field(default_factory=dict)
    item: T | None = None

    def go_type(self) -> str:
        """The Go type named in decoding errors."""
        if self.go:
            return self.go
        if self.kind == "list" and self.item is not None:
            return "[]" + self.item.go_type()
        if self.kind == "map" and self.item is not None:
            return "map[string]" + self.item.go_type()
        return {"quantity": "resource.Quantity", "intorstring": "intstr.IntOrString", "any": "interface {}"}.get(
            self.kind, self.kind
        )


STR, I32, I64, BOOL = T("string"), T("int32"), T("int64"), T("bool")
QTY, IOS, ANY = T("quantity"), T("intorstring"), T("any")
OBJECT = T("map", item=ANY)  # any JSON object


def struct(go: str, **fields: T) -> T:
    """A struct with the given fields (others pass unchecked)."""
    return T("struct", go, fields)


def list_of(item: T) -> T:
    """A JSON array of ``item``."""
    return T("list", item=item)


def map_of(item: T) -> T:
    """A JSON object with string keys and ``item`` values."""
    return T("map", item=item)


STRINGS = list_of(STR)
STRING_MAP = map_of(STR)
OWNER_REF = struct(
    "v1.OwnerReference", apiVersion=STR, kind=STR, name=STR, uid=STR, controller=BOOL, blockOwnerDeletion=BOOL
)
OBJECT_META = struct(
    "v1.ObjectMeta",
    name=STR,
    generateName=STR,
    namespace=STR,
    uid=STR,
    resourceVersion=STR,
    generation=I64,
    creationTimestamp=STR,
    deletionTimestamp=STR,
    deletionGracePeriodSeconds=I64,
    labels=STRING_MAP,
    annotations=STRING_MAP,
    finalizers=STRINGS,
    ownerReferences=list_of(OWNER_REF),
)
CONDITIONS = list_of(
    struct(
        "v1.Condition",
        type=STR,
        status=STR,
        reason=STR,
        message=STR,
        lastTransitionTime=STR,
        lastUpdateTime=STR,
        lastProbeTime=STR,
        observedGeneration=I64,
    )
)
LABEL_SELECTOR = struct(
    "v1.LabelSelector",
    matchLabels=STRING_MAP,
    matchExpressions=list_of(
        struct("v1.LabelSelectorRequirement", key=STR, operator=STR, values=STRINGS),
    ),
)
PROBE = struct(
    "v1.Probe",
    initialDelaySeconds=I32,
    periodSeconds=I32,
    timeoutSeconds=I32,
    successThreshold=I32,
    failureThreshold=I32,
    terminationGracePeriodSeconds=I64,
    httpGet=struct("v1.HTTPGetAction", path=STR, port=IOS, host=STR, scheme=STR),
    tcpSocket=struct("v1.TCPSocketAction", port=IOS, host=STR),
    grpc=struct("v1.GRPCAction", port=I32),
    exec=struct("v1.ExecAction", command=STRINGS),
)
CONTAINER = struct(
    "v1.Container",
    name=STR,
    image=STR,
    command=STRINGS,
    args=STRINGS,
    workingDir=STR,
    env=list_of(struct("v1.EnvVar", name=STR, value=STR, valueFrom=OBJECT)),
    ports=list_of(struct("v1.ContainerPort", name=STR, containerPort=I32, hostPort=I32, protocol=STR)),
    resources=struct("v1.ResourceRequirements", requests=map_of(QTY), limits=map_of(QTY)),
    volumeMounts=list_of(struct("v1.VolumeMount", name=STR, mountPath=STR, readOnly=BOOL)),
    readinessProbe=PROBE,
    livenessProbe=PROBE,
    startupProbe=PROBE,
    imagePullPolicy=STR,
    terminationMessagePath=STR,
    terminationMessagePolicy=STR,
    restartPolicy=STR,
    securityContext=OBJECT,
    stdin=BOOL,
    tty=BOOL,
)
TOLERATION = struct("v1.Toleration", key=STR, operator=STR, value=STR, effect=STR, tolerationSeconds=I64)
TAINT = struct("v1.Taint", key=STR, value=STR, effect=STR, timeAdded=STR)
POD_SPEC = struct(
    "v1.PodSpec",
    containers=list_of(CONTAINER),
    initContainers=list_of(CONTAINER),
    nodeName=STR,
    nodeSelector=STRING_MAP,
    tolerations=list_of(TOLERATION),
    affinity=OBJECT,
    restartPolicy=STR,
    terminationGracePeriodSeconds=I64,
    activeDeadlineSeconds=I64,
    dnsPolicy=STR,
    schedulerName=STR,
    serviceAccountName=STR,
    serviceAccount=STR,
    hostNetwork=BOOL,
    hostname=STR,
    subdomain=STR,
    priority=I32,
    priorityClassName=STR,
    volumes=list_of(struct("v1.Volume", name=STR)),
    securityContext=OBJECT,
    imagePullSecrets=list_of(struct("v1.LocalObjectReference", name=STR)),
    topologySpreadConstraints=list_of(OBJECT),
)
CONTAINER_STATUS = struct(
    "v1.ContainerStatus",
    name=STR,
    image=STR,
    imageID=STR,
    containerID=STR,
    ready=BOOL,
    started=BOOL,
    restartCount=I32,
    state=OBJECT,
    lastState=OBJECT,
)
POD_STATUS = struct(
    "v1.PodStatus",
    phase=STR,
    reason=STR,
    message=STR,
    conditions=CONDITIONS,
    hostIP=STR,
    podIP=STR,
    podIPs=list_of(struct("v1.PodIP", ip=STR)),
    startTime=STR,
    qosClass=STR,
    nominatedNodeName=STR,
    containerStatuses=list_of(CONTAINER_STATUS),
    initContainerStatuses=list_of(CONTAINER_STATUS),
)
POD_TEMPLATE = struct("v1.PodTemplateSpec", metadata=OBJECT_META, spec=POD_SPEC)
REPLICAS_STATUS = {
    "replicas": I32,
    "readyReplicas": I32,
    "availableReplicas": I32,
    "fullyLabeledReplicas": I32,
    "updatedReplicas": I32,
    "unavailableReplicas": I32,
    "observedGeneration": I64,
    "collisionCount": I32,
    "conditions": CONDITIONS,
}

# What follows ``kind`` and ``apiVersion``, per resource type key.
_KINDS: dict[str, dict[str, T]] = {
    "pods": {"spec": POD_SPEC, "status": POD_STATUS},
    "deployments.apps": {
        "spec": struct(
            "v1.DeploymentSpec",
            replicas=I32,
            selector=LABEL_SELECTOR,
            template=POD_TEMPLATE,
            strategy=struct(
                "v1.DeploymentStrategy",
                type=STR,
                rollingUpdate=struct("v1.RollingUpdateDeployment", maxSurge=IOS, maxUnavailable=IOS),
            ),
            minReadySeconds=I32,
            revisionHistoryLimit=I32,
            progressDeadlineSeconds=I32,
            paused=BOOL,
        ),
        "status": struct("v1.DeploymentStatus", **REPLICAS_STATUS),
    },
    "replicasets.apps": {
        "spec": struct(
            "v1.ReplicaSetSpec", replicas=I32, selector=LABEL_SELECTOR, template=POD_TEMPLATE, minReadySeconds=I32
        ),
        "status": struct("v1.ReplicaSetStatus", **REPLICAS_STATUS),
    },
    "services": {
        "spec": struct(
            "v1.ServiceSpec",
            type=STR,
            selector=STRING_MAP,
            ports=list_of(
                struct(
                    "v1.ServicePort", name=STR, protocol=STR, port=I32, targetPort=IOS, nodePort=I32, appProtocol=STR
                )
            ),
            clusterIP=STR,
            clusterIPs=STRINGS,
            sessionAffinity=STR,
            externalTrafficPolicy=STR,
            internalTrafficPolicy=STR,
            ipFamilies=STRINGS,
            ipFamilyPolicy=STR,
        ),
        "status": struct("v1.ServiceStatus", loadBalancer=OBJECT, conditions=CONDITIONS),
    },
    "endpoints": {
        "subsets": list_of(
            struct(
                "v1.EndpointSubset",
                addresses=list_of(OBJECT),
                notReadyAddresses=list_of(OBJECT),
                ports=list_of(struct("v1.EndpointPort", name=STR, port=I32, protocol=STR)),
            )
        )
    },
    "configmaps": {"data": STRING_MAP, "binaryData": STRING_MAP, "immutable": BOOL},
    "secrets": {"data": STRING_MAP, "stringData": STRING_MAP, "type": STR, "immutable": BOOL},
    "serviceaccounts": {"secrets": list_of(OBJECT), "imagePullSecrets": list_of(OBJECT)},
    "namespaces": {
        "spec": struct("v1.NamespaceSpec", finalizers=STRINGS),
        "status": struct("v1.NamespaceStatus", phase=STR, conditions=CONDITIONS),
    },
    "nodes": {
        "spec": struct(
            "v1.NodeSpec", unschedulable=BOOL, taints=list_of(TAINT), podCIDR=STR, podCIDRs=STRINGS, providerID=STR
        ),
        "status": struct(
            "v1.NodeStatus",
            capacity=map_of(QTY),
            allocatable=map_of(QTY),
            conditions=CONDITIONS,
            addresses=list_of(struct("v1.NodeAddress", type=STR, address=STR)),
            nodeInfo=STRING_MAP,
            images=list_of(OBJECT),
        ),
    },
    "events": {
        "involvedObject": struct(
            "v1.ObjectReference", kind=STR, namespace=STR, name=STR, uid=STR, apiVersion=STR, fieldPath=STR
        ),
        "reason": STR,
        "message": STR,
        "type": STR,
        "count": I32,
        "firstTimestamp": STR,
        "lastTimestamp": STR,
        "eventTime": STR,
        "reportingComponent": STR,
        "reportingInstance": STR,
        "source": struct("v1.EventSource", component=STR, host=STR),
    },
    "customresourcedefinitions.apiextensions.k8s.io": {
        "spec": struct(
            "v1.CustomResourceDefinitionSpec",
            group=STR,
            scope=STR,
            names=struct(
                "v1.CustomResourceDefinitionNames",
                plural=STR,
                singular=STR,
                kind=STR,
                listKind=STR,
                shortNames=STRINGS,
                categories=STRINGS,
            ),
            versions=list_of(
                struct(
                    "v1.CustomResourceDefinitionVersion",
                    name=STR,
                    served=BOOL,
                    storage=BOOL,
                    subresources=OBJECT,
                    schema=OBJECT,
                    additionalPrinterColumns=list_of(
                        struct(
                            "v1.CustomResourceColumnDefinition",
                            name=STR,
                            type=STR,
                            format=STR,
                            description=STR,
                            priority=I32,
                            jsonPath=STR,
                        )
                    ),
                )
            ),
        ),
        "status": OBJECT,
    },
    # Custom resources the llm-d world installs (their CRDs' structural schemas, in part).
    "gateways.gateway.networking.k8s.io": {
        "spec": struct(
            "",
            gatewayClassName=STR,
            listeners=list_of(struct("", name=STR, port=I32, protocol=STR, hostname=STR, allowedRoutes=OBJECT)),
            addresses=list_of(struct("", type=STR, value=STR)),
        ),
        "status": struct(
            "",
            conditions=CONDITIONS,
            addresses=list_of(struct("", type=STR, value=STR)),
            listeners=list_of(OBJECT),
        ),
    },
    "httproutes.gateway.networking.k8s.io": {
        "spec": struct(
            "",
            parentRefs=list_of(struct("", group=STR, kind=STR, namespace=STR, name=STR, sectionName=STR, port=I32)),
            hostnames=STRINGS,
            rules=list_of(
                struct(
                    "",
                    matches=list_of(OBJECT),
                    filters=list_of(OBJECT),
                    backendRefs=list_of(struct("", group=STR, kind=STR, namespace=STR, name=STR, port=I32, weight=I32)),
                    timeouts=STRING_MAP,
                )
            ),
        ),
        "status": struct(
            "",
            parents=list_of(
                struct(
                    "",
                    parentRef=struct("", group=STR, kind=STR, namespace=STR, name=STR, sectionName=STR),
                    controllerName=STR,
                    conditions=CONDITIONS,
                )
            ),
        ),
    },
    "inferencepools.inference.networking.k8s.io": {
        "spec": struct(
            "",
            selector=struct("", matchLabels=STRING_MAP),
            targetPorts=list_of(struct("", number=I32)),
            endpointPickerRef=struct("", group=STR, kind=STR, name=STR, port=struct("", number=I32), failureMode=STR),
        ),
        "status": OBJECT,
    },
}


class _Mismatch(Exception):
    def __init__(self, path: str, value: Any, want: T) -> None:
        super().__init__(path)
        self.path = path
        self.value = value
        self.want = want


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _zero(spec: T) -> Any:
    return {"string": "", "int32": 0, "int64": 0, "bool": False, "struct": {}, "list": [], "map": {}}.get(spec.kind)


def _check(value: Any, spec: T, path: str) -> Any:
    """``value`` checked against ``spec`` (nulls normalised); raises _Mismatch."""
    kind = spec.kind
    if kind == "any":
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise _Mismatch(path, value, spec)
        return value
    if kind in ("int32", "int64"):
        low, high = (INT32_MIN, INT32_MAX) if kind == "int32" else (INT64_MIN, INT64_MAX)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise _Mismatch(path, value, spec)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Mismatch(path, value, spec)
        return value
    if kind in ("quantity", "intorstring"):
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        if kind == "quantity":
            ok = ok or isinstance(value, float)
        if not ok:
            raise _Mismatch(path, value, spec)
        return value
    if kind == "list":
        if not isinstance(value, list):
            raise _Mismatch(path, value, spec)
        assert spec.item is not None
        return [_zero(spec.item) if v is None else _check(v, spec.item, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        raise _Mismatch(path, value, spec)
    if kind == "map":
        assert spec.item is not None
        if spec.item.kind == "any":
            return value
        return {k: _zero(spec.item) if v is None else _check(v, spec.item, f"{path}[{k}]") for k, v in value.items()}
    out = {}
    for key, v in value.items():
        if v is None and key in spec.fields:
            continue  # null: the field is unset
        sub = spec.fields.get(key)
        out[key] = _check(v, sub, f"{path}.{key}" if path else key) if sub is not None else v
    return out


def check(rtype: ResourceType, obj: Obj) -> Obj:
    """``obj`` with its field types checked and nulls normalised; a 400 (built-in types) or
    422 (custom resources) Status when a field the simulator reads has the wrong type."""
    builtin = not rtype.custom
    fields = {"metadata": OBJECT_META, "kind": STR, "apiVersion": STR, **_KINDS.get(rtype.key, {})}
    try:
        return dict(_check(obj, struct(f"v1.{rtype.kind}", **fields), ""))
    except _Mismatch as err:
        got = _json_type(err.value)
        if builtin:
            version = rtype.version  # the API server names the version alone ("v1")
            raise ApiError(
                400,
                f'{rtype.kind} in version "{version}" cannot be handled as a {rtype.kind}: json: cannot unmarshal '
                f"{got} into Go struct field {rtype.kind}.{err.path} of type {err.want.go_type()}",
            ) from None
        want = {"struct": "object", "map": "object", "list": "array", "int32": "integer", "int64": "integer"}.get(
            err.want.kind, err.want.kind
        )
        shown = err.value if isinstance(err.value, (int, float, bool)) else f'"{_json_type(err.value)}"'
        name = obj.get("metadata", {}).get("name", "") if isinstance(obj.get("metadata"), dict) else ""
        qualified = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
        message = f"Invalid value: {shown}: {err.path} in body must be of type {want}: {shown}"
        raise ApiError(
            422,
            f'{qualified} "{name}" is invalid: {err.path}: {message}',
            "Invalid",
            {
                "name": str(name),
                "group": rtype.group,
                "kind": rtype.kind,
                "causes": [{"reason": "FieldValueTypeInvalid", "message": message, "field": err.path}],
            },
        ) from None
