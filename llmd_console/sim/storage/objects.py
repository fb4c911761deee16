"""Small helpers for Kubernetes objects held as plain dicts."""

from __future__ import annotations

import copy
import hashlib
import random
import re
import uuid
from typing import Any, TypeVar, cast

Obj = dict[str, Any]
T = TypeVar("T")

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


_ATOMS = (str, int, float, bool, type(None))


def _copy_json(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if kind is list:
        return [_copy_json(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def deep_copy(obj: T) -> T:
    """An independent copy of an object (stored objects are never mutated in place).

    Objects are JSON trees, so this copies dicts and lists and shares the immutable
    leaves: about three times faster than ``copy.deepcopy``, which matters when a
    controller writes thousands of pods. Anything else falls back to ``copy.deepcopy``.
    """
    return cast(T, _copy_json(obj))


def meta(obj: Obj) -> Obj:
    """The object's metadata, created if missing."""
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def name_of(obj: Obj) -> str:
    """metadata.name."""
    return str(obj.get("metadata", {}).get("name", ""))


def namespace_of(obj: Obj) -> str:
    """metadata.namespace ("" for cluster-scoped objects)."""
    return str(obj.get("metadata", {}).get("namespace", "") or "")


def labels_of(obj: Obj) -> dict[str, str]:
    """metadata.labels."""
    labels = obj.get("metadata", {}).get("labels") or {}
    return labels if isinstance(labels, dict) else {}


def new_uid() -> str:
    """A fresh UID."""
    return str(uuid.uuid4())


def is_dns_subdomain(name: str) -> bool:
    """Whether ``name`` is a valid DNS-1123 subdomain (most object names)."""
    return len(name) <= 253 and bool(_DNS_SUBDOMAIN.fullmatch(name))


def is_dns_label(name: str) -> bool:
    """Whether ``name`` is a valid DNS-1123 label (namespaces, services)."""
    return len(name) <= 63 and bool(_DNS_LABEL.fullmatch(name))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    """The random suffix Kubernetes appends to generated names."""
    return "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(length))


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """A stable pod-template-hash for a pod template (and the Deployment's collisionCount)."""
    salt = f"/{collision_count}" if collision_count else ""
    digest = hashlib.sha256((repr(_canonical(template)) + salt).encode()).hexdigest()
    # Kubernetes renders the hash in its safe alphabet; keep the look.
    n = int(digest[:12], 16)
    out = []
    for _ in range(10):
        n, r = divmod(n, len(_SUFFIX_ALPHABET))
        out.append(_SUFFIX_ALPHABET[r])
    return "".join(out)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    return value


def get_path(obj: Any, dotted: str) -> Any:
    """Look up ``a.b.c`` in nested dicts; None when any step is missing."""
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def condition(obj: Obj, ctype: str) -> Obj | None:
    """The status condition of the given type, if any."""
    for cond in obj.get("status", {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def set_condition(
    conditions: list[Obj],
    ctype: str,
    status: str,
    reason: str,
    message: str,
    now_iso: str,
    observed_generation: int | None = None,
    *,
    probe_time: bool = False,
) -> bool:
    """Set a condition in place; lastTransitionTime moves only when status changes.

    Returns whether anything changed.
    """
    for cond in conditions:
        if cond.get("type") == ctype:
            changed = (cond.get("status"), cond.get("reason"), cond.get("message")) != (status, reason, message)
            if cond.get("status") != status:
                cond["lastTransitionTime"] = now_iso
            cond.update({"status": status, "reason": reason, "message": message})
            if observed_generation is not None:
                changed = changed or cond.get("observedGeneration") != observed_generation
                cond["observedGeneration"] = observed_generation
            return changed
    new: Obj = {"type": ctype, "status": status, "reason": reason, "message": message, "lastTransitionTime": now_iso}
    if probe_time:
        new["lastProbeTime"] = None
    if observed_generation is not None:
        new["observedGeneration"] = observed_generation
    conditions.append(new)
    return True


def owner_ref(owner: Obj, *, controller: bool = True) -> Obj:
    """An ownerReference pointing at ``owner``."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name_of(owner),
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Obj) -> str | None:
    """UID of the controlling owner, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None
