"""Malformed query parameters and bodies are refused with a 4xx Status, and the server keeps answering."""

from __future__ import annotations

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
