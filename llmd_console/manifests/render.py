"""Every Pattern 1 object in apply order, each with the API path it is applied at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from llmd_console.config import Config
from llmd_console.manifests import model, routing

Obj = dict[str, Any]
# kind -> (API path prefix, plural): the kinds the manifests use.
PLURALS = {
    "ServiceAccount": ("/api/v1", "serviceaccounts"),
    "Service": ("/api/v1", "services"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings"),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles"),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "InferencePool": ("/apis/inference.networking.k8s.io/v1", "inferencepools"),
    "Gateway": ("/apis/gateway.networking.k8s.io/v1", "gateways"),
    "HTTPRoute": ("/apis/gateway.networking.k8s.io/v1", "httproutes"),
}


@dataclass(frozen=True)
class Manifest:
    """One object to apply."""

    obj: Obj

    @property
    def kind(self) -> str:
        """Its kind."""
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        """Its name."""
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        """Its namespace ("" for a cluster-scoped object)."""
        return str(self.obj["metadata"].get("namespace", ""))

    @property
    def label(self) -> str:
        """``Kind/name``, as kubectl prints it."""
        return f"{self.kind}/{self.name}"

    @property
    def path(self) -> str:
        """The object's API path."""
        prefix, plural = PLURALS[self.kind]
        if not self.namespace:
            return f"{prefix}/{plural}/{self.name}"
        return f"{prefix}/namespaces/{self.namespace}/{plural}/{self.name}"


def render(config: Config, namespace: str | None = None) -> list[Manifest]:
    """The Pattern 1 objects for ``namespace`` (default: ``deploy.namespace``, else ``cluster.namespace``),
    in the order they are applied: identities and RBAC, the picker, the model servers, then routing."""
    ns = namespace or config.deploy.namespace or config.cluster.namespace
    decode = model.decode_deployment(config, ns)
    objs = [
        *routing.epp_objects(config, ns),
        decode,
        routing.inference_pool(config, ns, model.model_labels(config)),
        routing.gateway(config, ns),
        routing.http_route(config, ns),
    ]
    return [Manifest(o) for o in objs]


def deploy_namespace(config: Config) -> str:
    """The namespace the deploy action works in."""
    return config.deploy.namespace or config.cluster.namespace


def as_yaml(manifests: list[Manifest]) -> str:
    """The manifests as one multi-document YAML stream (for ``kubectl apply -f -``)."""
    return yaml.safe_dump_all([m.obj for m in manifests], sort_keys=False)
