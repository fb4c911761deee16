"""Node pools, nodes and their accelerator chips: who holds which chip, and what it costs."""

from __future__ import annotations

from types import MappingProxyType

from llmd_console.models import Node, NodePool, Obj, TpuSlice
from llmd_console.sanitize import one_line
from llmd_console.views.common import (
    ACCELERATOR_LABELS,
    GPU_RESOURCE,
    TPU_RESOURCE,
    is_true,
    meta,
    name,
    pod_accelerators,
    quantity_int,
)


def _labels(node: Obj) -> dict[str, str]:
    labels = meta(node).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def accelerator_of(node: Obj) -> str:
    """The accelerator label value (tpu-v6e-slice, nvidia-h100-80gb) or ""."""
    labels = _labels(node)
    return next((one_line(labels[k], 63) for k in ACCELERATOR_LABELS if k in labels), "")


def chips_of(node: Obj) -> int:
    """Allocatable accelerator chips."""
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return quantity_int(alloc.get(TPU_RESOURCE)) + quantity_int(alloc.get(GPU_RESOURCE))


def node_status(node: Obj) -> tuple[str, bool]:
    """kubectl's STATUS column for a node, and whether it is Ready."""
    ready = is_true(node, "Ready")
    text = "Ready" if ready else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text, ready


def live_pods_on(pods: list[Obj]) -> dict[str, list[Obj]]:
    """Pods that hold node resources, by node name, oldest first."""
    out: dict[str, list[Obj]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        phase = (pod.get("status") or {}).get("phase")
        if node and phase not in ("Succeeded", "Failed"):
            out.setdefault(str(node), []).append(pod)
    for items in out.values():
        items.sort(key=lambda p: str(meta(p).get("creationTimestamp", "")))
    return out


def node_model(node: Obj, pods: list[Obj]) -> Node:
    """One node, with the pods that hold its resources."""
    labels = _labels(node)
    status, ready = node_status(node)
    return Node(
        name=name(node),
        pool=one_line(labels.get("cloud.google.com/gke-nodepool", ""), 63),
        status=status,
        ready=ready,
        machine=one_line(labels.get("node.kubernetes.io/instance-type", ""), 63),
        accelerator=accelerator_of(node),
        topology=one_line(labels.get("cloud.google.com/gke-tpu-topology", ""), 20),
        chips_used=sum(pod_accelerators(p) for p in pods),
        chips_total=chips_of(node),
        pods=len(pods),
    )


def node_rows(nodes: list[Obj], by_node: dict[str, list[Obj]]) -> list[Node]:
    """Every node, by pool then name."""
    rows = [node_model(node, by_node.get(meta(node).get("name", ""), [])) for node in nodes]
    rows.sort(key=lambda r: (r.pool, r.name))
    return rows


def pool_rows(rows: list[Node], prices: dict[str, float]) -> list[NodePool]:
    """Pools summed from node rows, with the hourly cost of their accelerator chips."""
    pools: dict[str, list[Node]] = {}
    for row in rows:
        pools.setdefault(row.pool or "(no pool)", []).append(row)
    out = []
    for pool, members in sorted(pools.items()):
        accelerator = next((m.accelerator for m in members if m.accelerator), "")
        chips = sum(m.chips_total for m in members)
        price = prices.get(accelerator) if accelerator else None
        out.append(
            NodePool(
                name=pool,
                nodes=len(members),
                ready=sum(1 for m in members if m.ready),
                machine=members[0].machine,
                accelerator=accelerator,
                chips=chips,
                cost_per_hour=chips * price if price is not None else None,
            )
        )
    return out


def chip_map(node: Obj, pods: list[Obj]) -> TpuSlice | None:
    """The node's chips in topology order, filled by its pods in creation order.

    The API does not say which device IDs the device plugin gave a pod; chips are
    shown in allocation order, which is exact when one pod holds them all (Pattern 1).
    Chips in the node's capacity but not allocatable are the ones the device plugin
    reports unhealthy (which ones is not said either: they are drawn last); on a node
    that is not Ready every chip is."""
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or {}
    capacity = status.get("capacity") or {}
    tpu = quantity_int(allocatable.get(TPU_RESOURCE)) or quantity_int(capacity.get(TPU_RESOURCE))
    resource = TPU_RESOURCE if tpu else GPU_RESOURCE
    usable = quantity_int(allocatable.get(resource))
    total = max(usable, quantity_int(capacity.get(resource)))
    if total <= 0:
        return None
    labels = _labels(node)
    topology = one_line(labels.get("cloud.google.com/gke-tpu-topology", ""), 20)
    dims = [int(d) for d in topology.split("x") if d.isdigit()] if topology else []
    if dims and _product(dims) == total:
        columns, rows = dims[0], _product(dims[1:]) if len(dims) > 1 else 1
    else:
        columns, rows = min(total, 4), -(-total // min(total, 4))
    owners: list[str] = []
    roles: dict[str, str] = {}
    for pod in pods:
        chips = pod_accelerators(pod)
        if chips:
            holder = name(pod)
            owners.extend([holder] * chips)
            roles[holder] = one_line(str((meta(pod).get("labels") or {}).get("llm-d.ai/role", "")), 30)
    owners = (owners + [""] * total)[:total]
    unhealthy = total if not node_status(node)[1] else total - usable
    return TpuSlice(
        name(node),
        columns,
        rows,
        tuple(owners),
        "TPU" if resource == TPU_RESOURCE else "GPU",
        MappingProxyType(roles),
        unhealthy,
        topology,
        accelerator_of(node),
    )


def _product(values: list[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
