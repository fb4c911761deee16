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
