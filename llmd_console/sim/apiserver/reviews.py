"""The review kinds (``authorization.k8s.io`` access reviews, ``authentication.k8s.io``
SelfSubjectReview and TokenReview): created, answered, never stored.

The simulated cluster has one user, the kubeconfig's token holder, who may do everything
except what a test or scenario forbids (``SimContext.denied`` and ``SimContext.denials``,
see :mod:`authz`, which the API server refuses with 403); ``kubectl auth can-i`` and
``auth whoami`` report exactly that.
"""

from __future__ import annotations

from typing import Any

from llmd_console.sim.apiserver.authz import SIM_USER, Denial, Request, is_denied
from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import Registry, ResourceType

__all__ = ["SIM_TOKEN", "SIM_USER", "answer"]
SIM_TOKEN = "llmd-sim"  # noqa: S105 - the simulator's published kubeconfig token, not a secret
SIM_GROUPS = ["system:authenticated"]
ALLOWED_REASON = f'the simulated cluster grants user "{SIM_USER}" every verb on every resource it serves'


def _request_of(attrs: Obj) -> Request:
    return Request(
        verb=str(attrs.get("verb") or ""),
        group=str(attrs.get("group") or ""),
        resource=str(attrs.get("resource") or ""),
        subresource=str(attrs.get("subresource") or ""),
        namespace=str(attrs.get("namespace") or ""),
        name=str(attrs.get("name") or ""),
    )


def _access_status(spec: Obj, denied: set[str], denials: list[Denial]) -> Obj:
    attrs = spec.get("resourceAttributes")
    if isinstance(attrs, dict):
        req = _request_of(attrs)
        if is_denied(req, denied, denials):
            # RBAC only grants: a request no rule grants is "no opinion", with no reason given.
            return {"allowed": False}
    elif not isinstance(spec.get("nonResourceAttributes"), dict):
        raise ApiError(
            422,
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
            '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
            "Invalid",
            {"group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview"},
        )
    return {"allowed": True, "reason": ALLOWED_REASON}


def _rules_status(registry: Registry, denied: set[str], denials: list[Denial], namespace: str) -> Obj:
    if not denied and not denials:
        rules: list[Obj] = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    else:
        rules = []
        for rt in registry.stored_types():
            if rt.key in denied:
                continue
            asked = (Request(v, rt.group, rt.plural, namespace=namespace) for v in rt.verbs)
            verbs = [a.verb for a in asked if not is_denied(a, set(), denials)]
            if verbs:
                rules.append({"verbs": sorted(verbs), "apiGroups": [rt.group], "resources": [rt.plural]})
    return {
        "resourceRules": rules,
        "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        "incomplete": False,
    }


def answer(registry: Registry, rtype: ResourceType, body: Obj, denied: set[str], denials: list[Denial]) -> Obj:
    """The review ``body`` asked for, with its ``status`` filled in."""
    spec: Obj = body["spec"] if isinstance(body.get("spec"), dict) else {}
    status: Any
    if rtype.kind in ("SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview"):
        status = _access_status(spec, denied, denials)
    elif rtype.kind == "SelfSubjectRulesReview":
        status = _rules_status(registry, denied, denials, str(spec.get("namespace") or ""))
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
