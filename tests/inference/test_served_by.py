"""Which pod served a request, from the endpoint picker's decision log (read through the API
server, and as kubectl prints it)."""

from __future__ import annotations

from llmd_console.cluster.kube import KubeClient
from llmd_console.inference.client import send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import PromptRequest
from llmd_console.inference.served_by import attach, decisions, epp_decisions
from llmd_console.sim.worlds.world import EPP_NAME, MODEL, NAMESPACE
from tests.conftest import Kubectl

DECODE = "llm-d.ai/inferenceServing=true"


async def test_each_request_is_matched_to_the_pod_the_epp_picked(
    gateway: Endpoint, kube: KubeClient, kubectl: Kubectl
) -> None:
    ids = [f"pc-served-{n}" for n in range(4)]
    outcomes = []
    async with gateway.client() as client:
        for request_id in ids:
            outcome = await send(client, gateway, PromptRequest("Hello", MODEL, max_tokens=2, request_id=request_id))
            assert outcome.ok, outcome.failure
            outcomes.append(outcome)
    decode_pods = set(kubectl.run("get", "pods", "-l", DECODE, "-o", "jsonpath={.items[*].metadata.name}").split())
    picked = await epp_decisions(kube, NAMESPACE, EPP_NAME, set(ids))
    assert set(picked) == set(ids)
    assert set(picked.values()) <= decode_pods
    assert attach(outcomes, picked) == 4 and [o.served_by for o in outcomes] == [picked[i] for i in ids]
    # The same from the lines kubectl prints, with the kubelet's timestamps in front.
    printed = kubectl.run("logs", f"deploy/{EPP_NAME}", "--timestamps", "--tail=500").splitlines()
    assert decisions(printed, set(ids)) == picked


def test_lines_that_are_not_decisions_are_skipped() -> None:
    lines = [
        "not json at all",
        '{"msg":"Scheduling decision","x-request-id":"a"}',  # no pick
        '{"msg":"Scheduling decision","x-request-id":"b","pickedPod":"ns/pod-b"}',
        '{"msg":"Other","x-request-id":"c","pickedPod":"ns/pod-c"}',
        '2026-11-28T08:00:00Z {"msg":"Scheduling decision","x-request-id":"d","pickedPod":"pod-d"}',
        '{"msg":"Scheduling decision", torn',
        "[1, 2]",
        '{"msg":"Scheduling decision","x":' + "[" * 30_000 + "]" * 30_000 + "}",
    ]
    assert decisions(lines) == {"b": "pod-b", "d": "pod-d"}
    assert decisions(lines, {"d"}) == {"d": "pod-d"}
