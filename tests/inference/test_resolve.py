"""Where requests go: the Gateway's status address, a URL from the config, or the API server's
proxy (with the kubeconfig's credentials) when the gateway is not reachable."""

from __future__ import annotations

import dataclasses
import socket

import httpx
import pytest

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config, PromptConfig
from llmd_console.inference.client import send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import PromptRequest
from llmd_console.inference.resolve import EndpointError, gateway_url, resolve
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL, NAMESPACE


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(**prompt: object) -> Config:
    return dataclasses.replace(Config(), prompt=PromptConfig(**prompt))  # type: ignore[arg-type]


async def test_the_gateway_address_is_used_when_it_answers(
    sim: SimCluster, gateway: Endpoint, kube: KubeClient
) -> None:
    endpoint = await resolve(kube, config())
    assert endpoint.base_url == f"http://{sim.ctx.gateway_address}"
    assert "status address" in endpoint.how and endpoint.served_by is None


async def test_a_configured_url_wins(kube: KubeClient) -> None:
    endpoint = await resolve(kube, config(url="https://llm.example.com/", insecure=True))
    assert endpoint.base_url == "https://llm.example.com" and endpoint.verify is False
    assert "prompt.url" in endpoint.how


async def test_the_proxy_path_reaches_a_model_server(gateway: Endpoint, kube: KubeClient) -> None:
    endpoint = await resolve(kube, config(via="proxy"))
    assert "/proxy" in endpoint.base_url and "API server proxy" in endpoint.how
    assert endpoint.served_by is not None and endpoint.headers  # the kubeconfig's token
    async with endpoint.client() as client:
        outcome = await send(client, endpoint, PromptRequest("What is Kubernetes?", MODEL, max_tokens=8))
    assert outcome.ok, outcome.failure
    assert outcome.completion_tokens == 8 and outcome.served_by == endpoint.served_by


async def test_without_a_cluster_or_url_there_is_nowhere_to_send() -> None:
    with pytest.raises(EndpointError, match="nowhere to send"):
        await resolve(None, config())


@pytest.mark.parametrize(
    ("address", "listener", "url"),
    [
        ("34.1.2.3", {"protocol": "HTTP", "port": 80}, "http://34.1.2.3"),
        ("34.1.2.3", {"protocol": "HTTP", "port": 8080}, "http://34.1.2.3:8080"),
        ("34.1.2.3", {"protocol": "HTTPS", "port": 443}, "https://34.1.2.3"),
        ("127.0.0.1:38165", {"protocol": "HTTP", "port": 80}, "http://127.0.0.1:38165"),
        ("2001:db8::1", {"protocol": "HTTP", "port": 80}, "http://[2001:db8::1]"),
        ("", {"protocol": "HTTP", "port": 80}, None),
    ],
)
def test_gateway_url(address: str, listener: dict[str, object], url: str | None) -> None:
    gateway = {"spec": {"listeners": [listener]}, "status": {"addresses": [{"value": address}] if address else []}}
    assert gateway_url(gateway) == url


def unmanaged_gateway(sim: SimCluster, name: str, address: str | None) -> str:
    """A Gateway of a class no controller here manages, with ``address`` in its status (if any)."""
    api = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/gateways"
    manifest = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"gatewayClassName": "pc-other", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
    }
    with httpx.Client(base_url=sim.url, timeout=10) as http:
        assert http.post(api, json=manifest).status_code == 201
        if address is not None:
            status = {"status": {"addresses": [{"type": "IPAddress", "value": address}]}}
            merge = {"Content-Type": "application/merge-patch+json"}
            patched = http.patch(f"{api}/{name}/status", json=status, headers=merge)
            assert patched.status_code == 200, patched.text
    return name


def with_gateway(name: str, **prompt: object) -> Config:
    return dataclasses.replace(config(**prompt), resources=dataclasses.replace(Config().resources, gateway=name))


@pytest.fixture()
def private_gateway(sim: SimCluster) -> str:
    """A Gateway whose status says it listens where nothing does (as a private address seen from
    outside its network)."""
    return unmanaged_gateway(sim, "pc-private-gateway", f"127.0.0.1:{closed_port()}")


async def test_an_unreachable_gateway_falls_back_to_the_proxy(private_gateway: str, kube: KubeClient) -> None:
    endpoint = await resolve(kube, with_gateway(private_gateway))
    assert "API server proxy" in endpoint.how and "does not answer from here" in endpoint.how


async def test_a_gateway_without_an_address_is_named_when_the_gateway_is_required(
    sim: SimCluster, kube: KubeClient
) -> None:
    name = unmanaged_gateway(sim, "pc-unprogrammed-gateway", None)
    with pytest.raises(EndpointError, match=f"Gateway {name} has no address yet"):
        await resolve(kube, with_gateway(name, via="gateway"))
    # With auto, the proxy is used instead, saying why.
    endpoint = await resolve(kube, with_gateway(name))
    assert "has no address yet" in endpoint.how and "API server proxy" in endpoint.how


async def test_a_gateway_with_its_own_service_is_reached_through_the_service_proxy(
    sim: SimCluster, gateway: Endpoint, kube: KubeClient
) -> None:
    # As an implementation that deploys its proxy (Istio, kgateway) labels the proxy's Service.
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "pc-gateway-istio",
            "namespace": NAMESPACE,
            "labels": {"gateway.networking.k8s.io/gateway-name": "pc-istio-gateway"},
        },
        "spec": {
            "selector": {"llm-d.ai/inferenceServing": "true"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8000}],
        },
    }
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as http:
        created = await http.post(f"/api/v1/namespaces/{NAMESPACE}/services", json=service)
        assert created.status_code == 201, created.text
    endpoint = await resolve(kube, with_gateway("pc-istio-gateway", via="proxy"))
    assert endpoint.base_url.endswith("/services/pc-gateway-istio:80/proxy") and "Service" in endpoint.how
    async with endpoint.client() as client:
        outcome = await send(client, endpoint, PromptRequest("What is Kubernetes?", MODEL, max_tokens=4))
    assert outcome.ok, outcome.failure
