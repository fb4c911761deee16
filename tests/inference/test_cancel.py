"""Cancelling a request in flight reaches the server: the model server aborts it and its
running-request gauge drops, read through the API server's pod proxy as the metrics pane does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmd_console.cluster.kube import KubeClient
from llmd_console.inference.client import send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import Api, PromptRequest
from llmd_console.sim.worlds.world import MODEL, NAMESPACE

DECODE = "llm-d.ai/inferenceServing=true"


async def engine_counts(kube: KubeClient) -> dict[str, float]:
    """Running, aborted and all finished requests, summed over the ready decode pods."""
    pods = await kube.get(f"/api/v1/namespaces/{NAMESPACE}/pods", labelSelector=DECODE)
    out = {"running": 0.0, "aborted": 0.0, "finished": 0.0}
    for pod in pods["items"]:
        path = f"/api/v1/namespaces/{NAMESPACE}/pods/{pod['metadata']['name']}:8000/proxy/metrics"
        page = await kube.get_bytes(path, max_bytes=8 << 20, accept="text/plain", seconds=10)
        for family in text_string_to_metric_families(page.decode()):
            for sample in family.samples:
                if sample.name == "vllm:num_requests_running":
                    out["running"] += sample.value
                elif sample.name == "vllm:request_success_total":
                    out["finished"] += sample.value
                    if sample.labels["finished_reason"] == "abort":
                        out["aborted"] += sample.value
    return out


async def eventually(
    kube: KubeClient, check: Callable[[dict[str, float]], bool], seconds: float = 10.0
) -> dict[str, float]:
    """Poll the gauges until ``check`` holds."""
    async with asyncio.timeout(seconds):
        while True:
            counts = await engine_counts(kube)
            if check(counts):
                return counts
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(("api", "stream"), [("chat", True), ("completions", True), ("completions", False)])
async def test_cancel_reaches_the_server(gateway: Endpoint, kube: KubeClient, api: Api, stream: bool) -> None:
    before = await eventually(kube, lambda c: c["running"] == 0)
    first = asyncio.Event()
    request = PromptRequest("Tell me everything about Kubernetes.", MODEL, api=api, max_tokens=1500, stream=stream)
    async with gateway.client() as client:
        task = asyncio.create_task(send(client, gateway, request, on_token=lambda _: first.set()))
        if stream:
            await asyncio.wait_for(first.wait(), 30)
        await eventually(kube, lambda c: c["running"] >= 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    after = await eventually(kube, lambda c: c["running"] == 0 and c["aborted"] > before["aborted"])
    assert after["aborted"] == before["aborted"] + 1
