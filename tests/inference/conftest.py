"""Fixtures for the inference client: the simulator's gateway as an endpoint, once it serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from llmd_console.cluster.kube import KubeClient
from llmd_console.inference.endpoint import Endpoint
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import wait_for


def serves(url: str) -> bool:
    """Whether a short completion through ``url`` succeeds."""
    try:
        body = {"model": MODEL, "prompt": "ping", "max_tokens": 1}
        return httpx.post(f"{url}/v1/completions", json=body, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def gateway(sim: SimCluster) -> Endpoint:
    """The simulated Gateway's address, once a completion goes through it."""
    url = wait_for(lambda: sim.ctx.gateway_address and f"http://{sim.ctx.gateway_address}", message="an address")
    wait_for(lambda: serves(url), timeout=60, message="a completion through the gateway")
    return Endpoint(url, f"gateway {sim.ctx.gateway_address}")


@pytest.fixture()
async def kube(kubeconfig: Path) -> AsyncIterator[KubeClient]:
    """The console's Kubernetes client for the module's simulator."""
    client = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
    try:
        yield client
    finally:
        await client.close()
