"""Scale: a Deployment's replicas, a GKE node pool's size, and "scale to zero" (the runbook's
cost section: the TPU pool to 0 nodes and the model replicas to 0) and back."""

from __future__ import annotations

from dataclasses import dataclass

from llmd_console.actions.facts import ClusterFacts, price_of
from llmd_console.actions.follow import rollout_done, wait_until
from llmd_console.actions.plan import Cost, Plan, Risk
from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.config import Config
from llmd_console.gke.client import NodePoolClient, NodePoolInfo


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


def parse_nodes(text: str, pool: NodePoolInfo, maximum: int = 1000) -> int:
    """A node count for ``pool``: a whole number, within the pool's autoscaling limits when it has
    some, and a multiple of the slice's hosts for a multi-host TPU pool."""
    value = text.strip()
    if not value.isdigit() or not value.isascii() or int(value) > maximum:
        raise BadInput(f"the node count must be a whole number from 0 to {maximum}, not {text!r}")
    n = int(value)
    if pool.hosts_per_slice > 1 and n % pool.hosts_per_slice:
        raise BadInput(
            f"{pool.name} is a {pool.tpu_topology} multi-host TPU slice of {pool.hosts_per_slice} nodes: "
            f"the count must be a multiple of {pool.hosts_per_slice}"
        )
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
        command=("kubectl", "scale", "deployment", current.name, f"--replicas={replicas}", "-n", current.namespace),
        risk=Risk.DISRUPTIVE if replicas < current.replicas else Risk.ROUTINE,
        cost=Cost(chips_before, chips_after, chips_before * price, chips_after * price, "chips the pods request"),
        warnings=tuple(warnings),
    )


async def scale_replicas(kube: KubeClient, namespace: str, name: str, replicas: int, seconds: float = 600.0) -> str:
    """Set the replicas through the scale subresource, then wait until that many are Ready."""
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"
    await kube.send("PATCH", path, {"spec": {"replicas": replicas}}, content_type="application/merge-patch+json")
    return await rollout_done(kube, namespace, name, seconds)


def resize_command(config: Config, pool: str, count: int) -> tuple[str, ...]:
    """The equivalent gcloud command."""
    g = config.gke
    return (
        "gcloud", "container", "clusters", "resize", g.cluster, "--node-pool", pool,
        "--num-nodes", str(count), "--location", g.location, "--project", g.project,
    )  # fmt: skip


def pool_cost(pool: NodePoolInfo, before: int, after: int, prices: dict[str, float]) -> Cost:
    """Chips of ``before`` and ``after`` nodes of the pool and their cost per hour."""
    price = price_of(prices, pool.accelerator)
    b, a = before * pool.chips_per_node, after * pool.chips_per_node
    return Cost(b, a, b * price, a * price, f"chips of {pool.name}'s nodes")


def pool_warnings(pool: NodePoolInfo, count: int, facts: ClusterFacts) -> list[str]:
    """What a resize risks: removing a node that serves a Ready model pod, a multi-host slice."""
    warnings: list[str] = []
    nodes = facts.pool_nodes(pool.name)
    if count < len(nodes):
        serving = [f"{n.name} ({', '.join(n.model_pods)})" for n in nodes if n.model_pods]
        if serving:
            warnings.append(
                "GKE picks which nodes to remove; these serve Ready model pods, which go Pending if removed: "
                + "; ".join(serving)
            )
    if pool.hosts_per_slice > 1:
        warnings.append(
            f"{pool.name} is a multi-host TPU slice ({pool.tpu_topology}, {pool.hosts_per_slice} nodes): "
            "its nodes are added and removed as a unit"
        )
    if pool.autoscaling and not pool.min_nodes <= count <= pool.max_nodes:
        warnings.append(
            f"{pool.name} autoscales between {pool.min_nodes} and {pool.max_nodes} nodes: "
            "the autoscaler may change the size again"
        )
    return warnings


def plan_pool(config: Config, pool: NodePoolInfo, count: int, facts: ClusterFacts) -> Plan:
    """Resize a node pool through the Container API (always typed to confirm: money or serving)."""
    current = len(facts.pool_nodes(pool.name)) if facts.pool_nodes(pool.name) else pool.node_count
    return Plan(
        action="scale-pool",
        title=f"Resize node pool {pool.name} from {current} to {count} node(s)",
        target=pool.name,
        namespace="",
        changes=(f"node pool {pool.name} ({pool.machine_type}): {current} -> {count} node(s)",),
        command=resize_command(config, pool.name, count),
        risk=Risk.DISRUPTIVE,
        cost=pool_cost(pool, current, count, config.prices),
        warnings=tuple(pool_warnings(pool, count, facts)),
    )


