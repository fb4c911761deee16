"""Server-side apply against the simulator: managedFields, ownership, conflicts, removal.

Driven by the real ``kubectl apply --server-side`` and the Python kubernetes client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.conftest import Kubectl
from tests.sim.manifests import web_deployment

NS = "ssa"
CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: ssa
  labels:
    {labels}
data:
  {data}
"""


@pytest.fixture(scope="module", autouse=True)
def _namespace(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", NS)


def _apply(kubectl: Kubectl, manifest: str, *args: str, check: bool = True) -> str:
    return kubectl.run("apply", "--server-side", "-f", "-", *args, stdin=manifest, check=check)


def _managed(kubectl: Kubectl, *target: str) -> list[dict[str, Any]]:
    doc = json.loads(kubectl.run("get", *target, "-n", NS, "-o", "json", "--show-managed-fields"))
    fields: list[dict[str, Any]] = doc["metadata"]["managedFields"]
    return fields


def test_apply_records_the_manager_and_its_fields(kubectl: Kubectl) -> None:
    manifest = CONFIG.format(name="one", labels="team: a", data="k: v")
    assert "serverside-applied" in _apply(kubectl, manifest, "--field-manager", "alice")
    [entry] = _managed(kubectl, "configmap", "one")
    assert entry["manager"] == "alice" and entry["operation"] == "Apply" and entry["apiVersion"] == "v1"
    assert entry["fieldsType"] == "FieldsV1" and entry["time"]
    assert entry["fieldsV1"] == {"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:team": {}}}}
    # The plain yaml output hides them, as kubectl does with a real server.
    assert "managedFields" not in kubectl.run("get", "configmap", "one", "-n", NS, "-o", "yaml")
    shown = yaml.safe_load(kubectl.run("get", "configmap", "one", "-n", NS, "-o", "yaml", "--show-managed-fields"))
    assert shown["metadata"]["managedFields"][0]["manager"] == "alice"


def test_a_second_manager_changing_a_field_conflicts_until_forced(kubectl: Kubectl) -> None:
    _apply(kubectl, CONFIG.format(name="two", labels="team: a", data="k: v"), "--field-manager", "alice")
    out = _apply(
        kubectl, CONFIG.format(name="two", labels="team: a", data="k: other"), "--field-manager", "bob", check=False
    )
    assert 'Apply failed with 1 conflict: conflict with "alice": .data.k' in out
    assert json.loads(kubectl.run("get", "configmap", "two", "-n", NS, "-o", "json"))["data"] == {"k": "v"}
    # Same values are shared, not a conflict.
    _apply(kubectl, CONFIG.format(name="two", labels="team: a", data="k: v"), "--field-manager", "carol")
    managers = {e["manager"] for e in _managed(kubectl, "configmap", "two")}
    assert managers == {"alice", "carol"}
    _apply(
        kubectl,
        CONFIG.format(name="two", labels="team: a", data="k: other"),
        "--field-manager",
        "bob",
        "--force-conflicts",
    )
    entries = {e["manager"]: e["fieldsV1"] for e in _managed(kubectl, "configmap", "two")}
    assert entries["bob"] == {"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:team": {}}}}
    assert "f:data" not in entries["alice"] and "f:data" not in entries["carol"]


def test_a_field_dropped_from_the_manifest_is_removed(kubectl: Kubectl) -> None:
    _apply(
        kubectl,
        CONFIG.format(name="three", labels="{team: a, tier: b}", data="{k: v, gone: x}"),
        "--field-manager",
        "alice",
    )
    _apply(kubectl, CONFIG.format(name="three", labels="team: a", data="k: v"), "--field-manager", "alice")
    doc = json.loads(kubectl.run("get", "configmap", "three", "-n", NS, "-o", "json"))
    assert doc["data"] == {"k": "v"} and doc["metadata"]["labels"] == {"team": "a"}


def test_a_field_another_manager_also_owns_is_kept(kubectl: Kubectl) -> None:
    _apply(kubectl, CONFIG.format(name="four", labels="team: a", data="{k: v, shared: s}"), "--field-manager", "alice")
    _apply(kubectl, CONFIG.format(name="four", labels="team: a", data="shared: s"), "--field-manager", "bob")
    _apply(kubectl, CONFIG.format(name="four", labels="team: a", data="k: v"), "--field-manager", "alice")
    assert json.loads(kubectl.run("get", "configmap", "four", "-n", NS, "-o", "json"))["data"] == {
        "k": "v",
        "shared": "s",
    }


