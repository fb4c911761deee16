"""The worlds the simulator starts with: the runbook's Pattern 1 (TPU v6e or H100), and
a large generated cluster for benchmarks."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from llmd_console.sim.gke.nodepools import NodePools
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.jsonvalue import loads_yaml
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.worlds.builtin import seed_builtin_objects

NAMESPACE = "llm-d-inference-scheduling"
PROJECT, LOCATION, CLUSTER = "ecoeng-llmd", "europe-west4-a", "tpu-test-cluster"
MODEL = "Qwen/Qwen2.5-3B-Instruct"
POOL_NAME = "gaie-pattern1"
EPP_NAME = "gaie-pattern1-epp"
GATEWAY_NAME = "infra-pattern1-inference-gateway"
ROUTE_NAME = "pattern1-route"
DECODE_NAME = "ms-pattern1-llm-d-modelservice-decode"
GATEWAY_CLASS = "gke-l7-regional-external-managed"
HF_SECRET = "huggingface-token"  # noqa: S105 - the Secret's name, not a credential
SIM_HF_TOKEN = "hf_" + "S1mulatedTokenForTheDemoCluster0"


EPP_IMAGE = "ghcr.io/llm-d/llm-d-inference-scheduler:v0.6.0"


@dataclass(frozen=True)
class Accelerator:
    """How the decode pods get their accelerator, and the releases the world runs."""

    kind: str  # tpu | gpu
    pool: str
    machine: str
    resource: str
    image: str
    epp_image: str = EPP_IMAGE
    epp_metrics_auth: bool = False  # the EPP's --metrics-endpoint-auth


TPU = Accelerator("tpu", "tpu-v6e-pool", "ct6e-standard-4t", "google.com/tpu", "vllm/vllm-tpu:v0.11.1")
GPU = Accelerator("gpu", "gpu-h100-pool", "a3-highgpu-4g", "nvidia.com/gpu", "ghcr.io/llm-d/llm-d-cuda:v0.4.0")
# Releases whose metric names differ (see sim/inference/generations.py): vLLM and EPP images.
RELEASES = {
    "runbook": None,
    "current": ("v0.12.0", "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0"),
    "legacy": ("v0.9.2", "registry.k8s.io/gateway-api-inference-extension/epp:v1.0.0"),
}


def accelerator_for(kind: str, release: str = "runbook", *, epp_metrics_auth: bool = False) -> Accelerator:
    """The accelerator setup for ``tpu`` or ``gpu``, running the runbook's releases (vLLM 0.11,
    the v0.6.0 EPP), the ``current`` ones or ``legacy`` ones."""
    acc = TPU if kind == "tpu" else GPU
    images = RELEASES[release]
    if images is not None:
        vllm_tag, epp_image = images
        repository = "vllm/vllm-tpu" if kind == "tpu" else "vllm/vllm-openai"
        acc = replace(acc, image=f"{repository}:{vllm_tag}", epp_image=epp_image)
    return replace(acc, epp_metrics_auth=epp_metrics_auth)


def _crd(
    group: str,
    kind: str,
    plural: str,
    short: list[str],
    versions: list[str],
    columns: list[Obj] | None = None,
    categories: list[str] | None = None,
) -> Obj:
    names: Obj = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short:
        names["shortNames"] = short
    if categories:
        names["categories"] = categories
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": names,
            "scope": "Namespaced" if kind != "GatewayClass" else "Cluster",
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": i == 0,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                    "subresources": {"status": {}},
                    **({"additionalPrinterColumns": columns} if columns else {}),
                }
                for i, v in enumerate(versions)
            ],
        },
    }


GATEWAY_API_CRDS = [
    _crd(
        "gateway.networking.k8s.io",
        "GatewayClass",
        "gatewayclasses",
        ["gc"],
        ["v1"],
        [
            {"name": "Controller", "type": "string", "jsonPath": ".spec.controllerName"},
            {"name": "Accepted", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Accepted")].status'},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            {"name": "Description", "type": "string", "jsonPath": ".spec.description", "priority": 1},
        ],
    ),
    _crd(
        "gateway.networking.k8s.io",
        "Gateway",
        "gateways",
        ["gtw"],
        ["v1"],
        [
            {"name": "Class", "type": "string", "jsonPath": ".spec.gatewayClassName"},
            {"name": "Address", "type": "string", "jsonPath": ".status.addresses[*].value"},
            {"name": "Programmed", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Programmed")].status'},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
        ["gateway-api"],
    ),
    _crd(
        "gateway.networking.k8s.io",
        "HTTPRoute",
        "httproutes",
        [],
        ["v1"],
        [
            {"name": "Hostnames", "type": "string", "jsonPath": ".spec.hostnames"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
        ["gateway-api"],
    ),
]


def _packaged_crd(filename: str) -> Obj:
    """A CRD manifest shipped with the simulator (``worlds/crds``), as its upstream released it."""
    crd = loads_yaml(resources.files("llmd_console.sim.worlds").joinpath("crds", filename).read_text())
    crd.pop("status", None)  # the API server owns a CRD's status and its timestamps
    crd["metadata"].pop("creationTimestamp", None)
    return crd  # type: ignore[no-any-return]


# The real schema: `kubectl explain inferencepool.spec` and the schema checks need it.
INFERENCE_POOL_CRD = _packaged_crd("inference.networking.k8s.io_inferencepools.yaml")

# GKE's own CRDs, installed on every GKE cluster with the Gateway controller and Managed
# Prometheus; the InferencePool chart's GKE provider renders the first two, and optionally a PodMonitoring.
GKE_CRDS = [
    _crd("networking.gke.io", "HealthCheckPolicy", "healthcheckpolicies", [], ["v1"]),
    _crd("networking.gke.io", "GCPBackendPolicy", "gcpbackendpolicies", [], ["v1"]),
    _crd("monitoring.googleapis.com", "PodMonitoring", "podmonitorings", [], ["v1"]),
]


def decode_deployment(acc: Accelerator, replicas: int) -> Obj:
    """The modelservice decode Deployment as the Pattern 1 values render it."""
    labels = {
        "llm-d.ai/inferenceServing": "true",
        "llm-d.ai/role": "decode",
        "llm-d.ai/model": "Qwen2.5-3B-Instruct",
        "app.kubernetes.io/name": "llm-d-modelservice",
        "app.kubernetes.io/instance": "ms-pattern1",
    }
    env: list[Obj] = [
        {"name": "HF_HOME", "value": "/model-cache"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "huggingface-token", "key": "HF_TOKEN"}}},
        {"name": "TP_SIZE", "value": "4"},
        {"name": "DP_SIZE", "value": "1"},
    ]
    node_selector: dict[str, str]
    if acc.kind == "tpu":
        env += [
            {"name": "PJRT_DEVICE", "value": "TPU"},
            {"name": "TPU_CHIPS_PER_HOST_BOUNDS", "value": "2,2,1"},
            {"name": "TPU_HOST_BOUNDS", "value": "1,1,1"},
            {"name": "TPU_NUM_DEVICES", "value": "4"},
        ]
        node_selector = {
            "cloud.google.com/gke-tpu-topology": "2x2",
            "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
        }
    else:
        node_selector = {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    container: Obj = {
        "name": "vllm",
        "image": acc.image,
        "command": ["vllm", "serve"],
        "args": [
            MODEL,
            "--port",
            "8000",
            "--tensor-parallel-size",
            "4",
            "--served-model-name",
            MODEL,
            "--max-model-len=2048",
        ],
        "env": env,
        "ports": [{"containerPort": 8000, "name": "vllm", "protocol": "TCP"}],
        "resources": {
            "requests": {acc.resource: "4", "cpu": "8", "memory": "64Gi"},
            "limits": {acc.resource: "4", "memory": "64Gi"},
        },
        "volumeMounts": [{"name": "model-cache", "mountPath": "/model-cache"}],
        "startupProbe": {
            "httpGet": {"path": "/v1/models", "port": "vllm"},
            "initialDelaySeconds": 15,
            "periodSeconds": 30,
            "timeoutSeconds": 5,
            "failureThreshold": 60,
        },
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "vllm"},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": "/v1/models", "port": "vllm"},
            "periodSeconds": 5,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        },
    }
    return {
        "metadata": {
            "name": DECODE_NAME,
            "namespace": NAMESPACE,
            "labels": {
                "app.kubernetes.io/managed-by": "Helm",
                "helm.sh/chart": "llm-d-modelservice-v0.4.9",
                "llm-d.ai/role": "decode",
            },
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "nodeSelector": node_selector,
                    "tolerations": [{"key": acc.resource, "operator": "Exists", "effect": "NoSchedule"}],
                    "volumes": [{"name": "model-cache", "emptyDir": {}}],
                },
            },
        },
    }


# The inferencepool chart's plugins ConfigMap (v1.2.0+: its default scorers and weights).
EPP_PLUGINS = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
"""


