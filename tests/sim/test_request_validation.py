"""Malformed query parameters and bodies are refused with a 4xx Status, and the server keeps answering."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE

CM = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"


@pytest.fixture(scope="module")
def http(sim: SimCluster) -> httpx.Client:
    return httpx.Client(base_url=sim.url, timeout=10)


def status_of(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert body["kind"] == "Status" and body["status"] == "Failure", body
    assert body["code"] == code and body["reason"] == reason, body
    return dict(body)


def assert_responsive(http: httpx.Client) -> None:
    """/version answers promptly (the event loop is not stuck)."""
    started = time.monotonic()
    resp = http.get("/version")
    assert resp.status_code == 200 and resp.json()["major"] == "1"
    assert time.monotonic() - started < 1.0


def a_running_pod(http: httpx.Client) -> str:
    pods = http.get(PODS).json()["items"]
    running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
    assert running, "the Pattern 1 world has running pods"
    return str(running[0]["metadata"]["name"])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400", "1.5", " 1", "1_0", "abc", "", "9" * 30])
def test_watch_timeout_must_be_an_integer(http: httpx.Client, value: str) -> None:
    resp = http.get(CM, params={"watch": "true", "timeoutSeconds": value})
    body = status_of(resp, 400, "BadRequest")
    assert "timeoutSeconds" in body["message"]
    assert_responsive(http)


def test_nan_timeout_does_not_stop_timers(http: httpx.Client) -> None:
    for _ in range(3):
        http.get(CM, params={"watch": "true", "timeoutSeconds": "nan"})
    # A watch with a real timeout still ends on time: the loop's timers still fire.
    started = time.monotonic()
    resp = http.get(CM, params={"watch": "true", "timeoutSeconds": "1", "resourceVersion": "1"}, timeout=10)
    assert resp.status_code == 200
    assert time.monotonic() - started < 5
    assert_responsive(http)


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", "nan"), ("limit", "1e400"), ("limit", "-inf"), ("gracePeriodSeconds", "0.5")],
)
def test_list_and_delete_integers(http: httpx.Client, param: str, value: str) -> None:
    method = "DELETE" if param == "gracePeriodSeconds" else "GET"
    url = f"{CM}/does-not-matter" if method == "DELETE" else CM
    status_of(http.request(method, url, params={param: value}), 400, "BadRequest")
    assert_responsive(http)


def test_a_valid_limit_still_pages(http: httpx.Client) -> None:
    page = http.get(PODS, params={"limit": "1"}).json()
    assert len(page["items"]) == 1 and page["metadata"].get("continue")


@pytest.mark.parametrize("param", ["tailLines", "sinceSeconds", "limitBytes"])
@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "2.5"])
def test_log_integers(http: httpx.Client, param: str, value: str) -> None:
    pod = a_running_pod(http)
    status_of(http.get(f"{PODS}/{pod}/log", params={param: value}), 400, "BadRequest")
    assert_responsive(http)


@pytest.mark.parametrize(("param", "value"), [("tailLines", "-1"), ("sinceSeconds", "0"), ("limitBytes", "0")])
def test_log_options_out_of_range(http: httpx.Client, param: str, value: str) -> None:
    pod = a_running_pod(http)
    body = status_of(http.get(f"{PODS}/{pod}/log", params={param: value}), 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == param
    assert_responsive(http)


def _yaml_configmap(name: str, data_line: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {data_line}\n"


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("yaml-timestamp", "when: 2024-01-01T00:00:00Z"),
        ("yaml-date", "when: 2024-01-01"),
        ("yaml-binary", "blob: !!binary aGVsbG8="),
        ("yaml-set", "s: !!set {a, b}"),
        ("yaml-nan", "n: .nan"),
        ("yaml-inf", "n: -.inf"),
        ("yaml-int-key", "1: one"),
        ("yaml-bigint", "n: 123456789012345678901234567890"),
    ],
)
def test_yaml_bodies_must_be_json_compatible(http: httpx.Client, name: str, line: str) -> None:
    resp = http.post(CM, content=_yaml_configmap(name, line), headers={"Content-Type": "application/yaml"})
    assert "error converting YAML" in status_of(resp, 400, "BadRequest")["message"]
    status_of(http.get(f"{CM}/{name}"), 404, "NotFound")
    # Nothing unserialisable was stored: JSON list and watch of the type keep working.
    assert http.get(CM).status_code == 200
    assert http.get(PODS).status_code == 200
    assert_responsive(http)


def test_yaml_timestamp_pod_is_not_stored(http: httpx.Client) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ts-pod\n  annotations:\n    at: 2024-01-01T00:00:00Z\n"
        "spec:\n  containers:\n  - name: c\n    image: busybox\n"
    )
    status_of(http.post(PODS, content=pod, headers={"Content-Type": "application/yaml"}), 400, "BadRequest")
    assert http.get(PODS).status_code == 200
    resp = http.get(PODS, params={"watch": "true", "timeoutSeconds": "1"})
    assert resp.status_code == 200 and '"ERROR"' not in resp.text


@pytest.mark.parametrize(
    "body",
    [
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nan-json"},"data":{"a":NaN}}',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"inf-json"},"data":{"a":Infinity}}',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big-json"},"data":{"a":1e400}}',
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"long-json"},"data":{"a":' + "9" * 5000 + "}}",
    ],
)
def test_json_bodies_must_be_finite(http: httpx.Client, body: str) -> None:
    status_of(http.post(CM, content=body, headers={"Content-Type": "application/json"}), 400, "BadRequest")
    assert_responsive(http)


@pytest.mark.parametrize("depth", [150, 5_000, 200_000])
def test_deeply_nested_json_is_refused(http: httpx.Client, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":' + nested + "}"
    resp = http.post(CM, content=body, headers={"Content-Type": "application/json"})
    assert "nested" in status_of(resp, 400, "BadRequest")["message"]
    resp = http.patch(f"{CM}/deep", content=body, headers={"Content-Type": "application/merge-patch+json"})
    status_of(resp, 400, "BadRequest")
    assert_responsive(http)


@pytest.mark.parametrize("depth", [150, 5_000])
def test_deeply_nested_yaml_is_refused(http: httpx.Client, depth: int) -> None:
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep-yaml\nx: " + "[" * depth + "]" * depth + "\n"
    resp = http.post(CM, content=body, headers={"Content-Type": "application/yaml"})
    status_of(resp, 400, "BadRequest")
    assert_responsive(http)


def test_yaml_alias_bomb_is_refused(http: httpx.Client) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n" + "\n".join(lines) + "\n"
    resp = http.post(CM, content=body, headers={"Content-Type": "application/yaml"})
    assert "more than" in status_of(resp, 400, "BadRequest")["message"]
    status_of(http.get(f"{CM}/bomb"), 404, "NotFound")
    assert_responsive(http)


def test_lone_surrogates_become_replacement_characters(http: httpx.Client) -> None:
    body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"surrogate"},"data":{"a":"x\\ud800y"}}'
    resp = http.post(CM, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text
    assert http.get(f"{CM}/surrogate").json()["data"]["a"] == "x\ufffdy"


DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
SERVICES = f"/api/v1/namespaces/{NAMESPACE}/services"


def _deployment(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    body["spec"].update(spec)
    return body


def _pod(name: str, container: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 7}}, "metadata.name"),
        (CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ["a"]}}, "metadata.name"),
        (CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l", "labels": ["a"]}}, "labels"),
        (CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}, "data": {"a": 1}}, "data"),
        (SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": []}, "Service.spec"),
        (
            SERVICES,
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": "80"}]}},
            "port",
        ),
        (PODS, _pod("p", {"name": "c", "image": "i", "resources": "lots"}), "resources"),
        (PODS, _pod("p", {"name": "c", "image": "i", "resources": {"limits": []}}), "limits"),
        (PODS, _pod("p", {"name": "c", "image": ["i"]}), "image"),
        (PODS, _pod("p", {"name": "c", "image": "i", "readinessProbe": {"periodSeconds": "x"}}), "periodSeconds"),
        (PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": {}}}, "Pod.spec"),
        (DEPLOYMENTS, _deployment("d", selector="app=d"), "selector"),
        (DEPLOYMENTS, _deployment("d", selector={"matchLabels": ["app"]}), "matchLabels"),
        (DEPLOYMENTS, _deployment("d", template=[]), "template"),
        (DEPLOYMENTS, _deployment("d", template={"spec": "x"}), "template.spec"),
        (DEPLOYMENTS, _deployment("d", replicas="3"), "replicas"),
        (DEPLOYMENTS, _deployment("d", replicas=2**31), "replicas"),
        (DEPLOYMENTS, _deployment("d", replicas=1.5), "replicas"),
        (DEPLOYMENTS, _deployment("d", strategy={"rollingUpdate": {"maxSurge": True}}), "maxSurge"),
    ],
)
def test_wrongly_typed_fields_are_bad_requests(http: httpx.Client, url: str, body: dict[str, Any], field: str) -> None:
    message = status_of(http.post(url, json=body), 400, "BadRequest")["message"]
    assert "cannot unmarshal" in message and field in message
    assert_responsive(http)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_deployment("d", strategy={"type": "Sideways"}), "spec.strategy.type"),
        (_deployment("d", strategy={"rollingUpdate": {"maxSurge": "lots"}}), "spec.strategy.rollingUpdate.maxSurge"),
        (_deployment("d", replicas=-1), "spec.replicas"),
    ],
)
def test_invalid_deployments_are_unprocessable(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    body = status_of(http.post(DEPLOYMENTS, json=body), 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == field


def test_custom_resources_get_structural_schema_errors(http: httpx.Client) -> None:
    url = f"/apis/inference.networking.k8s.io/v1/namespaces/{NAMESPACE}/inferencepools"
    pool = {
        "apiVersion": "inference.networking.k8s.io/v1",
        "kind": "InferencePool",
        "metadata": {"name": "bad-pool"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "targetPorts": "8000"},
    }
    body = status_of(http.post(url, json=pool), 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "spec.targetPorts"
    assert "must be of type array" in body["message"]


def test_typed_patches_are_checked_too(http: httpx.Client) -> None:
    http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typed-patch"}})
    resp = http.patch(
        f"{CM}/typed-patch",
        content='{"metadata": {"labels": "x"}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    status_of(resp, 400, "BadRequest")
    resp = http.patch(
        f"{CM}/typed-patch",
        content='[{"op": "add", "path": "/data", "value": [1]}]',
        headers={"Content-Type": "application/json-patch+json"},
    )
    status_of(resp, 400, "BadRequest")
    assert http.get(f"{CM}/typed-patch").status_code == 200


def test_nulls_mean_unset(http: httpx.Client) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "null-fields", "labels": None, "creationTimestamp": None},
        "spec": {"selector": None, "ports": [{"port": 80, "targetPort": None}]},
    }
    resp = http.post(SERVICES, json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["spec"]["ports"][0]["targetPort"] == 80


def test_bad_delete_options(http: httpx.Client) -> None:
    resp = http.request("DELETE", f"{CM}/x", content='{"gracePeriodSeconds": "soon"}')
    status_of(resp, 400, "BadRequest")
    resp = http.request("DELETE", f"{CM}/x", params={"propagationPolicy": "Sometimes"})
    status_of(resp, 422, "Invalid")


@pytest.mark.parametrize("quantity", ["1e9999999999999", "1e40", ".", "1.2.3", "5 cores"])
def test_bad_quantities_are_unprocessable(http: httpx.Client, quantity: str) -> None:
    body = _pod("q", {"name": "c", "image": "i", "resources": {"requests": {"cpu": quantity}}})
    status_of(http.post(PODS, json=body), 422, "Invalid")
    assert_responsive(http)


def test_a_log_line_with_a_lone_surrogate_is_served(sim: SimCluster, http: httpx.Client) -> None:
    pod = a_running_pod(http)
    uid = http.get(f"{PODS}/{pod}").json()["metadata"]["uid"]
    container = http.get(f"{PODS}/{pod}").json()["spec"]["containers"][0]["name"]
    sim.call(lambda: sim.ctx.logs.write(uid, container, "bad \ud800 line"))
    resp = http.get(f"{PODS}/{pod}/log", params={"container": container, "tailLines": "5"})
    assert resp.status_code == 200 and "bad \ufffd" in resp.text


def test_deeply_nested_inference_bodies_are_refused(sim: SimCluster, http: httpx.Client) -> None:
    nested = '{"model": "m", "prompt": ' + "[" * 100_000 + "]" * 100_000 + "}"
    gateway = f"http://{sim.ctx.gateway_address}"
    resp = httpx.post(f"{gateway}/v1/completions", content=nested, headers={"Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500, resp.text
    decode = http.get(PODS, params={"labelSelector": "llm-d.ai/inferenceServing=true"}).json()["items"][0]
    url = f"{PODS}/{decode['metadata']['name']}:8000/proxy/v1/completions"
    resp = http.post(url, content=nested, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert_responsive(http)


def _cm(name: str, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_cm("trailing-newline\n"), "metadata.name"),
        (_cm("UPPER"), "metadata.name"),
        (_cm("x" * 254), "metadata.name"),
        (_cm("l1", labels={"bad key": "v"}), "metadata.labels"),
        (_cm("l2", labels={"/x": "v"}), "metadata.labels"),
        (_cm("l3", labels={"a/b/c": "v"}), "metadata.labels"),
        (_cm("l4", labels={"k" * 64: "v"}), "metadata.labels"),
        (_cm("l5", labels={"k": "esc\x1b[31m"}), "metadata.labels"),
        (_cm("l6", labels={"k": "v\n"}), "metadata.labels"),
        (_cm("l7", labels={"k": "v" * 64}), "metadata.labels"),
        (_cm("a1", annotations={"bad key": "v"}), "metadata.annotations"),
        (_cm("a2", annotations={"k": "v" * (256 * 1024 + 1)}), "metadata.annotations"),
    ],
)
def test_names_labels_and_annotations_follow_apimachinery(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    resp = status_of(http.post(CM, json=body), 422, "Invalid")
    assert resp["details"]["causes"][0]["field"] == field
    assert_responsive(http)


def test_service_and_namespace_names_are_labels(http: httpx.Client) -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}
    assert status_of(http.post(SERVICES, json=svc), 422, "Invalid")["details"]["causes"][0]["field"] == "metadata.name"
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "has.dot"}}
    status_of(http.post("/api/v1/namespaces", json=ns), 422, "Invalid")


def test_valid_labels_still_pass(http: httpx.Client) -> None:
    body = _cm("good-labels", labels={"app.kubernetes.io/name": "x", "k": "", "A_b.c-d": "V_1.2-3"})
    assert http.post(CM, json=body).status_code == 201


def test_template_labels_and_selectors_are_validated(http: httpx.Client) -> None:
    dep = _deployment("bad-template-labels")
    dep["spec"]["selector"]["matchLabels"] = {"app": "a b"}
    dep["spec"]["template"]["metadata"]["labels"] = {"app": "a b"}
    status_of(http.post(DEPLOYMENTS, json=dep), 422, "Invalid")


def test_size_limits(http: httpx.Client) -> None:
    big = _cm("ten-mb")
    big["data"] = {"blob": "x" * (10 * 1024 * 1024)}
    body = status_of(http.post(CM, json=big), 413, "RequestEntityTooLarge")
    assert body["message"] == "Request entity too large: limit is 3145728"
    status_of(http.get(f"{CM}/ten-mb"), 404, "NotFound")
    two = _cm("two-mb")
    two["data"] = {"blob": "x" * (2 * 1024 * 1024)}
    body = status_of(http.post(CM, json=two), 422, "Invalid")
    assert "Too long: must have at most 1048576 bytes" in body["message"]
    pod = _pod("huge-pod", {"name": "c", "image": "i", "args": ["x" * (2 * 1024 * 1024)]})
    status_of(http.post(PODS, json=pod), 413, "RequestEntityTooLarge")
    assert_responsive(http)


@pytest.mark.parametrize("selector", ["a=b=c", "a>abc", "a<1.5", "a=\x1b", "bad key=x", "a in (b c)", "a=" + "v" * 64])
def test_bad_label_selectors(http: httpx.Client, selector: str) -> None:
    status_of(http.get(PODS, params={"labelSelector": selector}), 400, "BadRequest")
    status_of(http.get(PODS, params={"labelSelector": selector, "watch": "true"}), 400, "BadRequest")


def test_good_label_selectors(http: httpx.Client) -> None:
    for selector in ("a=b", "a==b", "a!=b", "a", "!a", "a in (b, c)", "a notin (b)", "a>1", "a<-3", "x.io/y=z"):
        assert http.get(PODS, params={"labelSelector": selector}).status_code == 200, selector


def test_field_selectors_must_be_supported(http: httpx.Client) -> None:
    body = status_of(http.get(PODS, params={"fieldSelector": "spec.foo=bar"}), 400, "BadRequest")
    assert body["message"] == "field label not supported: spec.foo"
    status_of(http.get(CM, params={"fieldSelector": "status.phase=Running"}), 400, "BadRequest")
    status_of(http.get(PODS, params={"fieldSelector": "spec.foo=bar", "watch": "true"}), 400, "BadRequest")
    for ok in ("status.phase=Running", "spec.nodeName!=x", "metadata.name=x"):
        assert http.get(PODS, params={"fieldSelector": ok}).status_code == 200
    assert http.get(CM, params={"fieldSelector": "metadata.namespace=x"}).status_code == 200
    events = http.get(f"/api/v1/namespaces/{NAMESPACE}/events", params={"fieldSelector": "involvedObject.name=x"})
    assert events.status_code == 200


def test_watch_from_a_future_resource_version_times_out(http: httpx.Client) -> None:
    started = time.monotonic()
    resp = http.get(CM, params={"watch": "true", "resourceVersion": "999999999"})
    body = status_of(resp, 504, "Timeout")
    assert "Too large resource version" in body["message"]
    assert body["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    assert 2.5 < time.monotonic() - started < 6
    assert_responsive(http)


def test_uid_is_immutable(http: httpx.Client) -> None:
    http.post(CM, json=_cm("uid-fixed"))
    resp = http.patch(
        f"{CM}/uid-fixed",
        content='[{"op": "replace", "path": "/metadata/uid", "value": "00000000-0000-0000-0000-000000000000"}]',
        headers={"Content-Type": "application/json-patch+json"},
    )
    body = status_of(resp, 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "metadata.uid" and "field is immutable" in body["message"]
    current = http.get(f"{CM}/uid-fixed").json()
    current["metadata"]["uid"] = "11111111-0000-0000-0000-000000000000"
    status_of(http.put(f"{CM}/uid-fixed", json=current), 422, "Invalid")
    resp = http.patch(
        f"{CM}/uid-fixed",
        content='{"metadata": {"namespace": "elsewhere"}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    status_of(resp, 400, "BadRequest")


def test_collections_without_deletecollection_refuse_it(http: httpx.Client) -> None:
    status_of(http.delete("/api/v1/namespaces"), 405, "MethodNotAllowed")
    assert http.get(f"/api/v1/namespaces/{NAMESPACE}").status_code == 200
    token = base64.urlsafe_b64encode(json.dumps({"rv": "1", "start": -5}).encode()).decode()
    status_of(http.get(PODS, params={"continue": token}), 400, "BadRequest")