def test_client_side_apply_then_server_side_names_the_update_manager(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=web_deployment(NS, 1, env=""))
    entries = _managed(kubectl, "deployment", "web")
    csa = next(e for e in entries if e["manager"] == "kubectl-client-side-apply")
    assert csa["operation"] == "Update"
    out = _apply(kubectl, web_deployment(NS, 3, env=""), check=False)
    assert "Apply failed with 1 conflict: conflict with " in out
    assert '"kubectl-client-side-apply" using apps/v1 at ' in out and out.strip().splitlines()[0].endswith(
        ": .spec.replicas"
    )
    assert "--force-conflicts" in out  # kubectl's own advice follows the server's message


def test_dropping_a_list_item_removes_it(kubectl: Kubectl) -> None:
    env = "{name: A, value: '1'}, {name: B, value: '2'}"
    _apply(kubectl, web_deployment(NS, 1, env=env), "--field-manager", "deployer", "--force-conflicts")
    _apply(kubectl, web_deployment(NS, 1, env="{name: A, value: '1'}"), "--field-manager", "deployer")
    doc = json.loads(kubectl.run("get", "deployment", "web", "-n", NS, "-o", "json"))
    assert doc["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    deployer = next(e for e in _managed(kubectl, "deployment", "web") if e["manager"] == "deployer")
    container = deployer["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert set(container["f:env"]) == {'k:{"name":"A"}'}


def test_scale_and_patch_record_update_managers(kubectl: Kubectl, api: client.ApiClient) -> None:
    kubectl.run("scale", "deployment", "web", "-n", NS, "--replicas", "2")
    scaler = next(e for e in _managed(kubectl, "deployment", "web") if e.get("subresource") == "scale")
    assert scaler["operation"] == "Update" and scaler["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    apps = client.AppsV1Api(api)
    apps.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"x": "y"}}}, field_manager="py-patcher")
    dep = apps.read_namespaced_deployment("web", NS)
    patcher = next(e for e in dep.metadata.managed_fields if e.manager == "py-patcher")
    assert patcher.operation == "Update" and patcher.fields_v1 == {"f:metadata": {"f:labels": {"f:x": {}}}}


def test_apply_through_the_python_client(api: client.ApiClient) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"a": "1"}}
    core = client.CoreV1Api(api)
    apply = "application/apply-patch+yaml"
    with pytest.raises(ApiException) as missing:
        core.patch_namespaced_config_map("py", NS, body, _content_type=apply)
    assert missing.value.status == 422 and "fieldManager: Required value" in str(missing.value.body)
    core.patch_namespaced_config_map("py", NS, body, field_manager="one", _content_type=apply)
    body["data"] = {"a": "2"}
    with pytest.raises(ApiException) as conflict:
        core.patch_namespaced_config_map("py", NS, body, field_manager="two", _content_type=apply)
    status = json.loads(conflict.value.body)
    assert status["code"] == 409 and status["reason"] == "Conflict"
    assert status["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "one"', "field": ".data.a"}
    ]
    assert core.read_namespaced_config_map("py", NS).data == {"a": "1"}
    core.patch_namespaced_config_map("py", NS, body, field_manager="two", force=True, _content_type=apply)
    assert core.read_namespaced_config_map("py", NS).data == {"a": "2"}


def test_applying_the_same_manifest_again_changes_nothing(kubectl: Kubectl) -> None:
    manifest = CONFIG.format(name="same", labels="team: a", data="k: v")
    _apply(kubectl, manifest, "--field-manager", "alice")
    before = json.loads(kubectl.run("get", "configmap", "same", "-n", NS, "-o", "json", "--show-managed-fields"))
    _apply(kubectl, manifest, "--field-manager", "alice")
    after = json.loads(kubectl.run("get", "configmap", "same", "-n", NS, "-o", "json", "--show-managed-fields"))
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["metadata"]["managedFields"] == before["metadata"]["managedFields"]


def test_kubectl_moves_client_side_ownership_to_server_side_apply(kubectl: Kubectl) -> None:
    manifest = CONFIG.format(name="moved", labels="team: a", data="k: v")
    kubectl.run("apply", "-f", "-", stdin=manifest)
    assert [e["manager"] for e in _managed(kubectl, "configmap", "moved")] == ["kubectl-client-side-apply"]
    _apply(kubectl, manifest)
    # kubectl rewrites the managedFields (a JSON patch) once its server-side apply succeeded.
    entries = {(e["manager"], e["operation"]) for e in _managed(kubectl, "configmap", "moved")}
    assert ("kubectl", "Apply") in entries and ("kubectl-client-side-apply", "Update") not in entries
    _apply(kubectl, CONFIG.format(name="moved", labels="team: a", data="other: v"))
    assert json.loads(kubectl.run("get", "configmap", "moved", "-n", NS, "-o", "json"))["data"] == {"other": "v"}
