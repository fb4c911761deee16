"""Pod resource requests and node capacity arithmetic."""

from __future__ import annotations

from decimal import Decimal

from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.quantity import parse_quantity

ACCELERATORS = ("google.com/tpu", "nvidia.com/gpu")


def pod_requests(pod: Obj) -> dict[str, Decimal]:
    """Summed container requests (limits stand in for missing requests), plus one ``pods`` slot."""
    total: dict[str, Decimal] = {"pods": Decimal(1)}
    for c in pod.get("spec", {}).get("containers") or []:
        res = c.get("resources") or {}
        merged = dict(res.get("limits") or {})
        merged.update(res.get("requests") or {})
        for name, qty in merged.items():
            try:
                total[name] = total.get(name, Decimal(0)) + parse_quantity(qty)
            except ValueError:
                continue
    return total


def node_allocatable(node: Obj) -> dict[str, Decimal]:
    """A node's allocatable resources."""
    out: dict[str, Decimal] = {}
    for name, qty in (node.get("status", {}).get("allocatable") or {}).items():
        try:
            out[name] = parse_quantity(qty)
        except ValueError:
            continue
    return out


def pod_is_active(pod: Obj) -> bool:
    """Whether a pod still holds its node's resources (not Succeeded/Failed)."""
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def accelerator_count(pod: Obj) -> tuple[str, int]:
    """(resource name, count) of the accelerator a pod requests, or ("", 0)."""
    req = pod_requests(pod)
    for name in ACCELERATORS:
        if req.get(name):
            return name, int(req[name])
    return "", 0
