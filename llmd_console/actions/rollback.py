"""Rollback: a Deployment's pod template set back to its previous ReplicaSet's, as
``kubectl rollout undo`` does, previewed as a diff of the template."""

from __future__ import annotations

import copy
from typing import Any

from llmd_console.actions.diff import object_diff
from llmd_console.actions.follow import Waiting, rollout_done
from llmd_console.actions.plan import Plan, Risk
from llmd_console.cluster.kube import KubeClient
from llmd_console.views.common import meta

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


class NoPreviousRevision(Exception):
    """The Deployment has no earlier revision to go back to."""


def _revision(obj: Obj) -> int:
    value = str((meta(obj).get("annotations") or {}).get(REVISION, "0"))
    return int(value) if value.isdigit() else 0


def previous_template(deployment: Obj, replica_sets: list[Obj]) -> tuple[int, Obj]:
    """The revision and pod template of the ReplicaSet before the current one (without the
    pod-template-hash label the controller adds)."""
    uid = meta(deployment).get("uid")
    owned = [
        rs
        for rs in replica_sets
        if any(ref.get("uid") == uid for ref in meta(rs).get("ownerReferences") or []) and _revision(rs)
    ]
    current = _revision(deployment)
    older = sorted((rs for rs in owned if _revision(rs) < current), key=_revision)
    if not older:
        raise NoPreviousRevision(f"deployment {meta(deployment).get('name')} has no previous revision to roll back to")
    chosen = older[-1]
    template = copy.deepcopy((chosen.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return _revision(chosen), template


async def read_rollback(kube: KubeClient, namespace: str, name: str) -> tuple[Obj, int, Obj]:
    """The Deployment, and the revision and template it would go back to."""
    dep = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    sets = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/replicasets")
    revision, template = previous_template(dep, list(sets.get("items") or []))
    return dep, revision, template


def plan_rollback(deployment: Obj, revision: int, template: Obj) -> Plan:
    """Undo the last rollout: the diff of the pod template."""
    name, ns = str(meta(deployment).get("name")), str(meta(deployment).get("namespace"))
    current = (deployment.get("spec") or {}).get("template") or {}
    diff = object_diff(f"Deployment/{name} spec.template", current, template)
    return Plan(
        action="rollback",
        title=f"Roll back {name} to revision {revision}",
        target=name,
        namespace=ns,
        changes=(f"the pod template of {name} becomes revision {revision}'s; its pods are replaced",),
        command=("kubectl", "rollout", "undo", f"deployment/{name}", "-n", ns),
        risk=Risk.DISRUPTIVE,
        diffs=(diff,),
    )


async def rollback(
    kube: KubeClient,
    namespace: str,
    name: str,
    template: Obj,
    seconds: float = 1800.0,
    *,
    on_wait: Waiting | None = None,
) -> str:
    """Replace the pod template (a JSON patch, so nothing of the current one stays), then wait for the rollout."""
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    patch = [{"op": "replace", "path": "/spec/template", "value": template}]
    await kube.send("PATCH", path, patch, content_type="application/json-patch+json")
    return await rollout_done(kube, namespace, name, seconds, on_wait=on_wait)
