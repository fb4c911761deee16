"""Several Gateways of one class: each gets its own address and serves only its own routes."""

from __future__ import annotations

import json

import httpx

from llmd_console.sim.worlds.world import GATEWAY_CLASS, GATEWAY_NAME, MODEL, NAMESPACE
from tests.conftest import Kubectl, wait_for

N = ("-n", NAMESPACE)
SECOND = "second-gateway"


def _apply(kubectl: Kubectl, *objs: dict[str, object]) -> None:
    for obj in objs:
        kubectl.run("apply", "-f", "-", stdin=json.dumps(obj))


def _address(kubectl: Kubectl, name: str) -> str:
    return kubectl.run("get", "gateway", name, *N, "-o", "jsonpath={.status.addresses[0].value}")


def _get(address: str, path: str) -> httpx.Response:
    return httpx.get(f"http://{address}{path}", timeout=10)


def test_two_gateways_get_their_own_addresses_and_routes(kubectl: Kubectl) -> None:
    kubectl.run("wait", "--for=condition=Programmed", f"gateway/{GATEWAY_NAME}", *N, "--timeout=60s", timeout=70)
    first = _address(kubectl, GATEWAY_NAME)
    wait_for(lambda: _get(first, "/v1/models").status_code == 200, message="the first gateway to serve")
    # A second Gateway of the same class, as the llm-d-infra chart installs one.
    _apply(
        kubectl,
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": SECOND, "namespace": NAMESPACE},
            "spec": {
                "gatewayClassName": GATEWAY_CLASS,
                "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
            },
        },
    )
    kubectl.run("wait", "--for=condition=Programmed", f"gateway/{SECOND}", *N, "--timeout=60s", timeout=70)
    second = _address(kubectl, SECOND)
    assert second and second != first
    # Without a route of its own, the second answers as GKE's load balancer does; the first is untouched.
    response = _get(second, "/v1/models")
    assert (response.status_code, response.text) == (500, "fault filter abort")
    assert _get(first, "/v1/models").json()["data"][0]["id"] == MODEL
    # Its own route, to its own pool of web servers.
    web = kubectl.run(
        "create", "deployment", "web", *N, "--image=nginx:1.27", "--port=80", "--dry-run=client", "-o=json"
    )
    kubectl.run("apply", "-f", "-", stdin=web)
    kubectl.run("rollout", "status", "deploy/web", *N, "--timeout=60s", timeout=70)
    _apply(
        kubectl,
        {
            "apiVersion": "inference.networking.k8s.io/v1",
            "kind": "InferencePool",
            "metadata": {"name": "web-pool", "namespace": NAMESPACE},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "targetPorts": [{"number": 80}],
                "endpointPickerRef": {"name": "no-picker", "port": {"number": 9002}, "failureMode": "FailOpen"},
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "web-route", "namespace": NAMESPACE},
            "spec": {
                "parentRefs": [{"name": SECOND}],
                "rules": [
                    {
                        "backendRefs": [
                            {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "web-pool"}
                        ]
                    }
                ],
            },
        },
    )
    wait_for(lambda: _get(second, "/").status_code == 200, message="the second gateway to route to its pool")
    assert _get(second, "/").text == "ok"  # the web server, not vLLM
    assert _get(first, "/v1/models").json()["data"][0]["id"] == MODEL
    attached = kubectl.run(
        "get", "gateway", *N, "-o", 'jsonpath={range .items[*]}{.status.listeners[0].attachedRoutes}{" "}{end}'
    )
    assert attached.split() == ["1", "1"]
    # Deleting the second Gateway closes its load balancer only.
    kubectl.run("delete", "gateway", SECOND, *N)

    def closed() -> bool:
        try:
            _get(second, "/")
        except httpx.ConnectError:
            return True
        return False

    wait_for(closed, message="the second gateway's address to close")
    assert _get(first, "/v1/models").status_code == 200
