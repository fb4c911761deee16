"""Malformed requests get a Kubernetes Status error with the right code, and the server keeps serving."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE

CM = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


@pytest.fixture(scope="module")
def http(sim: SimCluster) -> httpx.Client:
    return httpx.Client(base_url=sim.url, timeout=10)


def _status(resp: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason, body
    return dict(body)


@pytest.mark.parametrize(
    ("body", "ctype", "fragment"),
    [
        ('{"metadata": {"name": "x"', "application/json", "json parse error"),
        ("metadata: [unclosed", "application/yaml", "error converting YAML"),
        ("[1, 2]", "application/json", "must be a JSON or YAML object"),
        ("", "application/json", "empty"),
    ],
)
def test_malformed_bodies_are_bad_requests(http: httpx.Client, body: str, ctype: str, fragment: str) -> None:
    resp = http.post(CM, content=body, headers={"Content-Type": ctype})
    assert fragment in _status(resp, 400, "BadRequest")["message"]


def test_unknown_kinds_and_paths_are_not_found(http: httpx.Client) -> None:
    _status(http.get(f"/api/v1/namespaces/{NAMESPACE}/widgets"), 404, "NotFound")
    _status(http.get("/apis/nonexistent.io/v1/things"), 404, "NotFound")
    body = _status(http.get(f"{CM}/missing"), 404, "NotFound")
    assert body["message"] == 'configmaps "missing" not found'
    wrong_kind = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"}}
    assert "does not match the expected kind" in _status(http.post(CM, json=wrong_kind), 400, "BadRequest")["message"]


def test_invalid_objects_are_unprocessable(http: httpx.Client) -> None:
    bad_name = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid"}}
    body = _status(http.post(CM, json=bad_name), 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "c"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
    }
    resp = http.post(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments", json=dep)
    assert "selector` does not match template `labels`" in _status(resp, 422, "Invalid")["message"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "lots"}}}]},
    }
    _status(http.post(f"/api/v1/namespaces/{NAMESPACE}/pods", json=pod), 422, "Invalid")


def test_invalid_patches(http: httpx.Client) -> None:
    http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "patchme"}, "data": {"a": "1"}})
    resp = http.patch(
        f"{CM}/patchme",
        content=json.dumps([{"op": "replace", "path": "/data/zzz", "value": "x"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    _status(resp, 422, "Invalid")
    resp = http.patch(
        f"{CM}/patchme",
        content=json.dumps([{"op": "explode", "path": "/data"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    _status(resp, 422, "Invalid")
    resp = http.patch(f"{CM}/patchme", content="{}", headers={"Content-Type": "text/plain"})
    _status(resp, 415, "UnsupportedMediaType")
    resp = http.patch(f"{CM}/patchme", content="{not json", headers={"Content-Type": "application/merge-patch+json"})
    _status(resp, 400, "BadRequest")
    gw = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/gateways/infra-pattern1-inference-gateway"
    resp = http.patch(gw, content="{}", headers={"Content-Type": "application/strategic-merge-patch+json"})
    _status(resp, 415, "UnsupportedMediaType")
    stale = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "patchme", "resourceVersion": "1"}}
    _status(http.put(f"{CM}/patchme", json=stale), 409, "Conflict")


def test_wrong_verbs_are_not_allowed(http: httpx.Client) -> None:
    _status(http.request("POST", f"{CM}/patchme", json={}), 405, "MethodNotAllowed")
    _status(http.request("PUT", CM, json={}), 405, "MethodNotAllowed")
    _status(http.get("/api/v1/nodes/x/log"), 404, "NotFound")


def test_bad_selectors_and_watch_parameters(http: httpx.Client) -> None:
    _status(http.get(CM, params={"labelSelector": "a in (b"}), 400, "BadRequest")
    resp = http.get(CM, params={"watch": "true", "resourceVersion": "not-a-number", "timeoutSeconds": "1"})
    assert resp.status_code == 200 and json.loads(resp.text.splitlines()[0])["object"]["code"] == 400


def test_still_serving_after_all_of_that(http: httpx.Client) -> None:
    assert http.get("/version").json()["major"] == "1"
    assert http.get(CM).status_code == 200
