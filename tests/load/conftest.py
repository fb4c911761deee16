"""Fixtures for load runs: a simulator with inference latency scaled down (quick runs), its
gateway as an endpoint, and the model servers' counters read through the API server's pod proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmd_console.cluster.kube import KubeClient
from llmd_console.inference.served_by import epp_decisions
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import EPP_NAME, NAMESPACE
from tests.conftest import TEST_SPEED
from tests.inference.conftest import gateway

__all__ = ["gateway"]
DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    """A Pattern 1 cluster whose inference runs ten times faster than the latency model."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=7, latency_scale=0.1)) as cluster:
        yield cluster


async def vllm_counters(kubeconfig: Path) -> dict[str, dict[str, float]]:
    """Per model pod: ``vllm:request_success_total`` (every finish reason) and
    ``vllm:generation_tokens_total``, read through the API server's pod proxy as the metrics pane does."""
    kube = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
    try:
        pods = await kube.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=DECODE_SELECTOR)
        out: dict[str, dict[str, float]] = {}
        for pod in pods["items"]:
            name = pod["metadata"]["name"]
            body = await kube.get_bytes(
                f"/api/v1/namespaces/{NAMESPACE}/pods/{name}:8000/proxy/metrics",
                max_bytes=8 << 20,
                accept="text/plain",
                seconds=10,
            )
            totals = out[name] = {"vllm:request_success_total": 0.0, "vllm:generation_tokens_total": 0.0}
            for family in text_string_to_metric_families(body.decode()):
                for sample in family.samples:
                    if sample.name in totals:
                        totals[sample.name] += sample.value
        return out
    finally:
        await kube.close()


async def decisions_for(kubeconfig: Path, request_ids: set[str]) -> dict[str, str]:
    """Request id -> pod, from the EPP's decision log."""
    kube = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
    try:
        return await epp_decisions(kube, NAMESPACE, EPP_NAME, request_ids)
    finally:
        await kube.close()
