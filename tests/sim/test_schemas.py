"""OpenAPI schemas and field validation: kubectl explain, fieldValidation, CRD schemas enforced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import Kubectl, wait_for

CM = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
WIDGETS = f"/apis/example.com/v1/namespaces/{NAMESPACE}/widgets"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
# A CRD with one field per structural-schema rule the API server enforces.
WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "description": "What the widget should be.",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "string", "enum": ["small", "large"]},
                                    "priority": {"type": "integer", "minimum": 0, "maximum": 10},
                                    "code": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                                    "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def http(sim: SimCluster) -> httpx.Client:
    client = httpx.Client(base_url=sim.url, timeout=30)
    if client.get(f"{CRDS}/widgets.example.com").status_code == 404:
        assert client.post(CRDS, json=WIDGET_CRD).status_code == 201
    wait_for(lambda: client.get(WIDGETS).status_code == 200, message="the Widget resource to be served")
    return client


def widget(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


def invalid(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["reason"] == "Invalid", body
    return dict(body)


# ---- kubectl explain ------------------------------------------------------------------


EXPLAINED = {
    "pod.spec.containers": [
        "KIND:       Pod\nVERSION:    v1\n",
        "FIELD: containers <[]Container>",
        "A single application container that you want to run within a pod.",
        "  name\t<string> -required-\n    Name of the container specified as a DNS_LABEL.",
        "  ports\t<[]ContainerPort>\n",
        "  resources\t<ResourceRequirements>\n",
        "  image\t<string>\n    Container image name.",
        # Fields of the real model, not of a sketch of it.
        *(f"  {field}\t<" for field in ("envFrom", "lifecycle", "securityContext", "volumeDevices", "workingDir")),
    ],
    "inferencepool.spec": [
        "GROUP:      inference.networking.k8s.io\nKIND:       InferencePool\nVERSION:    v1\n",
        "FIELD: spec <Object>",
        "Spec defines the desired state of the InferencePool.",
        "  endpointPickerRef\t<Object> -required-\n",
        "  selector\t<Object> -required-\n    Selector determines which Pods are members of this inference pool.",
        "  targetPorts\t<[]Object> -required-\n",
    ],
    "inferencepool.spec.targetPorts.number": ["FIELD: number <integer>"],
    "service.spec.ports.targetPort": ["FIELD: targetPort <IntOrString>"],
    "deployment.spec.template.spec.containers.resources": ["  limits\t<map[string]Quantity>\n"],
}


@pytest.mark.parametrize("path", list(EXPLAINED))
def test_explain(kubectl: Kubectl, path: str) -> None:
    out = kubectl.run("explain", path)
    assert [text for text in EXPLAINED[path] if text not in out] == []


def test_explain_a_crd_created_at_run_time(kubectl: Kubectl, http: httpx.Client) -> None:
    out = kubectl.run("explain", "widgets.spec")
    assert "What the widget should be." in out
    assert "  size\t<string> -required-\n  enum: small, large" in out


# ---- fieldValidation with kubectl ------------------------------------------------------------


def _manifest(tmp_path: Path, name: str, extra: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {NAMESPACE}\ndata:\n  a: b\n{extra}"
    )
    return str(path)


def test_apply_with_an_unknown_field_warns_and_drops_it(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _manifest(tmp_path, "fv-warn", "spec:\n  foo: 1\n")
    out = kubectl.run("apply", "--validate=warn", "-f", path, check=False)
    assert 'Warning: unknown field "spec"' in out
    assert "configmap/fv-warn created" in out
    stored = json.loads(kubectl.run("get", "configmap", "fv-warn", "-n", NAMESPACE, "-o", "json"))
    assert "spec" not in stored and stored["data"] == {"a": "b"}


def test_apply_strict_refuses_an_unknown_field(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _manifest(tmp_path, "fv-strict", "")
    nested = tmp_path / "nested.yaml"
    nested.write_text(Path(path).read_text().replace("  namespace:", "  bogus: 1\n  namespace:"))
    for flags in (["--validate=strict"], []):  # strict is kubectl 1.32's default
        out = kubectl.run("apply", *flags, "-f", str(nested), check=False)
        assert (
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
            'unknown field "metadata.bogus"'
        ) in out
    assert "NotFound" in kubectl.run("get", "configmap", "fv-strict", "-n", NAMESPACE, check=False)


def _pool_manifest(tmp_path: Path, name: str, target_ports: str, extra: str = "") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\n"
        f"metadata:\n  name: {name}\n  namespace: {NAMESPACE}\n"
        f"spec:\n  selector:\n    matchLabels: {{a: b}}\n  targetPorts: {target_ports}\n"
        f"  endpointPickerRef: {{name: e, port: {{number: 9002}}}}\n{extra}"
    )
    return str(path)


def test_crd_type_violation_is_422_with_the_api_servers_message(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _pool_manifest(tmp_path, "typed-pool", "[{number: high}]")
    out = kubectl.run("apply", "-f", path, check=False)
    assert (
        'The InferencePool "typed-pool" is invalid: spec.targetPorts[0].number: Invalid value: "string": '
        'spec.targetPorts[0].number in body must be of type integer: "string"'
    ) in out
    assert "NotFound" in kubectl.run("get", "inferencepool", "typed-pool", "-n", NAMESPACE, check=False)


def test_crd_unknown_fields_are_pruned(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _pool_manifest(tmp_path, "pruned-pool", "[{number: 8000, weight: 3}]", "  priority: 1\n")
    out = kubectl.run("apply", "--validate=strict", "-f", path, check=False)
    assert 'strict decoding error: unknown field "spec.priority", unknown field "spec.targetPorts[0].weight"' in out
    out = kubectl.run("apply", "--validate=ignore", "-f", path, check=False)
    assert "created" in out and "Warning" not in out
    spec = json.loads(kubectl.run("get", "inferencepool", "pruned-pool", "-n", NAMESPACE, "-o", "json"))["spec"]
    assert "priority" not in spec and spec["targetPorts"] == [{"number": 8000}]
    # The CRD's defaults are filled in, as the API server's structural defaulting does.
    assert spec["endpointPickerRef"] == {
        "name": "e",
        "port": {"number": 9002},
        "group": "",
        "kind": "Service",
        "failureMode": "FailClose",
    }


# ---- the same rules over HTTP, with the exact Status -------------------------------------------


def test_field_validation_directives(http: httpx.Client) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fv-http"}, "data": {}, "spec": {}}
    resp = http.post(CM, json=body, params={"fieldValidation": "Strict"})
    assert resp.status_code == 400 and resp.json()["reason"] == "BadRequest"
    assert resp.json()["message"].endswith('strict decoding error: unknown field "spec"')
    resp = http.post(CM, json=body)  # no parameter: the server's default, Warn
    assert resp.status_code == 201 and resp.headers.get_list("Warning") == ['299 - "unknown field \\"spec\\""']
    assert "spec" not in resp.json()
    resp = http.patch(
        f"{CM}/fv-http",
        content='{"spec": {"x": 1}}',
        headers={"Content-Type": "application/merge-patch+json"},
        params={"fieldValidation": "Strict"},
    )
    message = invalid(resp)["message"]
    assert message.startswith('"" is invalid: patch: Invalid value: "{\\"apiVersion\\":\\"v1\\",\\"data\\":{},')
    assert message.endswith('\\"spec\\":{\\"x\\":1}}": strict decoding error: unknown field "spec"')
    resp = http.patch(
        f"{CM}/fv-http",
        content='{"spec": {"x": 1}}',
        headers={"Content-Type": "application/strategic-merge-patch+json"},
        params={"fieldValidation": "Strict"},
    )
    assert invalid(resp)["message"] == (
        '"" is invalid: patch: Invalid value: "map[spec:map[x:1]]": strict decoding error: unknown field "spec"'
    )
    resp = http.patch(
        f"{CM}/fv-http",
        content='{"data": {"k": "v"}, "spec": {}}',
        headers={"Content-Type": "application/merge-patch+json"},
        params={"fieldValidation": "Ignore"},
    )
    assert resp.status_code == 200 and "Warning" not in resp.headers and resp.json()["data"] == {"k": "v"}
    resp = http.post(CM, json=body, params={"fieldValidation": "Loose"})
    assert invalid(resp)["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loose": '
        'supported values: "", "Ignore", "Strict", "Warn"'
    )


def test_server_side_apply_of_an_unknown_field_fails_typed_conversion(http: httpx.Client) -> None:
    resp = http.patch(
        f"{CM}/fv-ssa",
        content=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fv-ssa"}, "spec": {}}),
        headers={"Content-Type": "application/apply-patch+yaml"},
        params={"fieldManager": "test"},
    )
    assert resp.status_code == 500
    assert resp.json()["message"] == (
        f"failed to create typed patch object ({NAMESPACE}/fv-ssa; /v1, Kind=ConfigMap): "
        ".spec: field not declared in schema"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"size": "small", "priority": "high"},
            'spec.priority: Invalid value: "string": spec.priority in body must be of type integer: "string"',
        ),
        ({"priority": 1}, "spec.size: Required value"),
        ({"size": "medium"}, 'spec.size: Unsupported value: "medium": supported values: "small", "large"'),
        (
            {"size": "small", "priority": 11},
            "spec.priority: Invalid value: 11: spec.priority in body should be less than or equal to 10",
        ),
        (
            {"size": "small", "priority": -1},
            "spec.priority: Invalid value: -1: spec.priority in body should be greater than or equal to 0",
        ),
        ({"size": "small", "code": "abcdef"}, "spec.code: Too long: may not be more than 5 bytes"),
        (
            {"size": "small", "code": "AB"},
            "spec.code: Invalid value: \"AB\": spec.code in body should match '^[a-z]+$'",
        ),
        ({"size": "small", "tags": ["a", "b", "c"]}, "spec.tags: Too many: 3: must have at most 2 items"),
    ],
)
def test_crd_schema_rules(http: httpx.Client, spec: dict[str, Any], message: str) -> None:
    body = invalid(http.post(WIDGETS, json=widget("bad", spec)))
    assert body["message"] == f'Widget.example.com "bad" is invalid: {message}'
    assert body["details"]["causes"][0]["field"] == message.split(":", maxsplit=1)[0]
    assert http.get(f"{WIDGETS}/bad").status_code == 404


def test_crd_errors_are_all_reported(http: httpx.Client) -> None:
    body = invalid(http.post(WIDGETS, json=widget("bad2", {"priority": 99})))
    assert body["message"] == (
        'Widget.example.com "bad2" is invalid: [spec.size: Required value, '
        "spec.priority: Invalid value: 99: spec.priority in body should be less than or equal to 10]"
    )
    assert [c["reason"] for c in body["details"]["causes"]] == ["FieldValueRequired", "FieldValueInvalid"]


def test_crd_pruning_keeps_preserved_subtrees(http: httpx.Client) -> None:
    spec = {"size": "large", "colour": "red", "extra": {"anything": {"goes": [1]}}}
    resp = http.post(WIDGETS, json=widget("pruned", spec), params={"fieldValidation": "Ignore"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["spec"] == {"size": "large", "extra": {"anything": {"goes": [1]}}}
    assert http.get(f"{WIDGETS}/pruned").json()["spec"] == resp.json()["spec"]


# ---- the documents ----------------------------------------------------------------------------


def test_openapi_index_hash_follows_the_crd(http: httpx.Client) -> None:
    def url() -> str:
        return str(http.get("/openapi/v3").json()["paths"]["apis/example.com/v1"]["serverRelativeURL"])

    before = url()
    doc = http.get(before).json()
    assert doc["components"]["schemas"]["com.example.v1.Widget"]["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "version": "v1", "kind": "Widget"}
    ]
    crd = http.get(f"{CRDS}/widgets.example.com").json()
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["description"] = "Changed."
    assert http.put(f"{CRDS}/widgets.example.com", json=crd).status_code == 200
    assert url() != before
    stale = http.get(before)  # as kube-openapi does: a stale hash is redirected to the current one
    assert stale.status_code == 301 and stale.headers["Location"] == url()
    assert http.get(url()).headers["Cache-Control"] == "public, immutable"
    changed = http.get(url()).json()["components"]["schemas"]["com.example.v1.Widget"]
    assert changed["properties"]["spec"]["description"] == "Changed."


def test_openapi_v2_is_served_as_json(http: httpx.Client) -> None:
    resp = http.get("/openapi/v2", headers={"Accept": "application/json"})
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["swagger"] == "2.0"
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"
    assert doc["definitions"]["io.k8s.api.core.v1.Container"]["required"] == ["name"]
    assert "io.k8s.networking.inference.v1.InferencePool" in doc["definitions"]
    proto = http.get("/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert proto.status_code == 406 and proto.json()["reason"] == "NotAcceptable"


def test_python_client_field_validation(kubeconfig: Path) -> None:
    """The official client's dynamic client (the typed one refuses unknown fields itself)."""
    from kubernetes import client, config, dynamic
    from kubernetes.client.rest import ApiException

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api_client:
        configmaps = dynamic.DynamicClient(api_client).resources.get(api_version="v1", kind="ConfigMap")
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fv-client"}, "spec": {"x": 1}}
        with pytest.raises(ApiException) as refused:
            configmaps.create(body=body, namespace=NAMESPACE, query_params=[("fieldValidation", "Strict")])
        assert refused.value.status == 400
        assert 'strict decoding error: unknown field "spec"' in json.loads(refused.value.body)["message"]
        created = configmaps.create(body=body, namespace=NAMESPACE, query_params=[("fieldValidation", "Ignore")])
        assert created.metadata.name == "fv-client"
        assert "spec" not in configmaps.get(name="fv-client", namespace=NAMESPACE).to_dict()
