"""Pod actions."""

from __future__ import annotations

from llmd_console.actions.plan import Plan, Risk
from llmd_console.cluster.kube import KubeClient
from llmd_console.models import Pod


def delete_pod_plan(pod: Pod) -> Plan:
    """Delete one pod; its controller (if any) makes a replacement."""
    owned = pod.role in ("decode", "prefill", "epp")
    changes = [f"pod {pod.name} in {pod.namespace} is deleted (graceful termination)"]
    if owned:
        changes.append("its ReplicaSet creates a replacement, which starts from the beginning")
    if pod.chips:
        changes.append(f"its {pod.chips} accelerator chip(s) are freed only when the pod has terminated")
    if pod.role in ("decode", "prefill"):
        changes.append("requests to this model server fail or move to others until the replacement is Ready")
    return Plan(
        action="delete-pod",
        title=f"Delete pod {pod.name}",
        target=pod.name,
        namespace=pod.namespace,
        changes=tuple(changes),
        command=("kubectl", "delete", "pod", pod.name, "-n", pod.namespace),
        risk=Risk.DISRUPTIVE if pod.role in ("decode", "prefill") else Risk.ROUTINE,
    )


async def delete_pod(client: KubeClient, pod: Pod) -> str:
    """Carry out :func:`delete_pod_plan`."""
    await client.delete(f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}")
    return "deleted; its replacement will appear in the pods table"
