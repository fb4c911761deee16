"""Each fault scenario shows up where a real cluster shows it (status, events, logs,
HTTP errors), and clearing it brings back a healthy world that serves requests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import EPP_NAME, GATEWAY_NAME, MODEL, NAMESPACE, ROUTE_NAME
from tests.conftest import TEST_SPEED, wait_for

DECODE = "llm-d.ai/inferenceServing=true"
GW_API = "/apis/gateway.networking.k8s.io/v1/namespaces/" + NAMESPACE


@pytest.fixture(scope="module")
def cluster() -> Iterator[SimCluster]:
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=5)) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: SimCluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster.url, timeout=10) as client:
        yield client


def pods(api: httpx.Client, selector: str = DECODE) -> list[dict[str, Any]]:
    items = api.get(f"/api/v1/namespaces/{NAMESPACE}/pods", params={"labelSelector": selector}).json()["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def logs(api: httpx.Client, pod: dict[str, Any]) -> str:
    """The container's current log and, if it restarted, the previous one."""
    url = f"/api/v1/namespaces/{NAMESPACE}/pods/{pod['metadata']['name']}/log"
    previous = api.get(url, params={"previous": "true"})
    return (previous.text if previous.status_code == 200 else "") + api.get(url).text


def events(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get(f"/api/v1/namespaces/{NAMESPACE}/events").json()["items"])


def complete(cluster: SimCluster) -> httpx.Response:
    return httpx.post(
        f"http://{cluster.ctx.gateway_address}/v1/completions",
        json={"model": MODEL, "prompt": "What is Kubernetes?", "max_tokens": 5},
        timeout=10,
    )


def control(api: httpx.Client, name: str | None) -> dict[str, Any]:
    if name is None:
        response = api.delete("/llmd-sim/v1/scenario")
    else:
        response = api.put("/llmd-sim/v1/scenario", json={"name": name})
    assert response.status_code == 200, response.text
    return dict(response.json())


def healthy(cluster: SimCluster, api: httpx.Client) -> None:
    wait_for(lambda: [p for p in pods(api) if ready(p)], timeout=30, message="a Ready decode pod")
    wait_for(lambda: [p for p in pods(api, f"inferencepool={EPP_NAME}") if ready(p)], message="a Ready EPP")
    wait_for(lambda: cluster.ctx.gateway_address and complete(cluster).status_code == 200, message="a completion")


