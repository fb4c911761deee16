"""A client that gives up on a non-streamed request gets its request aborted in the engine."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import wait_for

DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"
LONG = {"model": MODEL, "prompt": "Tell me everything about Kubernetes.", "max_tokens": 1500, "ignore_eos": True}


def ready_decode_pods(sim: SimCluster) -> list[str]:
    http = httpx.Client(base_url=sim.url, timeout=10)
    pods = http.get(f"/api/v1/namespaces/{NAMESPACE}/pods", params={"labelSelector": DECODE_SELECTOR}).json()
    return [
        p["metadata"]["name"]
        for p in pods["items"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    ]


def engine(sim: SimCluster, pod: str) -> dict[str, float]:
    """Running requests and aborted requests from the pod's /metrics."""
    text = httpx.get(f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{pod}:8000/proxy/metrics").text
    out = {"running": 0.0, "aborted": 0.0}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "vllm:num_requests_running":
                out["running"] += s.value
            if s.name == "vllm:request_success_total" and s.labels.get("finished_reason") == "abort":
                out["aborted"] += s.value
    return out


@pytest.fixture(scope="module")
def decode_pod(sim: SimCluster) -> str:
    pods = wait_for(lambda: ready_decode_pods(sim), timeout=60, message="a ready decode pod")
    return pods[0]


def test_abandoned_request_through_the_pod_proxy_is_aborted(sim: SimCluster, decode_pod: str) -> None:
    before = engine(sim, decode_pod)
    url = f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{decode_pod}:8000/proxy/v1/completions"
    with pytest.raises(httpx.TimeoutException):
        httpx.post(url, json=LONG, timeout=0.5)
    # Decoding 1500 tokens takes ~19 s; the abort comes within a second of the disconnect.
    wait_for(lambda: engine(sim, decode_pod)["aborted"] > before["aborted"], timeout=3, message="the abort")
    wait_for(lambda: engine(sim, decode_pod)["running"] == 0, timeout=3, message="no running requests")


def test_abandoned_request_through_the_gateway_is_aborted(sim: SimCluster, decode_pod: str) -> None:
    pods = ready_decode_pods(sim)
    before = {pod: engine(sim, pod)["aborted"] for pod in pods}
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"http://{sim.ctx.gateway_address}/v1/completions", json=LONG, timeout=0.5)

    def aborted_somewhere() -> bool:
        return any(engine(sim, pod)["aborted"] > before[pod] for pod in pods)

    wait_for(aborted_somewhere, timeout=3, message="the abort")
    wait_for(lambda: all(engine(sim, pod)["running"] == 0 for pod in pods), timeout=3, message="idle engines")


def test_a_patient_client_still_gets_the_whole_answer(sim: SimCluster, decode_pod: str) -> None:
    url = f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{decode_pod}:8000/proxy/v1/completions"
    resp = httpx.post(url, json={"model": MODEL, "prompt": "Hello", "max_tokens": 8, "ignore_eos": True}, timeout=30)
    assert resp.status_code == 200
    body = resp.json()
    assert body["usage"]["completion_tokens"] == 8 and body["choices"][0]["finish_reason"] == "length"