def epp_rbac() -> list[tuple[str, Obj]]:
    """The chart's Role for the EPP's service account (read the pool, its pods and the
    objectives) and its RoleBinding."""
    read = ["get", "watch", "list"]
    role: Obj = {
        "metadata": {"name": EPP_NAME, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/name": EPP_NAME}},
        "rules": [
            {"apiGroups": ["inference.networking.x-k8s.io"], "resources": ["inferenceobjectives"], "verbs": read},
            {"apiGroups": ["inference.networking.k8s.io"], "resources": ["inferencepools"], "verbs": read},
            {"apiGroups": [""], "resources": ["pods"], "verbs": read},
        ],
    }
    binding: Obj = {
        "metadata": {"name": EPP_NAME, "namespace": NAMESPACE},
        "subjects": [{"kind": "ServiceAccount", "name": EPP_NAME, "namespace": NAMESPACE}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": EPP_NAME},
    }
    return [("roles.rbac.authorization.k8s.io", role), ("rolebindings.rbac.authorization.k8s.io", binding)]


def epp_metrics_rbac() -> list[tuple[str, Obj]]:
    """With Prometheus monitoring on, the chart's ClusterRole and binding that let the EPP review
    the tokens its authenticated /metrics is called with."""
    name = f"{POOL_NAME}-{NAMESPACE}-epp"
    role: Obj = {
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": EPP_NAME}},
        "rules": [
            {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
            {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
            {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
        ],
    }
    binding: Obj = {
        "metadata": {"name": name},
        "subjects": [{"kind": "ServiceAccount", "name": EPP_NAME, "namespace": NAMESPACE}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
    }
    return [
        ("clusterroles.rbac.authorization.k8s.io", role),
        ("clusterrolebindings.rbac.authorization.k8s.io", binding),
    ]


def epp_objects(acc: Accelerator = TPU) -> list[tuple[str, Obj]]:
    """The EPP's objects as the runbook's inferencepool chart (v1.2.0, Prometheus monitoring off)
    renders them: ServiceAccount, Role and RoleBinding, the plugins ConfigMap, Deployment and
    Service (the chart turns the metrics endpoint's authentication off unless asked)."""
    labels = {"inferencepool": EPP_NAME, "app.kubernetes.io/name": EPP_NAME, "app.kubernetes.io/version": "v0.6.0"}
    deployment: Obj = {
        "metadata": {"name": EPP_NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"inferencepool": EPP_NAME}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": EPP_NAME,
                    "terminationGracePeriodSeconds": 130,
                    "containers": [
                        {
                            "name": "epp",
                            "image": acc.epp_image,
                            "args": [
                                "--pool-name",
                                POOL_NAME,
                                "--pool-namespace",
                                NAMESPACE,
                                "--pool-group",
                                "inference.networking.k8s.io",
                                "--zap-encoder",
                                "json",
                                "--config-file",
                                "/config/default-plugins.yaml",
                                "--tracing=false",
                                # The chart leaves the EPP's default (on) when Prometheus monitoring is on.
                                *([] if acc.epp_metrics_auth else ["--metrics-endpoint-auth=false"]),
                            ],
                            "env": [
                                {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            ],
                            "ports": [
                                {"name": "grpc", "containerPort": 9002},
                                {"name": "grpc-health", "containerPort": 9003},
                                {"name": "metrics", "containerPort": 9090},
                            ],
                            "livenessProbe": {
                                "grpc": {"port": 9003, "service": "inference-extension"},
                                "initialDelaySeconds": 5,
                                "periodSeconds": 10,
                            },
                            "readinessProbe": {
                                "grpc": {"port": 9003, "service": "inference-extension"},
                                "initialDelaySeconds": 2,
                                "periodSeconds": 2,
                            },
                            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
                            "volumeMounts": [{"name": "plugins-config-volume", "mountPath": "/config"}],
                        }
                    ],
                    "volumes": [{"name": "plugins-config-volume", "configMap": {"name": EPP_NAME}}],
                },
            },
        },
    }
    service: Obj = {
        "metadata": {"name": EPP_NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "selector": {"inferencepool": EPP_NAME},
            "type": "ClusterIP",
            "ports": [
                {"name": "grpc-ext-proc", "port": 9002, "targetPort": 9002, "protocol": "TCP", "appProtocol": "http2"},
                {"name": "grpc-health", "port": 9003, "targetPort": 9003, "protocol": "TCP"},
                {"name": "http-metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
            ],
        },
    }
    config_map: Obj = {
        "metadata": {"name": EPP_NAME, "namespace": NAMESPACE},
        "data": {"default-plugins.yaml": EPP_PLUGINS},
    }
    account: Obj = {
        "metadata": {"name": EPP_NAME, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/name": EPP_NAME}}
    }
    return [
        ("serviceaccounts", account),
        *epp_rbac(),
        *(epp_metrics_rbac() if acc.epp_metrics_auth else []),
        ("configmaps", config_map),
        ("deployments.apps", deployment),
        ("services", service),
    ]


def build_pattern1(
    ctx: SimContext, pools: NodePools, accelerator: str | Accelerator = "tpu", decode_replicas: int = 1
) -> None:
    """The runbook's Pattern 1: CPU and accelerator pools, namespace, secret, EPP, pool, gateway, route."""
    acc = accelerator_for(accelerator) if isinstance(accelerator, str) else accelerator
    pools.add_pool("default-pool", "e2-standard-4", 1, min_nodes=0, max_nodes=3)
    pools.add_pool(acc.pool, acc.machine, 1, min_nodes=0, max_nodes=2, autoscaling=True)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", NAMESPACE):
        ctx.create("namespaces", {"metadata": {"name": ns}})
    crds = [*GATEWAY_API_CRDS, *GKE_CRDS, INFERENCE_POOL_CRD]
    for crd in crds:
        ctx.create("customresourcedefinitions.apiextensions.k8s.io", crd)
    seed_builtin_objects(ctx, {crd["spec"]["group"] for crd in crds})
    for gc_name, desc in (
        (GATEWAY_CLASS, "Regional External Application Load Balancer"),
        ("gke-l7-rilb", "Regional Internal Application Load Balancer"),
        ("gke-l7-global-external-managed", "Global External Application Load Balancer"),
    ):
        ctx.create(
            "gatewayclasses.gateway.networking.k8s.io",
            {
                "metadata": {"name": gc_name},
                "spec": {"controllerName": "networking.gke.io/gateway", "description": desc},
            },
        )
    ctx.create("secrets", hf_secret(SIM_HF_TOKEN))
    ctx.create("serviceaccounts", {"metadata": {"name": "default", "namespace": NAMESPACE}})
    for key, obj in epp_objects(acc):
        ctx.create(key, obj)
    ctx.create("deployments.apps", decode_deployment(acc, decode_replicas))
    ctx.create(
        "inferencepools.inference.networking.k8s.io",
        {
            "metadata": {"name": POOL_NAME, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/name": POOL_NAME}},
            "spec": {
                "selector": {"matchLabels": {"llm-d.ai/inferenceServing": "true"}},
                "targetPorts": [{"number": 8000}],
                "endpointPickerRef": {
                    "group": "",
                    "kind": "Service",
                    "name": EPP_NAME,
                    "port": {"number": 9002},
                    "failureMode": "FailClose",
                },
            },
        },
    )
    ctx.create("gateways.gateway.networking.k8s.io", gateway_manifest())
    ctx.create("httproutes.gateway.networking.k8s.io", route_manifest())


def hf_secret(token: str) -> Obj:
    """The ``huggingface-token`` Secret with both keys the charts read."""
    data = base64.b64encode(token.encode()).decode()
    return {
        "metadata": {"name": HF_SECRET, "namespace": NAMESPACE},
        "type": "Opaque",
        "data": {"token": data, "HF_TOKEN": data},
    }


def gateway_manifest() -> Obj:
    """The Pattern 1 Gateway (llm-d-infra chart, GKE provider)."""
    return {
        "metadata": {
            "name": GATEWAY_NAME,
            "namespace": NAMESPACE,
            "labels": {
                "app.kubernetes.io/gateway": GATEWAY_NAME,
                "app.kubernetes.io/component": "inference-gateway",
            },
        },
        "spec": {
            "gatewayClassName": GATEWAY_CLASS,
            "listeners": [
                {
                    "name": "default",
                    "port": 80,
                    "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
            ],
        },
    }


def route_manifest(port: int | None = None) -> Obj:
    """The Pattern 1 HTTPRoute (optionally with the ``port`` it must not have)."""
    backend: dict[str, Any] = {
        "group": "inference.networking.k8s.io",
        "kind": "InferencePool",
        "name": POOL_NAME,
        "weight": 1,
    }
    if port is not None:
        backend["port"] = port
    return {
        "metadata": {"name": ROUTE_NAME, "namespace": NAMESPACE},
        "spec": {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}],
            "rules": [{"backendRefs": [backend], "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}],
        },
    }


def build_large(ctx: SimContext, pools: NodePools, nodes: int, pods: int) -> None:
    """A generated cluster of ``nodes`` CPU nodes and ``pods`` running pods, for scale tests."""
    per_pool = 100
    remaining = nodes
    index = 0
    while remaining > 0:
        count = min(per_pool, remaining)
        pools.add_pool(f"pool-{index:03d}", "e2-standard-8", count, max_nodes=per_pool)
        remaining -= count
        index += 1
    node_names = [n["metadata"]["name"] for n in ctx.store.list("nodes")]
    namespaces = [f"team-{i:02d}" for i in range(max(1, pods // 500))]
    for ns in namespaces:
        if ctx.store.get("namespaces", "", ns) is None:
            ctx.create("namespaces", {"metadata": {"name": ns}})
    now = ctx.clock.iso()
    for i in range(pods):
        ns = namespaces[i % len(namespaces)]
        node = node_names[i % len(node_names)] if node_names else ""
        ip = f"10.{100 + (i >> 16) % 100}.{(i >> 8) & 255}.{i & 255}"
        ctx.create(
            "pods",
            {
                "metadata": {"name": f"worker-{i:05d}", "namespace": ns, "labels": {"app": f"worker-{i % 50}"}},
                "spec": {
                    "nodeName": node,
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": "10m"}},
                        }
                    ],
                },
                "status": {
                    "phase": "Running",
                    "podIP": ip,
                    "startTime": now,
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
                    "containerStatuses": [
                        {
                            "name": "app",
                            "ready": True,
                            "restartCount": 0,
                            "started": True,
                            "image": "registry.k8s.io/pause:3.10",
                            "imageID": "",
                            "state": {"running": {"startedAt": now}},
                            "lastState": {},
                        }
                    ],
                },
            },
            keep_status=True,
        )
