"""``dryRun=All`` on every write verb: validated and answered as if done, nothing stored."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from llmd_console.sim import SimCluster
from tests.conftest import Kubectl
from tests.sim.manifests import web_deployment

NS = "dry"


@pytest.fixture(scope="module", autouse=True)
def _namespace(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", NS)
    kubectl.run("create", "configmap", "kept", "-n", NS, "--from-literal=k=v")


def _names(kubectl: Kubectl, kind: str) -> list[str]:
    doc = json.loads(kubectl.run("get", kind, "-n", NS, "-o", "json"))
    return [item["metadata"]["name"] for item in doc["items"]]


def test_server_side_apply_dry_run_creates_nothing(kubectl: Kubectl) -> None:
    out = kubectl.run("apply", "--server-side", "--dry-run=server", "-f", "-", stdin=web_deployment(NS, 2))
    assert "deployment.apps/web serverside-applied (server dry run)" in out
    printed = json.loads(
        kubectl.run(
            "apply",
            "--server-side",
            "--dry-run=server",
            "--show-managed-fields",
            "-o",
            "json",
            "-f",
            "-",
            stdin=web_deployment(NS, 2),
        )
    )
    assert printed["spec"]["replicas"] == 2 and printed["metadata"]["managedFields"][0]["manager"] == "kubectl"
    assert _names(kubectl, "deployments") == []
    assert _names(kubectl, "replicasets") == [] and _names(kubectl, "events") == []


def test_dry_run_rejects_what_the_real_write_would(kubectl: Kubectl) -> None:
    bad = web_deployment(NS, -1)
    out = kubectl.run("apply", "--server-side", "--dry-run=server", "-f", "-", stdin=bad, check=False)
    assert "spec.replicas" in out and "Invalid" in out


def test_delete_dry_run_keeps_the_object(kubectl: Kubectl) -> None:
    out = kubectl.run("delete", "configmap", "kept", "-n", NS, "--dry-run=server")
    assert 'configmap "kept" deleted (server dry run)' in out
    assert "kept" in _names(kubectl, "configmaps")


def test_every_write_verb_through_the_python_client(kubectl: Kubectl, api: client.ApiClient) -> None:
    kubectl.run("apply", "--server-side", "-f", "-", stdin=web_deployment(NS, 1))
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    before = apps.read_namespaced_deployment("web", NS)
    generation = before.metadata.generation
    scaled = apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 5}}, dry_run="All")
    assert scaled.spec.replicas == 5
    apps.replace_namespaced_deployment_scale(
        "web", NS, {"metadata": {"name": "web"}, "spec": {"replicas": 4}}, dry_run="All"
    )
    patched = apps.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"x": "y"}}}, dry_run="All")
    assert patched.metadata.labels == {"x": "y"}
    before.spec.replicas = 3
    before.metadata.resource_version = None  # the controllers move it while the test runs
    assert apps.replace_namespaced_deployment("web", NS, before, dry_run="All").spec.replicas == 3
    apps.delete_namespaced_deployment("web", NS, dry_run="All")
    after = apps.read_namespaced_deployment("web", NS)
    assert after.metadata.generation == generation and after.spec.replicas == 1 and not after.metadata.labels
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="new"), data={"a": "b"})
    created = core.create_namespaced_config_map(NS, body, dry_run="All")
    assert created.metadata.uid and created.metadata.creation_timestamp
    core.delete_collection_namespaced_config_map(NS, dry_run="All")
    names = _names(kubectl, "configmaps")
    assert "kept" in names and "new" not in names
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(
            NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="kept")), dry_run="All"
        )
    assert exists.value.status == 409
    with pytest.raises(ApiException) as bad:
        core.create_namespaced_config_map(NS, body, dry_run="Some")
    assert bad.value.status == 422 and 'dryRun: Unsupported value: \\"Some\\"' in str(bad.value.body)


def test_a_dry_run_service_borrows_no_cluster_ip(sim: SimCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    spec = client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80)])
    body = client.V1Service(metadata=client.V1ObjectMeta(name="web"), spec=spec)
    ip = core.create_namespaced_service(NS, body, dry_run="All").spec.cluster_ip
    assert ip and not sim.call(lambda: sim.ctx.service_ips.in_use(ip))
    real = core.create_namespaced_service(NS, body).spec.cluster_ip
    assert sim.call(lambda: sim.ctx.service_ips.in_use(real))


def test_a_dry_run_apply_of_the_live_manifest_matches_the_live_object(kubectl: Kubectl) -> None:
    """What a deploy preview diffs: the dry-run answer against the live object is empty
    when the manifest is what was applied, after the controllers have had their say."""
    manifest = web_deployment(NS, 1).replace("name: web\n", "name: again\n", 1).replace("app: web", "app: again")
    kubectl.run("apply", "--server-side", "--field-manager=deployer", "-f", "-", stdin=manifest)
    kubectl.run("rollout", "status", "deploy/again", "-n", NS, "--timeout=30s", timeout=40)
    dry = json.loads(
        kubectl.run(
            "apply",
            "--server-side",
            "--field-manager=deployer",
            "--dry-run=server",
            "--show-managed-fields",
            "-o",
            "json",
            "-f",
            "-",
            stdin=manifest,
        )
    )
    live = json.loads(kubectl.run("get", "deploy", "again", "-n", NS, "-o", "json", "--show-managed-fields"))
    for doc in (dry, live):
        doc["metadata"].pop("resourceVersion")
        doc.pop("status")
    assert dry == live
