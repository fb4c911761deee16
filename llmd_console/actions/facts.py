"""What a preview needs to know of the cluster, read once: nodes, pods and the accelerator
chips they hold. Plans are pure functions of these facts and the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.views.common import is_true, meta, pod_accelerators, quantity_int

Obj = dict[str, Any]
POOL_LABEL = "cloud.google.com/gke-nodepool"
ACCELERATOR_LABELS = ("cloud.google.com/gke-tpu-accelerator", "cloud.google.com/gke-accelerator")
CHIP_RESOURCES = ("google.com/tpu", "nvidia.com/gpu")


@dataclass(frozen=True)
class NodeFacts:
    """One node: its pool, accelerator, chips, and the chips its pods hold."""

    name: str
    pool: str
    accelerator: str
    chips: int
    used: int
    ready: bool
    schedulable: bool
    model_pods: tuple[str, ...]  # Ready model-server pods it runs

    @property
    def free(self) -> int:
        """Chips no pod holds (0 for a node that takes no pods)."""
        return max(self.chips - self.used, 0) if self.ready and self.schedulable else 0


@dataclass(frozen=True)
class ClusterFacts:
    """The nodes and the pods of the cluster, as of one read."""

    nodes: tuple[NodeFacts, ...]
    pods: tuple[Obj, ...]

    def pool_nodes(self, pool: str) -> list[NodeFacts]:
        """The nodes of a node pool."""
        return [n for n in self.nodes if n.pool == pool]

    def free_chips(self, accelerator: str | None = None) -> int:
        """Free chips on Ready nodes (of one accelerator label value, when given)."""
        return sum(n.free for n in self.nodes if accelerator in (None, n.accelerator))


def node_facts(node: Obj, pods: list[Obj]) -> NodeFacts:
    """Facts of one node from its object and the pods bound to it."""
    labels = meta(node).get("labels") or {}
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    mine = [p for p in pods if (p.get("spec") or {}).get("nodeName") == meta(node).get("name")]
    live = [p for p in mine if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    model = tuple(
        str(meta(p).get("name"))
        for p in live
        if (meta(p).get("labels") or {}).get("llm-d.ai/inferenceServing") == "true" and is_true(p, "Ready")
    )
    return NodeFacts(
        name=str(meta(node).get("name", "")),
        pool=str(labels.get(POOL_LABEL, "")),
        accelerator=next((str(labels[k]) for k in ACCELERATOR_LABELS if labels.get(k)), ""),
        chips=sum(quantity_int(allocatable.get(r)) for r in CHIP_RESOURCES),
        used=sum(pod_accelerators(p) for p in live),
        ready=is_true(node, "Ready"),
        schedulable=not (node.get("spec") or {}).get("unschedulable"),
        model_pods=model,
    )


async def read_facts(kube: KubeClient) -> ClusterFacts:
    """List nodes and pods once."""
    nodes, _ = await kube.list(KINDS["nodes"], None)
    pods, _ = await kube.list(KINDS["pods"], None)
    return ClusterFacts(tuple(node_facts(n, pods) for n in nodes), tuple(pods))


def price_of(prices: dict[str, float], accelerator: str) -> float:
    """USD per chip-hour of an accelerator label value (0 when the config has no price)."""
    return float(prices.get(accelerator, 0.0))
