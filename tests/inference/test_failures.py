"""Each failure, made on the simulated cluster the way an operator meets it (kubectl deleting
the HTTPRoute, scaling the model servers or the EPP to 0, a wrong model, a closed port ...),
is explained with its kind, its cause quoting the server, and a fix naming the objects."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from kubernetes import client as k8s

from llmd_console.inference.client import send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import Outcome, PromptRequest
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import DECODE_NAME, EPP_NAME, MODEL, NAMESPACE, ROUTE_NAME
from tests.conftest import Kubectl

HELLO = PromptRequest("Hello", MODEL, max_tokens=4)


async def outcome_of(endpoint: Endpoint, request: PromptRequest = HELLO, deadline: float = 300.0) -> Outcome:
    async with endpoint.client() as client:
        return await send(client, endpoint, request, deadline_seconds=deadline)


async def until(endpoint: Endpoint, kind: str | None, seconds: float = 60.0) -> Outcome:
    """Send until the outcome fails with ``kind`` (None: until it succeeds)."""
    async with asyncio.timeout(seconds):
        while True:
            outcome = await outcome_of(endpoint)
            if (outcome.failure.kind if outcome.failure else None) == kind:
                return outcome
            await asyncio.sleep(0.1)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
async def healthy(gateway: Endpoint) -> AsyncIterator[Endpoint]:
    """The gateway, serving before the test and again after it (each test undoes its change)."""
    await until(gateway, None)
    yield gateway
    await until(gateway, None, seconds=90)


async def test_no_httproute(healthy: Endpoint, kubectl: Kubectl) -> None:
    route = json.loads(kubectl.run("get", "httproute", ROUTE_NAME, "-o", "json"))
    kubectl.run("delete", "httproute", ROUTE_NAME)
    try:
        outcome = await until(healthy, "no_route")
    finally:
        manifest = {k: route[k] for k in ("apiVersion", "kind", "spec")}
        manifest["metadata"] = {"name": ROUTE_NAME, "namespace": NAMESPACE}
        kubectl.run("apply", "-f", "-", stdin=json.dumps(manifest))
    assert outcome.status == 500 and outcome.failure is not None
    assert "fault filter abort" in outcome.failure.cause
    assert ROUTE_NAME in outcome.failure.fix and "kubectl get httproute -n " + NAMESPACE in outcome.failure.fix


async def test_no_ready_model_server(healthy: Endpoint, kubectl: Kubectl) -> None:
    kubectl.run("scale", "deploy", DECODE_NAME, "--replicas=0")
    try:
        outcome = await until(healthy, "no_upstream")
    finally:
        kubectl.run("scale", "deploy", DECODE_NAME, "--replicas=1")
    assert outcome.status == 503 and outcome.failure is not None
    assert "no healthy upstream" in outcome.failure.cause
    assert f"kubectl scale deploy {DECODE_NAME} -n {NAMESPACE} --replicas=1" in outcome.failure.fix


async def test_epp_down_with_a_pool_that_fails_closed(healthy: Endpoint, api: k8s.ApiClient) -> None:
    apps = k8s.AppsV1Api(api)
    apps.patch_namespaced_deployment_scale(EPP_NAME, NAMESPACE, {"spec": {"replicas": 0}})
    try:
        outcome = await until(healthy, "epp_down")
    finally:
        apps.patch_namespaced_deployment_scale(EPP_NAME, NAMESPACE, {"spec": {"replicas": 1}})
    assert outcome.status == 500 and outcome.failure is not None
    assert "ext_proc" in outcome.failure.cause and "FailClose" in outcome.failure.cause
    assert f"kubectl scale deploy {EPP_NAME} -n {NAMESPACE} --replicas=1" in outcome.failure.fix


async def test_unknown_model_names_the_served_ones(healthy: Endpoint) -> None:
    outcome = await outcome_of(healthy, PromptRequest("Hello", "Qwen/Qwen2.5-7B", max_tokens=4))
    assert outcome.status == 404 and outcome.failure is not None and outcome.failure.kind == "model_not_found"
    assert "`Qwen/Qwen2.5-7B` does not exist" in outcome.failure.cause and MODEL in outcome.failure.cause
    assert MODEL in outcome.failure.fix


@pytest.mark.parametrize(
    ("request_", "said"),
    [
        (PromptRequest("word " * 4000, MODEL, max_tokens=4), "maximum context length is"),
        (PromptRequest("Hello", MODEL, max_tokens=100_000), "'max_tokens' or 'max_completion_tokens' is too large"),
    ],
    ids=["context-length", "max-tokens"],
)
async def test_bad_requests_quote_vllm(healthy: Endpoint, request_: PromptRequest, said: str) -> None:
    outcome = await outcome_of(healthy, request_)
    assert outcome.status == 400 and outcome.failure is not None and outcome.failure.kind == "bad_request"
    assert said in outcome.failure.cause


async def test_connection_refused() -> None:
    outcome = await outcome_of(Endpoint(f"http://127.0.0.1:{closed_port()}", "test"))
    assert outcome.status is None and outcome.failure is not None and outcome.failure.kind == "refused"


async def test_unresolvable_host() -> None:
    outcome = await outcome_of(Endpoint("http://no-such-gateway.invalid", "test"))
    assert outcome.failure is not None and outcome.failure.kind == "dns"
    assert "no-such-gateway.invalid" in outcome.failure.title


async def test_tls_against_a_plain_http_gateway(healthy: Endpoint) -> None:
    host = healthy.base_url.removeprefix("http://")
    address = host if ":" in host else f"{host}:80"
    outcome = await outcome_of(Endpoint(f"https://{address}", "test"))
    assert outcome.failure is not None and outcome.failure.kind == "tls", outcome.failure
    assert "http://" in outcome.failure.fix


async def test_a_tiny_deadline_times_out(healthy: Endpoint) -> None:
    request = PromptRequest("Tell me everything about Kubernetes.", MODEL, max_tokens=500)
    outcome = await outcome_of(healthy, request, deadline=0.05)
    assert outcome.failure is not None and outcome.failure.kind == "timeout" and not outcome.stalled
    assert "0.05 s" in outcome.failure.title


@pytest.mark.parametrize(("scenario", "kind"), [("epp-down", "epp_down"), ("httproute-port", "no_route")])
async def test_the_simulators_fault_scenarios(healthy: Endpoint, sim: SimCluster, scenario: str, kind: str) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as api:
        assert (await api.put("/llmd-sim/v1/scenario", json={"name": scenario})).status_code == 200
        try:
            outcome = await until(healthy, kind)
        finally:
            assert (await api.delete("/llmd-sim/v1/scenario")).status_code == 200
    assert outcome.failure is not None and outcome.failure.fix
