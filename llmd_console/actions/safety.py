"""Before and around an action: may the user do it (SelfSubjectAccessReview), one action at a
time, and cluster errors explained in words that name what to do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.gke.client import GkeError
from llmd_console.views.gateway import GATEWAY_API_FIX, POOL_CRD_FIX

# action id -> what it does to which resources: (verb, API group, resource, subresource).
_PATTERN1 = (
    ("", "serviceaccounts"),
    ("", "services"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("apps", "deployments"),
    ("inference.networking.k8s.io", "inferencepools"),
    ("gateway.networking.k8s.io", "gateways"),
    ("gateway.networking.k8s.io", "httproutes"),
)
_SCALE = (("patch", "apps", "deployments", "scale"),)
# action id -> what it does to which resources: (verb, API group, resource, subresource). Node-pool
# changes go through the Container API, whose IAM no SelfSubjectAccessReview can answer: the
# Kubernetes side of scale-to-zero and back is checked, the pool resize says its own refusal.
NEEDS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "deploy": tuple(("patch", group, resource, "") for group, resource in _PATTERN1),
    "deploy-take-over": tuple(("patch", group, resource, "") for group, resource in _PATTERN1),
    "undeploy": tuple(("delete", group, resource, "") for group, resource in _PATTERN1),
    "restart": (("patch", "apps", "deployments", ""),),
    "delete-pod": (("delete", "", "pods", ""),),
    "scale": _SCALE,
    "scale-pool": (),
    "scale-to-zero": _SCALE,
    "scale-back": _SCALE,
    "rollback": (("patch", "apps", "deployments", ""), ("list", "apps", "replicasets", "")),
}
_CRD_FIX = {
    "inferencepools": POOL_CRD_FIX,
    "gateways": GATEWAY_API_FIX,
    "httproutes": GATEWAY_API_FIX,
}
_MANAGERS = re.compile(r'conflicts? with "([^"]+)"')
FORCE_HINT = " (applying with force takes them over)"


@dataclass(frozen=True)
class Permission:
    """Whether an action is allowed; when not, which verb on which resource is refused."""

    allowed: bool
    reason: str = ""


async def permitted(kube: KubeClient, action: str, namespace: str) -> Permission:
    """Ask the API server (SelfSubjectAccessReview) whether ``action`` is allowed in ``namespace``.
    An unknown action id is refused, so a new action cannot be offered unchecked."""
    needs = NEEDS.get(action)
    if needs is None:
        return Permission(False, f"unknown action {action!r}")
    for verb, group, resource, sub in needs:
        try:
            status = await kube.can_i(verb, group, resource, namespace, sub=sub)
        except KubeError as exc:
            return Permission(False, f"cannot ask whether {action} is allowed: {exc}")
        if not status.get("allowed"):
            what = f"{resource}/{sub}" if sub else resource
            where = f"{what}.{group}" if group else what
            why = str(status.get("reason") or "")
            return Permission(False, f"not allowed to {verb} {where} in {namespace}" + (f" ({why})" if why else ""))
    return Permission(True)


def explain(exc: BaseException, resource: str = "") -> str:
    """An error from the cluster in words: RBAC names the verb and resource, a missing CRD names
    the install step, a conflict names the other field manager."""
    if isinstance(exc, GkeError):
        if exc.status in (401, 403):
            return f"{exc} (check `gcloud auth login` and the container.nodePools.update permission)"
        return str(exc)
    if not isinstance(exc, KubeError):
        return str(exc) or type(exc).__name__
    if exc.status == 403:
        return f"forbidden by RBAC: {exc.message}"
    if exc.status == 404 and "could not find the requested resource" in exc.message and resource in _CRD_FIX:
        return f"the {resource} API is not served (its CRD is not installed): {_CRD_FIX[resource]}"
    if exc.status == 409:
        managers = _MANAGERS.findall(exc.message)
        if managers:
            return (
                f"conflict: field(s) owned by field manager {', '.join(sorted(set(managers)))}: {exc.message}"
                + FORCE_HINT
            )
    return str(exc)


TAKE_OVER = "Deploy, taking over fields"  # the palette's name for the deploy with force


class Busy(Exception):
    """Another action is running."""


class OneAtATime:
    """Lets one action run at a time: a second start while one runs is refused, not queued."""

    def __init__(self) -> None:
        self.running: str | None = None

    @contextmanager
    def hold(self, title: str) -> Iterator[None]:
        """Hold the slot for ``title``; raises :class:`Busy` if another action has it."""
        if self.running is not None:
            raise Busy(f"{self.running} is still running")
        self.running = title
        try:
            yield
        finally:
            self.running = None
