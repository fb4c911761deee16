"""The request path's objects: the endpoint picker (Deployment, Service, ServiceAccount and the
Role it needs to watch pods and pools), the InferencePool, the Gateway and the HTTPRoute."""

from __future__ import annotations

from typing import Any

from llmd_console.config import Config
from llmd_console.manifests.model import VLLM_PORT

Obj = dict[str, Any]
POOL_GROUP = "inference.networking.k8s.io"
EPP_GRPC_PORT = 9002


def _meta(name: str, namespace: str, labels: dict[str, str] | None = None) -> Obj:
    out: Obj = {"name": name, "namespace": namespace}
    if labels:
        out["labels"] = labels
    return out


def epp_objects(config: Config, namespace: str) -> list[Obj]:
    """ServiceAccount, Role, RoleBinding, Deployment and Service of the endpoint picker."""
    name, pool = config.resources.epp, config.resources.inference_pool
    labels = {"inferencepool": name, "app.kubernetes.io/name": name}
    role: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(name, namespace),
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [POOL_GROUP], "resources": ["inferencepools"], "verbs": ["get", "list", "watch"]},
        ],
    }
    binding: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(name, namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    }
    grpc_probe = {"grpc": {"port": 9003, "service": "inference-extension"}}
    container: Obj = {
        "name": "epp",
        "image": config.deploy.epp_image,
        "args": [
            "--pool-name",
            pool,
            "--pool-namespace",
            namespace,
            "--pool-group",
            POOL_GROUP,
            "--zap-encoder",
            "json",
        ],
        "ports": [
            {"name": "grpc", "containerPort": EPP_GRPC_PORT},
            {"name": "grpc-health", "containerPort": 9003},
            {"name": "metrics", "containerPort": 9090},
        ],
        "livenessProbe": {**grpc_probe, "initialDelaySeconds": 5, "periodSeconds": 10},
        "readinessProbe": {**grpc_probe, "initialDelaySeconds": 2, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
    }
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, labels),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"inferencepool": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"serviceAccountName": name, "containers": [container]},
            },
        },
    }
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace, labels),
        "spec": {
            "selector": {"inferencepool": name},
            "type": "ClusterIP",
            "ports": [
                {"name": "grpc-ext-proc", "port": EPP_GRPC_PORT, "targetPort": EPP_GRPC_PORT, "appProtocol": "http2"},
                {"name": "grpc-health", "port": 9003, "targetPort": 9003},
                {"name": "http-metrics", "port": 9090, "targetPort": 9090},
            ],
        },
    }
    account: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}
    return [account, role, binding, deployment, service]


def inference_pool(config: Config, namespace: str, selector: dict[str, str]) -> Obj:
    """The InferencePool over the model pods, picked by the EPP's Service."""
    return {
        "apiVersion": f"{POOL_GROUP}/v1",
        "kind": "InferencePool",
        "metadata": _meta(config.resources.inference_pool, namespace),
        "spec": {
            "selector": {"matchLabels": {"llm-d.ai/inferenceServing": selector["llm-d.ai/inferenceServing"]}},
            "targetPorts": [{"number": VLLM_PORT}],
            "endpointPickerRef": {
                "group": "",
                "kind": "Service",
                "name": config.resources.epp,
                "port": {"number": EPP_GRPC_PORT},
                "failureMode": "FailClose",
            },
        },
    }


def gateway(config: Config, namespace: str) -> Obj:
    """The Gateway: one HTTP listener on port 80."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": _meta(config.resources.gateway, namespace),
        "spec": {
            "gatewayClassName": config.deploy.gateway_class,
            "listeners": [
                {"name": "default", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
            ],
        },
    }


def http_route(config: Config, namespace: str) -> Obj:
    """The HTTPRoute from the Gateway to the pool: the step most often forgotten. The
    InferencePool backendRef has no ``port`` (a port there makes GKE reject the route)."""
    backend = {"group": POOL_GROUP, "kind": "InferencePool", "name": config.resources.inference_pool, "weight": 1}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(config.resources.http_route, namespace),
        "spec": {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": config.resources.gateway}],
            "rules": [{"backendRefs": [backend], "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}],
        },
    }
