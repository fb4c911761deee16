"""Objects every GKE cluster has before anyone installs anything: the cluster-admin RBAC
role and binding, GKE's StorageClasses, the two system PriorityClasses, and one APIService
per served group version."""

from __future__ import annotations

from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj

RBAC_DEFAULTS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
# GKE's StorageClasses: (name, provisioner, disk type, binding mode, is the default)
GKE_STORAGE_CLASSES = (
    ("premium-rwo", "pd.csi.storage.gke.io", "pd-ssd", "WaitForFirstConsumer", False),
    ("standard", "kubernetes.io/gce-pd", "pd-standard", "Immediate", False),
    ("standard-rwo", "pd.csi.storage.gke.io", "pd-balanced", "WaitForFirstConsumer", True),
)
# The API server's own PriorityClasses: (name, value, description)
SYSTEM_PRIORITY_CLASSES = (
    (
        "system-cluster-critical",
        2000000000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
    (
        "system-node-critical",
        2000001000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
)
# APIServices of CRD groups, as the API server's CRD auto-registration writes them.
CRD_GROUP_PRIORITY, CRD_VERSION_PRIORITY = 1000, 100


def _cluster_admin() -> list[tuple[str, Obj]]:
    meta = {"name": "cluster-admin", "labels": RBAC_DEFAULTS, "annotations": AUTOUPDATE}
    role: Obj = {
        "metadata": meta,
        "rules": [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]},
        ],
    }
    binding: Obj = {
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}],
    }
    return [
        ("clusterroles.rbac.authorization.k8s.io", role),
        ("clusterrolebindings.rbac.authorization.k8s.io", binding),
    ]


def _storage_classes() -> list[tuple[str, Obj]]:
    out = []
    for name, provisioner, disk, binding, default in GKE_STORAGE_CLASSES:
        meta: Obj = {"name": name, "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"}}
        if default:
            meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
        sc: Obj = {
            "metadata": meta,
            "provisioner": provisioner,
            "parameters": {"type": disk},
            "reclaimPolicy": "Delete",
            "volumeBindingMode": binding,
            "allowVolumeExpansion": True,
        }
        out.append(("storageclasses.storage.k8s.io", sc))
    return out


def _priority_classes() -> list[tuple[str, Obj]]:
    return [
        (
            "priorityclasses.scheduling.k8s.io",
            {
                "metadata": {"name": name},
                "value": value,
                "description": description,
                "preemptionPolicy": "PreemptLowerPriority",
            },
        )
        for name, value, description in SYSTEM_PRIORITY_CLASSES
    ]


def _api_services(ctx: SimContext, crd_groups: set[str]) -> list[tuple[str, Obj]]:
    """One Local APIService per served group version. Built-in groups get descending
    priorities, the core group first (the numbers keep an order; they are not the server's
    own table); CRD groups get the auto-registration's."""
    groups = ctx.registry.groups()
    out = []
    for rank, group in enumerate(sorted(groups, key=lambda g: (g in crd_groups, g != "", g))):
        for index, version in enumerate(groups[group]):
            crd = group in crd_groups
            spec: Obj = {
                "version": version,
                "groupPriorityMinimum": CRD_GROUP_PRIORITY if crd else 18000 - 100 * rank,
                "versionPriority": CRD_VERSION_PRIORITY - index if crd else 15 - index,
            }
            if group:
                spec["group"] = group
            name = f"{version}.{group}" if group else version
            out.append(("apiservices.apiregistration.k8s.io", {"metadata": {"name": name}, "spec": spec}))
    return out


def seed_builtin_objects(ctx: SimContext, crd_groups: set[str]) -> None:
    """Create the objects a new GKE cluster starts with; ``crd_groups`` are the groups the
    world's CRDs serve (their APIServices are the auto-registered kind)."""
    for key, obj in [
        *_cluster_admin(),
        *_storage_classes(),
        *_priority_classes(),
        *_api_services(ctx, crd_groups),
    ]:
        created = ctx.create(key, obj)
        if key.startswith("apiservices."):
            available = {
                "type": "Available",
                "status": "True",
                "lastTransitionTime": created["metadata"]["creationTimestamp"],
                "reason": "Local",
                "message": "Local APIServices are always available",
            }
            updated = {**created, "status": {"conditions": [available]}}
            ctx.store.update(ctx.rt(key), updated, status_only=True)
