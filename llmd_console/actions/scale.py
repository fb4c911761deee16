"""Scale a Deployment's replicas: input validated, chips and cost before and after, and a
warning when the new replicas will not fit the free accelerator chips. Node pools: ``nodepool``."""

from __future__ import annotations

from dataclasses import dataclass

from llmd_console.actions.facts import ClusterFacts, price_of
from llmd_console.actions.follow import Waiting, rollout_done
from llmd_console.actions.plan import Cost, Plan, Risk
from llmd_console.cluster.kube import KubeClient


class BadInput(ValueError):
    """Input the operator typed that cannot be used; the message says why."""


def parse_replicas(text: str, maximum: int) -> int:
    """A replica count typed by the operator: an integer from 0 to ``maximum``."""
    value = text.strip()
    if not value.isdigit() or not value.isascii():
        raise BadInput(f"replicas must be a whole number from 0 to {maximum}, not {text!r}")
    n = int(value)
    if n > maximum:
        raise BadInput(f"replicas must be at most {maximum} (deploy.max_replicas), not {n}")
    return n


@dataclass(frozen=True)
class DeploymentScale:
    """A Deployment's current replicas and what one replica requests."""

    namespace: str
    name: str
    replicas: int
    chips_per_pod: int
    accelerator: str  # the node label value its pods select ("" for none)


async def read_scale(kube: KubeClient, namespace: str, name: str) -> DeploymentScale:
    """Read a Deployment's replicas and its pods' accelerator request."""
    dep = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    spec = dep.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    chips = 0
    for c in pod.get("containers") or []:
        limits = (c.get("resources") or {}).get("limits") or {}
        for key in ("google.com/tpu", "nvidia.com/gpu"):
            value = str(limits.get(key, "0"))
            chips += int(value) if value.isdigit() else 0
    selector = pod.get("nodeSelector") or {}
    accelerator = str(
        selector.get("cloud.google.com/gke-tpu-accelerator") or selector.get("cloud.google.com/gke-accelerator") or ""
    )
    return DeploymentScale(namespace, name, int(spec.get("replicas", 1)), chips, accelerator)


def plan_replicas(current: DeploymentScale, replicas: int, facts: ClusterFacts, prices: dict[str, float]) -> Plan:
    """Scale a Deployment: chips and cost before and after, and a warning when the new replicas
    will not fit the free chips (they stay Pending)."""
    price = price_of(prices, current.accelerator)
    chips_before, chips_after = current.replicas * current.chips_per_pod, replicas * current.chips_per_pod
    warnings: list[str] = []
    needed = chips_after - chips_before
    free = facts.free_chips(current.accelerator or None)
    if current.chips_per_pod and needed > free:
        stay = (needed - free + current.chips_per_pod - 1) // current.chips_per_pod
        warnings.append(
            f"{needed} more chip(s) needed, {free} free: {stay} replica(s) will stay Pending until nodes are added"
        )
    if replicas == 0 and current.replicas:
        warnings.append(f"no {current.name} pod will run: requests through the gateway fail until scaled back")
    return Plan(
        action="scale",
        title=f"Scale {current.name} from {current.replicas} to {replicas} replica(s)",
        target=current.name,
        namespace=current.namespace,
        changes=(f"deployment {current.name}: replicas {current.replicas} -> {replicas}",),
        command=scale_command(current.name, current.namespace, replicas),
        risk=Risk.DISRUPTIVE if replicas < current.replicas else Risk.ROUTINE,
        cost=Cost(chips_before, chips_after, chips_before * price, chips_after * price, "chips the pods request"),
        warnings=tuple(warnings),
    )


async def scale_replicas(
    kube: KubeClient,
    namespace: str,
    name: str,
    replicas: int,
    seconds: float = 600.0,
    *,
    on_wait: Waiting | None = None,
) -> str:
    """Set the replicas through the scale subresource, then wait until that many are Ready."""
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"
    await kube.send("PATCH", path, {"spec": {"replicas": replicas}}, content_type="application/merge-patch+json")
    return await rollout_done(kube, namespace, name, seconds, on_wait=on_wait)


def scale_command(name: str, namespace: str, replicas: int) -> tuple[str, ...]:
    """The equivalent kubectl command."""
    return ("kubectl", "scale", "deployment", name, f"--replicas={replicas}", "-n", namespace)
