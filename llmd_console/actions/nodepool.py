"""Node pools through the Container API: resize with chips and cost before and after, warnings
(a node serving a Ready model pod may go, a multi-host TPU slice moves as a unit), and "scale to
zero" (the runbook's cost section: the TPU pool to 0 nodes and the model to 0 replicas) and back."""

from __future__ import annotations

from llmd_console.actions.facts import ClusterFacts, price_of
from llmd_console.actions.follow import Waiting, wait_until
from llmd_console.actions.plan import Cost, Plan, Risk
from llmd_console.actions.scale import BadInput, DeploymentScale, scale_command, scale_replicas
from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.config import Config
from llmd_console.gke.client import NodePoolClient, NodePoolInfo


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


async def nodes_in_pool(
    kube: KubeClient, pool: str, count: int, seconds: float = 1800.0, *, on_wait: Waiting | None = None
) -> str:
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

    return await wait_until(check, seconds, f"node pool {pool}", on_wait=on_wait)


async def resize_pool(
    kube: KubeClient,
    gke: NodePoolClient,
    pool: str,
    count: int,
    seconds: float = 1800.0,
    *,
    on_wait: Waiting | None = None,
) -> str:
    """Resize through the Container API, wait for its operation, then for the nodes in the cluster."""
    if on_wait is not None:
        on_wait(f"Container API: resizing {pool} to {count} node(s)")
    await gke.resize(pool, count, seconds)
    return await nodes_in_pool(kube, pool, count, seconds, on_wait=on_wait)


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
            scale_command(model.name, model.namespace, 0),
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
            scale_command(model.name, model.namespace, replicas),
        ),
    )


async def scale_to_zero(
    kube: KubeClient, gke: NodePoolClient, pool: str, model: DeploymentScale, *, on_wait: Waiting | None = None
) -> str:
    """Carry out :func:`plan_scale_to_zero`."""
    await scale_replicas(kube, model.namespace, model.name, 0, on_wait=on_wait)
    return await resize_pool(kube, gke, pool, 0, on_wait=on_wait)


async def scale_back(
    kube: KubeClient,
    gke: NodePoolClient,
    pool: str,
    model: DeploymentScale,
    nodes: int,
    replicas: int,
    *,
    on_wait: Waiting | None = None,
) -> str:
    """Carry out :func:`plan_scale_back`: done when the model replicas are Ready."""
    await resize_pool(kube, gke, pool, nodes, on_wait=on_wait)
    return await scale_replicas(kube, model.namespace, model.name, replicas, 1800.0, on_wait=on_wait)
