"""The review kinds (``authorization.k8s.io`` access reviews, ``authentication.k8s.io``
SelfSubjectReview and TokenReview): created, answered, never stored.

The simulated cluster has one user, the kubeconfig's token holder, who may do everything
except what a scenario forbids (``SimContext.denied``, which the API server refuses with
403); ``kubectl auth can-i`` and ``auth whoami`` report exactly that.
"""

from __future__ import annotations

from typing import Any

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import Registry, ResourceType

SIM_USER = "llmd-sim"
SIM_TOKEN = "llmd-sim"  # noqa: S105 - the simulator's published kubeconfig token, not a secret
SIM_GROUPS = ["system:authenticated"]
ALLOWED_REASON = f'the simulated cluster grants user "{SIM_USER}" every verb on every resource it serves'


def _denied_key(registry: Registry, attrs: Obj, denied: set[str]) -> str | None:
    """The denied storage key a resourceAttributes names, if any."""
    resource, group = str(attrs.get("resource") or ""), str(attrs.get("group") or "")
    for rt in registry.all():
        if rt.key in denied and resource in (rt.plural, "*") and group in (rt.group, "*"):
            return rt.key
    return None


def _access_status(registry: Registry, spec: Obj, denied: set[str]) -> Obj:
    attrs = spec.get("resourceAttributes")
    if isinstance(attrs, dict):
        key = _denied_key(registry, attrs, denied)
        if key is not None:
            return {
                "allowed": False,
                "denied": True,
                "reason": f'the simulated cluster forbids user "{SIM_USER}" access to {key}',
            }
    elif not isinstance(spec.get("nonResourceAttributes"), dict):
        raise ApiError(
            422,
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
            '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
            "Invalid",
            {"group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview"},
        )
    return {"allowed": True, "reason": ALLOWED_REASON}


def _rules_status(registry: Registry, denied: set[str]) -> Obj:
    if not denied:
        rules: list[Obj] = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    else:
        by_group: dict[str, list[str]] = {}
        for rt in registry.stored_types():
            if rt.key not in denied:
                by_group.setdefault(rt.group, []).append(rt.plural)
        rules = [{"verbs": ["*"], "apiGroups": [g], "resources": sorted(r)} for g, r in sorted(by_group.items())]
    return {
        "resourceRules": rules,
        "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        "incomplete": False,
    }


def answer(registry: Registry, rtype: ResourceType, body: Obj, denied: set[str]) -> Obj:
    """The review ``body`` asked for, with its ``status`` filled in."""
    spec: Obj = body["spec"] if isinstance(body.get("spec"), dict) else {}
    status: Any
    if rtype.kind in ("SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview"):
        status = _access_status(registry, spec, denied)
    elif rtype.kind == "SelfSubjectRulesReview":
        status = _rules_status(registry, denied)
    elif rtype.kind == "SelfSubjectReview":
        status = {"userInfo": {"username": SIM_USER, "groups": SIM_GROUPS}}
    elif rtype.kind == "TokenReview":
        if spec.get("token") == SIM_TOKEN:
            status = {"authenticated": True, "user": {"username": SIM_USER, "groups": SIM_GROUPS}}
        else:
            status = {"authenticated": False, "error": "the token is not the simulated cluster's"}
    else:
        raise ApiError(405, f"the server does not allow this method on the requested resource (POST {rtype.key})")
    metadata = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
    out: Obj = {
        "kind": rtype.kind,
        "apiVersion": rtype.api_version,
        "metadata": {**metadata, "creationTimestamp": None},
    }
    if rtype.kind != "SelfSubjectReview":  # the one review kind without a spec
        out["spec"] = spec
    out["status"] = status
    return out
