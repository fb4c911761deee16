"""The request path's objects: the endpoint picker (ServiceAccount, the Role it needs to watch
pods and pools, its plugins ConfigMap, Deployment and Service, as the inferencepool chart renders
them), the InferencePool, the Gateway and the HTTPRoute."""

from __future__ import annotations

from typing import Any

import yaml

from llmd_console.config import Config
from llmd_console.manifests.model import VLLM_PORT

Obj = dict[str, Any]
POOL_GROUP = "inference.networking.k8s.io"
EPP_GRPC_PORT = 9002
PLUGINS_FILE = "default-plugins.yaml"
CONFIG_DIR = "/config"
# The chart's default scorers and their weights (its ConfigMap, inferencepool chart v1.2.0+).
SCORERS = (("queue-scorer", 2), ("kv-cache-utilization-scorer", 2), ("prefix-cache-scorer", 3))


def plugins_config() -> str:
    """The picker's plugins file (``default-plugins.yaml``) as the chart writes it."""
    doc = {
        "apiVersion": "inference.networking.x-k8s.io/v1alpha1",
        "kind": "EndpointPickerConfig",
        "plugins": [{"type": scorer} for scorer, _ in SCORERS],
        "schedulingProfiles": [
            {"name": "default", "plugins": [{"pluginRef": scorer, "weight": w} for scorer, w in SCORERS]}
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _meta(name: str, namespace: str, labels: dict[str, str] | None = None) -> Obj:
    out: Obj = {"name": name, "namespace": namespace}
    if labels:
        out["labels"] = labels
    return out


def epp_objects(config: Config, namespace: str) -> list[Obj]:
    """ServiceAccount, Role, RoleBinding (and, with ``deploy.epp_metrics_auth``, the ClusterRole and
    binding its authenticated /metrics needs), plugins ConfigMap, Deployment and Service of the picker."""
    name = config.resources.epp
    labels = {"inferencepool": name, "app.kubernetes.io/name": name}
    account: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}
    config_map: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(name, namespace),
        "data": {PLUGINS_FILE: plugins_config()},
    }
    rbac = _epp_rbac(name, namespace)
    if config.deploy.epp_metrics_auth:
        rbac += _epp_metrics_auth_rbac(config.resources.inference_pool, name, namespace)
    deployment = _epp_deployment(config, namespace, labels)
    return [account, *rbac, config_map, deployment, _epp_service(name, namespace, labels)]


def _epp_rbac(name: str, namespace: str) -> list[Obj]:
    """The Role the picker reads its pool, the pods and the objectives with, and its binding."""
    read = ["get", "watch", "list"]
    role: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(name, namespace),
        "rules": [
            {"apiGroups": ["inference.networking.x-k8s.io"], "resources": ["inferenceobjectives"], "verbs": read},
            {"apiGroups": [POOL_GROUP], "resources": ["inferencepools"], "verbs": read},
            {"apiGroups": [""], "resources": ["pods"], "verbs": read},
        ],
    }
    binding: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(name, namespace),
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
    }
    return [role, binding]


def _epp_metrics_auth_rbac(pool: str, name: str, namespace: str) -> list[Obj]:
    """With its /metrics authenticated, the picker reviews each caller's token and access (the
    chart's ClusterRole, named after the pool and the namespace) and may be read there itself."""
    cluster_name = f"{pool[:40]}-{namespace[:40]}-epp"
    role: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": cluster_name},
        "rules": [
            {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
            {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
            {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
        ],
    }
    binding: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": cluster_name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_name},
    }
    return [role, binding]


def epp_args(config: Config, namespace: str) -> list[str]:
    """The picker's command line as the chart writes it: its pool, JSON logs, the plugins file,
    no tracing, and ``--metrics-endpoint-auth=false`` unless ``deploy.epp_metrics_auth`` (the
    chart passes it when Prometheus monitoring is off, as in the runbook)."""
    args = [
        "--pool-name",
        config.resources.inference_pool,
        "--pool-namespace",
        namespace,
        "--pool-group",
        POOL_GROUP,
        "--zap-encoder",
        "json",
        "--config-file",
        f"{CONFIG_DIR}/{PLUGINS_FILE}",
        "--tracing=false",
    ]
    return args if config.deploy.epp_metrics_auth else [*args, "--metrics-endpoint-auth=false"]


def _epp_deployment(config: Config, namespace: str, labels: dict[str, str]) -> Obj:
    name = config.resources.epp
    grpc_probe = {"grpc": {"port": 9003, "service": "inference-extension"}}
    field_env = [
        {"name": env, "valueFrom": {"fieldRef": {"fieldPath": f"metadata.{path}"}}}
        for env, path in (("NAMESPACE", "namespace"), ("POD_NAME", "name"))
    ]
    container: Obj = {
        "name": "epp",
        "image": config.deploy.epp_image,
        "args": epp_args(config, namespace),
        "env": field_env,
        "ports": [
            {"name": "grpc", "containerPort": EPP_GRPC_PORT},
            {"name": "grpc-health", "containerPort": 9003},
            {"name": "metrics", "containerPort": 9090},
        ],
        "livenessProbe": {**grpc_probe, "initialDelaySeconds": 5, "periodSeconds": 10},
        "readinessProbe": {**grpc_probe, "initialDelaySeconds": 2, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
        "volumeMounts": [{"name": "plugins-config-volume", "mountPath": CONFIG_DIR}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, labels),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"inferencepool": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    # The chart's: as long as the longest grace period of the model pods.
                    "terminationGracePeriodSeconds": 130,
                    "containers": [container],
                    "volumes": [{"name": "plugins-config-volume", "configMap": {"name": name}}],
                },
            },
        },
    }


def _epp_service(name: str, namespace: str, labels: dict[str, str]) -> Obj:
    return {
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
