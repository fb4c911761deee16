"""What the metrics tests need of the Pattern 1 world: its model and EPP pods as scrape targets."""

from __future__ import annotations

from llmd_console.metrics.scrape import Target
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import Kubectl

DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"


def ready_pod(kubectl: Kubectl, selector: str) -> str:
    """The first pod matching ``selector``, once it is Ready."""
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", selector, "--timeout=60s", timeout=70)
    return kubectl.run("get", "pods", "-l", selector, "-o", "jsonpath={.items[0].metadata.name}")


def pattern1_targets(kubectl: Kubectl) -> list[Target]:
    """The decode pod's vLLM and the EPP's metrics endpoints, with the gateway programmed."""
    decode = f"{NAMESPACE}/{ready_pod(kubectl, DECODE_SELECTOR)}"
    epp = f"{NAMESPACE}/{ready_pod(kubectl, 'inferencepool')}"
    kubectl.run("wait", "--for=condition=Programmed", "gateway/infra-pattern1-inference-gateway", "--timeout=60s")
    return [Target(decode, "vllm", 8000), Target(epp, "epp", 9090)]
