"""Helpers the rules share: reading pod templates and InferencePools of either API
generation, and the fix commands with the current names filled in."""

from __future__ import annotations

from collections.abc import Callable

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding
from llmd_console.models import Obj, Snapshot
from llmd_console.sanitize import one_line
from llmd_console.views.common import TPU_RESOURCE, meta, quantity_int
from llmd_console.views.pools import pool_picker, pool_ports, pool_selector

__all__ = ["pool_picker", "pool_ports", "pool_selector"]
Rule = Callable[[Snapshot, Evidence], list[Finding]]
TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"
TPU_ACCELERATOR_LABEL = "cloud.google.com/gke-tpu-accelerator"
# TPU_CHIPS_PER_HOST_BOUNDS for each single-host topology (runbook: 2x2 -> 2,2,1; 2x4 -> 2,4,1).
HOST_BOUNDS = {"1x1": "1,1,1", "2x2": "2,2,1", "2x4": "2,4,1"}
# llm-d's newer group; the older (x-k8s.io) generation names the same kinds differently.
POOL_GROUP, OLD_POOL_GROUP = "inference.networking.k8s.io", "inference.networking.x-k8s.io"


def split(key: str) -> tuple[str, str]:
    """``namespace/name`` -> (namespace, name); a cluster-scoped key has no namespace."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def text(value: object, limit: int = 300) -> str:
    """A string from the cluster, made inert and bounded."""
    return one_line(str(value), limit)


def topology_chips(topology: str) -> int:
    """Chips of a TPU topology such as ``2x2`` (0 when it cannot be read)."""
    chips = 1
    try:
        for part in topology.split("x"):
            chips *= int(part)
    except ValueError:
        return 0
    return chips if topology else 0


def template_spec(deployment: Obj) -> Obj:
    """The pod spec of a Deployment's template."""
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def containers(pod_spec: Obj) -> list[Obj]:
    """The containers of a pod spec."""
    return [c for c in pod_spec.get("containers") or [] if isinstance(c, dict)]


def chips(container: Obj, part: str) -> int | None:
    """The container's ``google.com/tpu`` requests or limits (None when not set)."""
    value = ((container.get("resources") or {}).get(part) or {}).get(TPU_RESOURCE)
    return None if value is None else quantity_int(value)


def env_value(container: Obj, name: str) -> str | None:
    """A plain env var's value (None when absent or taken from elsewhere)."""
    for var in container.get("env") or []:
        if isinstance(var, dict) and var.get("name") == name:
            value = var.get("value")
            return None if value is None else str(value)
    return None


def arg_value(container: Obj, flag: str) -> str | None:
    """A command-line flag's value (``--flag value`` or ``--flag=value``)."""
    args = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
    for i, arg in enumerate(args):
        if arg.startswith(flag + "="):
            return arg.partition("=")[2]
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
    return None


def served_model(container: Obj) -> str:
    """The model a vLLM container serves (the first positional after ``serve``, else --model)."""
    model = arg_value(container, "--model")
    if model:
        return model
    args = [str(a) for a in container.get("args") or []]
    return next((a for a in args if not a.startswith("-") and "/" in a), "")


def is_tpu_workload(pod_spec: Obj) -> bool:
    """Whether a pod spec is meant for TPU nodes (it asks for chips or selects TPU nodes)."""
    selector = pod_spec.get("nodeSelector") or {}
    if TOPOLOGY_LABEL in selector or TPU_ACCELERATOR_LABEL in selector:
        return True
    return any(chips(c, "limits") or chips(c, "requests") for c in containers(pod_spec))


def selects(labels: dict[str, str], obj: Obj) -> bool:
    """Whether an object's labels carry every one of ``labels``."""
    have = meta(obj).get("labels") or {}
    return bool(labels) and all(have.get(k) == v for k, v in labels.items())


def resize_command(evidence: Evidence, nodes: int, pool: str | None = None) -> str:
    """The runbook's gcloud resize of a node pool."""
    gke = evidence.config.gke
    return (
        f"gcloud container clusters resize {gke.cluster} --node-pool {pool or gke.accelerator_pool} "
        f"--num-nodes {nodes} --zone {gke.location} --project {gke.project} --quiet"
    )


def owner_deployment(pod_name: str, deployments: list[str]) -> str | None:
    """The Deployment a pod belongs to, from its name (``<deployment>-<hash>-<suffix>``)."""
    best = None
    for name in deployments:
        if pod_name.startswith(name + "-") and (best is None or len(name) > len(best)):
            best = name
    return best
