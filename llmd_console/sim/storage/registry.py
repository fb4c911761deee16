"""The resource types the simulated API server serves.

Built-in kinds are fixed; custom kinds come and go with their
CustomResourceDefinition objects, as on a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.storage.objects import Obj

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)  # the review kinds: answered, never stored


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives and what it may do."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    stored_as: str = ""  # another resource whose storage this one shares (events.k8s.io Events)
    custom: bool = False  # defined by a CustomResourceDefinition (no strategic merge patch, 422 type errors)

    @property
    def key(self) -> str:
        """The group-qualified resource name, e.g. ``deployments.apps``, under which objects are stored."""
        if self.stored_as:
            return self.stored_as
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def stored(self) -> bool:
        """Whether objects of this type are kept (the review kinds are only answered)."""
        return self.verbs != CREATE_ONLY

    @property
    def api_version(self) -> str:
        """``group/version`` (or ``v1`` for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        """Same as api_version; named for discovery documents."""
        return self.api_version


def _core(kind: str, plural: str, namespaced: bool, short: tuple[str, ...] = (), **kw: Any) -> ResourceType:
    return ResourceType("", "v1", kind, plural, kind.lower(), namespaced, short, **kw)


def _named(
    group: str, version: str, kind: str, plural: str, namespaced: bool, short: tuple[str, ...] = (), **kw: Any
) -> ResourceType:
    return ResourceType(group, version, kind, plural, kind.lower(), namespaced, short, **kw)


STATUS = ("status",)
SCALABLE = ("status", "scale")
RBAC = "rbac.authorization.k8s.io"


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _core(
        "Namespace",
        "namespaces",
        False,
        ("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=("status", "finalize"),
    ),
    _core("Node", "nodes", False, ("no",), subresources=("status", "proxy")),
    _core(
        "Pod",
        "pods",
        True,
        ("po",),
        subresources=("status", "log", "proxy", "eviction", "exec", "attach", "portforward"),
        categories=("all",),
    ),
    _core(
        "Service",
        "services",
        True,
        ("svc",),
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        subresources=("status", "proxy"),
        categories=("all",),
    ),
    _core("Endpoints", "endpoints", True, ("ep",)),
    _core("ReplicationController", "replicationcontrollers", True, ("rc",), subresources=SCALABLE, categories=("all",)),
    _core("PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), subresources=STATUS),
    _core("PersistentVolume", "persistentvolumes", False, ("pv",), subresources=STATUS),
    _core("ResourceQuota", "resourcequotas", True, ("quota",), subresources=STATUS),
    _core("LimitRange", "limitranges", True, ("limits",)),
    _core("PodTemplate", "podtemplates", True),
    _core("Event", "events", True, ("ev",)),
    _core("Secret", "secrets", True),
    _core("ConfigMap", "configmaps", True, ("cm",)),
    _core("ServiceAccount", "serviceaccounts", True, ("sa",)),
    ResourceType(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        True,
        ("deploy",),
        subresources=("status", "scale"),
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        True,
        ("rs",),
        subresources=("status", "scale"),
        categories=("all",),
    ),
    _named("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), subresources=SCALABLE, categories=("all",)),
    _named("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), subresources=STATUS, categories=("all",)),
    _named("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    _named("batch", "v1", "Job", "jobs", True, subresources=STATUS, categories=("all",)),
    _named("batch", "v1", "CronJob", "cronjobs", True, ("cj",), subresources=STATUS, categories=("all",)),
    *(
        _named(
            "autoscaling",
            v,
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            True,
            ("hpa",),
            subresources=STATUS,
            categories=("all",),
        )
        for v in ("v2", "v1")  # one storage, two served versions; v2 preferred
    ),
    _named("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), subresources=STATUS),
    _named("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), subresources=STATUS),
    _named("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    _named("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    _named("coordination.k8s.io", "v1", "Lease", "leases", True),
    _named("events.k8s.io", "v1", "Event", "events", True, ("ev",), stored_as="events"),
    _named("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    _named("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",)),
    _named(RBAC, "v1", "Role", "roles", True),
    _named(RBAC, "v1", "RoleBinding", "rolebindings", True),
    _named(RBAC, "v1", "ClusterRole", "clusterroles", False),
    _named(RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _named("apiregistration.k8s.io", "v1", "APIService", "apiservices", False, subresources=STATUS),
    _named("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False, verbs=CREATE_ONLY),
    _named("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False, verbs=CREATE_ONLY),
    _named(
        "authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False, verbs=CREATE_ONLY
    ),
    _named("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False, verbs=CREATE_ONLY),
    _named("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, verbs=CREATE_ONLY),
    _named(
        "authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", True, verbs=CREATE_ONLY
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        "customresourcedefinition",
        False,
        ("crd", "crds"),
        subresources=("status",),
    ),
)


def type_from_crd(crd: Obj) -> list[ResourceType]:
    """The resource types a CRD object defines (one per served version)."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    out = []
    for ver in spec.get("versions") or []:
        if not ver.get("served", True):
            continue
        subresources = tuple(k for k in (ver.get("subresources") or {}) if k in ("status", "scale"))
        out.append(
            ResourceType(
                group=spec.get("group", ""),
                version=ver.get("name", "v1"),
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                singular=names.get("singular") or names.get("kind", "").lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                subresources=subresources,
                categories=tuple(names.get("categories") or ()),
                printer_columns=tuple(ver.get("additionalPrinterColumns") or ()),
                custom=True,
            )
        )
    return out


class Registry:
    """Looks resource types up by group/version/plural, kind, or short name."""

    def __init__(self) -> None:
        self._builtin = list(BUILTIN_TYPES)
        self._custom: dict[str, list[ResourceType]] = {}

    def set_crd(self, crd_name: str, types: list[ResourceType]) -> None:
        """Register (or replace) the types of a CRD."""
        self._custom[crd_name] = types

    def remove_crd(self, crd_name: str) -> None:
        """Forget the types of a deleted CRD."""
        self._custom.pop(crd_name, None)

    def all(self) -> list[ResourceType]:
        """Every served type."""
        out = list(self._builtin)
        for types in self._custom.values():
            out.extend(types)
        return out

    def stored_types(self) -> list[ResourceType]:
        """One type per storage key (its preferred version): what holds objects."""
        seen: dict[str, ResourceType] = {}
        for rt in self.all():
            if rt.stored:
                seen.setdefault(rt.key, rt)
        return list(seen.values())

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at ``/apis/group/version/plural``."""
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def by_key(self, key: str) -> ResourceType:
        """The preferred type for a group-qualified resource (``deployments.apps``)."""
        for rt in self.all():
            if rt.key == key:
                return rt
        raise KeyError(key)

    def has(self, key: str) -> bool:
        """Whether a group-qualified resource is served now."""
        return any(rt.key == key for rt in self.all())

    def groups(self) -> dict[str, list[str]]:
        """Group name -> served versions (core group under "")."""
        out: dict[str, list[str]] = {}
        for rt in self.all():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out
