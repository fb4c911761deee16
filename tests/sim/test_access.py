"""The simulated RBAC policy: denials by verb, resource, subresource and namespace, enforced
by the API server and reported by ``kubectl auth can-i``; the RBAC kinds an EPP needs."""

from __future__ import annotations

import json

import httpx
import pytest
from kubernetes import client

from llmd_console.sim import SimCluster
from tests.conftest import Kubectl
from tests.sim.manifests import web_deployment

NS = "acc"
EPP_RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: epp, namespace: acc}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: epp, namespace: acc}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [inference.networking.k8s.io]
  resources: [inferencepools]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: epp, namespace: acc}
subjects: [{kind: ServiceAccount, name: epp, namespace: acc}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: epp}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: acc-epp-metrics}
rules:
- nonResourceURLs: [/metrics]
  verbs: [get]
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: acc-epp-metrics}
subjects: [{kind: ServiceAccount, name: epp, namespace: acc}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: acc-epp-metrics}
"""
RBAC_OBJECTS = (
    "serviceaccount/epp",
    "role.rbac.authorization.k8s.io/epp",
    "rolebinding.rbac.authorization.k8s.io/epp",
    "clusterrole.rbac.authorization.k8s.io/acc-epp-metrics",
    "clusterrolebinding.rbac.authorization.k8s.io/acc-epp-metrics",
)


@pytest.fixture(scope="module", autouse=True)
def _namespace(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", NS)
    kubectl.run("create", "namespace", f"{NS}-other")
    kubectl.run("apply", "--server-side", "-f", "-", stdin=web_deployment(NS))


def _can_i(kubectl: Kubectl, *args: str) -> str:
    return kubectl.run("auth", "can-i", *args, check=False).strip().splitlines()[0]


def test_a_denied_subresource_verb_is_refused_in_rbac_words(sim: SimCluster, kubectl: Kubectl) -> None:
    denial = sim.call(lambda: sim.ctx.deny(verb="patch", resource="deployments/scale", namespace=NS))
    try:
        out = kubectl.run("scale", "deployment", "web", "-n", NS, "--replicas", "2", check=False)
        assert (
            'Error from server (Forbidden): deployments.apps "web" is forbidden: User "llmd-sim" cannot patch '
            'resource "deployments/scale" in API group "apps" in the namespace "acc"'
        ) in out
        assert _can_i(kubectl, "patch", "deployments", "--subresource", "scale", "-n", NS) == "no"
        assert _can_i(kubectl, "patch", "deployments", "-n", NS) == "yes"  # RBAC: the subresource is its own
        assert _can_i(kubectl, "patch", "deployments", "--subresource", "scale", "-n", f"{NS}-other") == "yes"
        assert _can_i(kubectl, "get", "deployments", "--subresource", "scale", "-n", NS) == "yes"
        rules = kubectl.run("auth", "can-i", "--list", "-n", NS)
        assert "deployments.apps" in rules
    finally:
        sim.call(lambda: sim.ctx.undeny(denial))
    assert "scaled" in kubectl.run("scale", "deployment", "web", "-n", NS, "--replicas", "2")


def test_access_reviews_through_the_python_client(sim: SimCluster, api: client.ApiClient) -> None:
    auth = client.AuthorizationV1Api(api)

    def review(verb: str, namespace: str) -> bool:
        attrs = client.V1ResourceAttributes(verb=verb, group="apps", resource="deployments", namespace=namespace)
        body = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs))
        return bool(auth.create_self_subject_access_review(body).status.allowed)

    sim.call(lambda: sim.ctx.deny(verb="delete", resource="deployments", namespace=NS, group="apps"))
    try:
        assert not review("delete", NS) and review("delete", f"{NS}-other") and review("get", NS)
        with pytest.raises(client.ApiException) as refused:
            client.AppsV1Api(api).delete_namespaced_deployment("web", NS)
        status = json.loads(refused.value.body)
        assert status["code"] == 403 and status["reason"] == "Forbidden"
        assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    finally:
        sim.call(sim.ctx.undeny)
    assert review("delete", NS)


def test_the_control_endpoint_restricts_from_outside(sim: SimCluster, kubectl: Kubectl) -> None:
    with httpx.Client(base_url=sim.url, timeout=10) as http:
        denial = {"verb": "list", "resource": "pods", "namespace": NS}
        state = http.post("/llmd-sim/v1/access/denials", json=denial).json()
        assert state["denials"] == [{**denial, "group": None}]
        try:
            out = kubectl.run("get", "pods", "-n", NS, check=False)
            assert 'cannot list resource "pods" in API group "" in the namespace "acc"' in out
            assert _can_i(kubectl, "list", "pods", "-n", NS) == "no"
        finally:
            assert http.delete("/llmd-sim/v1/access/denials").json()["denials"] == []
        assert http.post("/llmd-sim/v1/access/denials", json={"verb": "fly", "resource": "pods"}).status_code == 400
        assert http.post("/llmd-sim/v1/access/denials", json=["x"]).status_code == 400
    assert _can_i(kubectl, "list", "pods", "-n", NS) == "yes"


def test_rbac_manifests_an_epp_needs(kubectl: Kubectl, api: client.ApiClient) -> None:
    out = kubectl.run("apply", "-f", "-", stdin=EPP_RBAC)
    assert out.count("created") == 5
    assert "serverside-applied" in kubectl.run("apply", "--server-side", "-f", "-", stdin=EPP_RBAC)
    listed = kubectl.run("get", "serviceaccounts,roles,rolebindings", "-n", NS, "-o", "name")
    assert all(name in listed for name in RBAC_OBJECTS[:3])
    role = client.RbacAuthorizationV1Api(api).read_namespaced_role("epp", NS)
    assert [(r.resources, r.verbs) for r in role.rules] == [
        (["pods"], ["get", "list", "watch"]),
        (["inferencepools"], ["get", "list", "watch"]),
    ]
    assert "acc-epp-metrics" in kubectl.run("get", "clusterroles,clusterrolebindings", "-o", "name")
    deleted = kubectl.run("delete", "-f", "-", stdin=EPP_RBAC)
    assert deleted.count("deleted") == 5
    assert kubectl.run("get", "roles,rolebindings,serviceaccounts", "-n", NS, "-o", "name").count("/epp") == 0
