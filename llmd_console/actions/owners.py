"""Which Deployment controls a pod: its controller ReplicaSet's controller, read from the API
(ownerReferences, as the garbage collector follows them), never guessed from names."""

from __future__ import annotations

from typing import Any

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.views.common import meta


def _controller(obj: dict[str, Any], kind: str) -> str | None:
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") and ref.get("kind") == kind:
            return str(ref.get("name") or "") or None
    return None


async def owning_deployment(kube: KubeClient, namespace: str, pod: str) -> str | None:
    """The name of the Deployment that manages ``pod``, or None (a bare pod, a StatefulSet's,
    a ReplicaSet without a Deployment, or an owner already gone)."""
    obj = await kube.get(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    replica_set = _controller(obj, "ReplicaSet")
    if replica_set is None:
        return None
    try:
        rs = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/replicasets/{replica_set}")
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise
    return _controller(rs, "Deployment")
