"""Restart: a Deployment's rollout restart (the ``kubectl.kubernetes.io/restartedAt`` annotation
on its pod template, as ``kubectl rollout restart`` sets it), or one pod deleted so its
ReplicaSet replaces it. Done when the new pods are Ready."""

from __future__ import annotations

import time
from typing import Any

from llmd_console.actions.facts import ACCELERATOR_LABELS, ClusterFacts
from llmd_console.actions.follow import Waiting, rollout_done
from llmd_console.actions.plan import Plan, Risk
from llmd_console.cluster.kube import KubeClient
from llmd_console.views.common import meta, pod_accelerators

Obj = dict[str, Any]
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def surge_warnings(deployment: Obj, facts: ClusterFacts) -> tuple[str, ...]:
    """A rolling restart starts a new pod before an old one stops: when that pod needs more
    accelerator chips than are free, it stays Pending and the restart never ends."""
    spec = deployment.get("spec") or {}
    if ((spec.get("strategy") or {}).get("type") or "RollingUpdate") != "RollingUpdate":
        return ()
    pod = (spec.get("template") or {}).get("spec") or {}
    chips = pod_accelerators({"spec": pod})
    selector = pod.get("nodeSelector") or {}
    accelerator = next((str(selector[k]) for k in ACCELERATOR_LABELS if selector.get(k)), None)
    free = facts.free_chips(accelerator)
    if chips and chips > free:
        return (
            f"each new pod needs {chips} chip(s) and {free} are free: a rolling restart starts a new pod "
            "before stopping an old one, so it would stay Pending; delete the pod instead (restart by deletion)",
        )
    return ()


def plan_restart(namespace: str, name: str, replicas: int, warnings: tuple[str, ...] = ()) -> Plan:
    """Rollout restart of Deployment ``name``: y/n (its pods are replaced as its strategy says);
    ``warnings`` from :func:`surge_warnings`."""
    return Plan(
        action="restart",
        title=f"Restart deployment {name}",
        target=name,
        namespace=namespace,
        changes=(
            f"the pod template of {name} gets a new {RESTARTED_AT} annotation",
            f"its {replicas} pod(s) are replaced by new ones, as its rollout strategy allows",
        ),
        command=("kubectl", "rollout", "restart", f"deployment/{name}", "-n", namespace),
        risk=Risk.ROUTINE,
        warnings=warnings,
    )


async def restart(
    kube: KubeClient, namespace: str, name: str, seconds: float = 1800.0, *, on_wait: Waiting | None = None
) -> str:
    """Set the restart annotation, then wait until every replica is a new, Ready pod."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    await kube.send("PATCH", path, patch, content_type="application/strategic-merge-patch+json")
    return await rollout_done(kube, namespace, name, seconds, on_wait=on_wait)


async def delete_and_replace(
    kube: KubeClient,
    namespace: str,
    pod: str,
    deployment: str,
    seconds: float = 1800.0,
    *,
    on_wait: Waiting | None = None,
) -> str:
    """Delete one pod of ``deployment`` and wait until its replacement is Ready."""
    before = await kube.get(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    await kube.delete(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    said = await rollout_done(
        kube, namespace, deployment, seconds, avoid=str(meta(before).get("name")), on_wait=on_wait
    )
    return f"{pod} deleted and replaced; {said}"