@pytest.fixture()
def scenario(cluster: SimCluster, api: httpx.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """Start healthy, switch to the test's scenario, and prove that clearing it heals."""
    name: str = request.param
    healthy(cluster, api)
    assert control(api, name)["active"] == name
    yield name
    assert control(api, None)["active"] is None
    healthy(cluster, api)


def crashing_with(api: httpx.Client, text: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        for pod in pods(api):
            status = (pod.get("status", {}).get("containerStatuses") or [{}])[0]
            if status.get("restartCount", 0) >= 1 and text in logs(api, pod):
                return pod
        return None

    return wait_for(check, timeout=30, message=f"a restarting decode pod logging {text!r}")


@pytest.mark.parametrize("scenario", ["tpu-pool-empty"], indirect=True)
def test_tpu_pool_empty(cluster: SimCluster, api: httpx.Client, scenario: str) -> None:
    wait_for(lambda: [p for p in pods(api) if p["status"].get("phase") == "Pending"], message="a Pending pod")
    tpu_nodes = {"labelSelector": "cloud.google.com/gke-nodepool=tpu-v6e-pool"}
    wait_for(lambda: api.get("/api/v1/nodes", params=tpu_nodes).json()["items"] == [], message="no TPU node")
    assert any(e["reason"] == "FailedScheduling" for e in events(api))
    response = complete(cluster)
    assert (response.status_code, response.text) == (503, "no healthy upstream")


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("no-tpu-devices", "RuntimeError: No TPU devices found"),
        ("pjrt-bounds", "PJRT error: Failed to initialize TPU"),
        ("gemma-tp4", "ValueError: shard_map applied to the function '_ragged_paged_attention'"),
        ("hf-403", "403 Client Error: Forbidden for url: https://huggingface.co/"),
    ],
    indirect=["scenario"],
)
def test_crash_loops(cluster: SimCluster, api: httpx.Client, scenario: str, text: str) -> None:
    pod = crashing_with(api, text)
    assert not ready(pod)
    wait_for(
        lambda: any(
            (s.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
            for p in pods(api)
            for s in p["status"].get("containerStatuses") or []
        ),
        message="CrashLoopBackOff",
    )
    assert complete(cluster).status_code == 503


@pytest.mark.parametrize("scenario", ["oom"], indirect=True)
def test_oom_killed(api: httpx.Client, scenario: str) -> None:
    def oom() -> bool:
        return any(
            (s.get("lastState", {}).get("terminated") or {}).get("reason") == "OOMKilled"
            for p in pods(api)
            for s in p["status"].get("containerStatuses") or []
        )

    wait_for(oom, timeout=30, message="an OOMKilled last state")


@pytest.mark.parametrize("scenario", ["xla-timeout"], indirect=True)
def test_startup_probe_kills_during_precompile(api: httpx.Client, scenario: str) -> None:
    crashing_with(api, "Precompile worker0 backbone")
    messages = [e["message"] for e in events(api)]
    assert any(m.startswith("Startup probe failed") for m in messages)
    assert any("failed startup probe, will be restarted" in m for m in messages)


@pytest.mark.parametrize("scenario", ["gateway-no-address"], indirect=True)
def test_gateway_without_address(api: httpx.Client, scenario: str) -> None:
    def unprogrammed() -> dict[str, Any] | None:
        gw = api.get(f"{GW_API}/gateways/{GATEWAY_NAME}").json()
        conds = {c["type"]: c for c in gw.get("status", {}).get("conditions", [])}
        return gw if conds.get("Programmed", {}).get("status") == "False" else None

    gw = wait_for(unprogrammed, message="an unprogrammed Gateway")
    assert not gw["status"].get("addresses")
    warnings = [e for e in events(api) if e["involvedObject"]["kind"] == "Gateway" and e["type"] == "Warning"]
    assert any("proxy-only subnetwork" in e["message"] for e in warnings)


@pytest.mark.parametrize("scenario", ["httproute-missing"], indirect=True)
def test_httproute_missing(cluster: SimCluster, api: httpx.Client, scenario: str) -> None:
    assert api.get(f"{GW_API}/httproutes/{ROUTE_NAME}").status_code == 404
    wait_for(
        lambda: api.get(f"{GW_API}/gateways/{GATEWAY_NAME}").json()["status"]["listeners"][0]["attachedRoutes"] == 0,
        message="0 attached routes",
    )
    response = complete(cluster)
    assert (response.status_code, response.text) == (500, "fault filter abort")


@pytest.mark.parametrize("scenario", ["httproute-port"], indirect=True)
def test_httproute_with_port(cluster: SimCluster, api: httpx.Client, scenario: str) -> None:
    def rejected() -> dict[str, Any] | None:
        route = api.get(f"{GW_API}/httproutes/{ROUTE_NAME}").json()
        for parent in route.get("status", {}).get("parents", []):
            for cond in parent["conditions"]:
                if cond["type"] == "Accepted" and cond["status"] == "False":
                    return dict(cond)
        return None

    cond = wait_for(rejected, message="a route that is not accepted")
    assert cond["reason"] == "UnsupportedValue"
    assert "must not set a port" in cond["message"]
    assert complete(cluster).text == "fault filter abort"


@pytest.mark.parametrize("scenario", ["epp-down"], indirect=True)
def test_epp_down_fails_closed(cluster: SimCluster, api: httpx.Client, scenario: str) -> None:
    def unready_epp() -> dict[str, Any] | None:
        epps = pods(api, f"inferencepool={EPP_NAME}")
        running = [p for p in epps if p["status"].get("phase") == "Running" and not ready(p)]
        return running[0] if len(epps) == len(running) == 1 else None

    epp = wait_for(unready_epp, message="a Running but unready EPP")
    wait_for(lambda: "Unable to get InferencePool" in logs(api, epp), message="the EPP's pool error")
    wait_for(
        lambda: any(e["message"].startswith("Readiness probe failed") for e in events(api)),
        message="readiness probe failures",
    )
    assert complete(cluster).status_code == 500


def test_cli_lists_and_switches(cluster: SimCluster, api: httpx.Client) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "llmd_console", "scenario", *args, "--server", cluster.url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)

    listed = cli("list")
    assert listed.returncode == 0 and "httproute-port" in listed.stdout and "active: none" in listed.stdout
    bad = cli("set", "no-such-scenario")
    assert bad.returncode == 1 and "unknown scenario 'no-such-scenario'" in bad.stderr
    assert cli("set", "httproute-missing").returncode == 0
    assert control(api, None)["active"] is None  # shown by the next list
    assert "active: none" in cli("list").stdout
    healthy(cluster, api)