async def nodes_in_pool(kube: KubeClient, pool: str, count: int, seconds: float = 1800.0) -> str:
    """Wait until the cluster has ``count`` Ready nodes in ``pool``."""

    async def check() -> tuple[str | None, str]:
        nodes, _ = await kube.list(KINDS["nodes"], None)
        mine = [n for n in nodes if (n["metadata"].get("labels") or {}).get("cloud.google.com/gke-nodepool") == pool]
        ready = [
            n
            for n in mine
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (n.get("status") or {}).get("conditions") or []
            )
        ]
        if len(mine) == count and len(ready) == count:
            return f"node pool {pool}: {count} node(s) Ready", ""
        return None, f"{len(ready)} Ready of {len(mine)} node(s), want {count}"

    return await wait_until(check, seconds, f"node pool {pool}")


async def resize_pool(kube: KubeClient, gke: NodePoolClient, pool: str, count: int, seconds: float = 1800.0) -> str:
    """Resize through the Container API, wait for its operation, then for the nodes in the cluster."""
    await gke.resize(pool, count, seconds)
    return await nodes_in_pool(kube, pool, count, seconds)


def plan_scale_to_zero(config: Config, pool: NodePoolInfo, model: DeploymentScale, facts: ClusterFacts) -> Plan:
    """The runbook's cost option: the accelerator pool to 0 nodes and the model to 0 replicas."""
    current = len(facts.pool_nodes(pool.name))
    return Plan(
        action="scale-to-zero",
        title=f"Scale to zero: {pool.name} to 0 nodes, {model.name} to 0 replicas",
        target=pool.name,
        namespace=model.namespace,
        changes=(
            f"deployment {model.name}: replicas {model.replicas} -> 0",
            f"node pool {pool.name}: {current} -> 0 node(s)",
            "the Deployments and the routing objects stay: scale back to resume",
        ),
        command=resize_command(config, pool.name, 0),
        risk=Risk.DISRUPTIVE,
        cost=pool_cost(pool, current, 0, config.prices),
        warnings=(f"serving stops: no model pod runs until {pool.name} is scaled back",),
        steps=(
            ("kubectl", "scale", "deployment", model.name, "--replicas=0", "-n", model.namespace),
            resize_command(config, pool.name, 0),
        ),
    )


def plan_scale_back(config: Config, pool: NodePoolInfo, model: DeploymentScale, nodes: int, replicas: int) -> Plan:
    """The reverse of scale to zero: ``nodes`` nodes in the pool, then ``replicas`` model replicas."""
    return Plan(
        action="scale-back",
        title=f"Scale back: {pool.name} to {nodes} node(s), {model.name} to {replicas} replica(s)",
        target=pool.name,
        namespace=model.namespace,
        changes=(
            f"node pool {pool.name}: {pool.node_count} -> {nodes} node(s)",
            f"deployment {model.name}: replicas {model.replicas} -> {replicas}",
        ),
        command=resize_command(config, pool.name, nodes),
        risk=Risk.DISRUPTIVE,
        cost=pool_cost(pool, pool.node_count, nodes, config.prices),
        steps=(
            resize_command(config, pool.name, nodes),
            ("kubectl", "scale", "deployment", model.name, f"--replicas={replicas}", "-n", model.namespace),
        ),
    )


async def scale_to_zero(kube: KubeClient, gke: NodePoolClient, pool: str, model: DeploymentScale) -> str:
    """Carry out :func:`plan_scale_to_zero`."""
    await scale_replicas(kube, model.namespace, model.name, 0)
    return await resize_pool(kube, gke, pool, 0)


async def scale_back(
    kube: KubeClient, gke: NodePoolClient, pool: str, model: DeploymentScale, nodes: int, replicas: int
) -> str:
    """Carry out :func:`plan_scale_back`: done when the model replicas are Ready."""
    await resize_pool(kube, gke, pool, nodes)
    return await scale_replicas(kube, model.namespace, model.name, replicas, 1800.0)
