"""The simulated cluster's authorization: one user who may do everything except what a
test or a demo denies.

Two ways to deny, both checked by the API server (403 in RBAC's words) and by the access
reviews (``kubectl auth can-i``):

- a resource key in ``SimContext.denied`` (``"secrets"``, ``"deployments.apps"``): every
  verb on that resource and its subresources, in every namespace;
- a :class:`Denial` in ``SimContext.denials``: one verb (or ``*``) on one resource, with
  RBAC's ``resource/subresource`` spelling (``deployments`` does not cover
  ``deployments/scale``), optionally in one API group and one namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.wire import ResourcePath, flag
from llmd_console.sim.storage.registry import ResourceType

SIM_USER = "llmd-sim"
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*")
MAX_DENIALS = 256


@dataclass(frozen=True)
class Request:
    """What a request asks to do, as RBAC sees it (authorizer.Attributes)."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def rbac_resource(self) -> str:
        """``resource`` or ``resource/subresource``."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass(frozen=True)
class Denial:
    """One denied verb on one resource (``None`` group or namespace: any)."""

    verb: str
    resource: str
    group: str | None = None
    namespace: str | None = None

    def __post_init__(self) -> None:
        if self.verb not in VERBS:
            raise ValueError(f"unknown verb {self.verb!r}: expected one of {', '.join(VERBS)}")
        if not self.resource or self.resource.count("/") > 1:
            raise ValueError(f"bad resource {self.resource!r}: expected RESOURCE or RESOURCE/SUBRESOURCE")

    def matches(self, req: Request) -> bool:
        """Whether this denial covers ``req``."""
        return (
            self.verb in ("*", req.verb)
            and self.resource in ("*", req.rbac_resource)
            and self.group in (None, "*", req.group)
            and self.namespace in (None, req.namespace)
        )

    def to_json(self) -> dict[str, str | None]:
        """The denial as the control endpoint shows it."""
        return {"verb": self.verb, "resource": self.resource, "group": self.group, "namespace": self.namespace}


def resource_key(resource: str, group: str) -> str:
    """The storage key of a resource (``deployments.apps``, ``pods``)."""
    return f"{resource}.{group}" if group else resource


def is_denied(req: Request, denied: set[str], denials: list[Denial]) -> bool:
    """Whether the simulated policy forbids ``req``."""
    if req.resource == "*":
        return False
    if resource_key(req.resource, req.group) in denied:
        return True
    return any(d.matches(req) for d in denials)


def forbidden(req: Request) -> ApiError:
    """RBAC's 403, worded and detailed as the API server sends it."""
    qualified = resource_key(req.resource, req.group)
    target = f'{qualified} "{req.name}"' if req.name else qualified
    scope = f'in the namespace "{req.namespace}"' if req.namespace else "at the cluster scope"
    details: dict[str, str] = {"group": req.group, "kind": req.resource}
    if req.name:
        details = {"name": req.name, **details}
    return ApiError(
        403,
        f'{target} is forbidden: User "{SIM_USER}" cannot {req.verb} resource "{req.rbac_resource}" '
        f'in API group "{req.group}" {scope}',
        "Forbidden",
        details,
    )


def request_of(request: web.Request, rtype: ResourceType, rp: ResourcePath) -> Request:
    """The request's verb, resource, subresource, namespace and name, as RBAC names them."""
    sub = rp.subresource or ""
    if sub in ("exec", "attach", "portforward"):
        verb = "create"  # what RBAC checks for these, over SPDY and WebSockets alike
    elif request.method in ("GET", "HEAD"):
        verb = "watch" if flag(request, "watch") else ("get" if rp.name else "list")
    elif request.method == "DELETE":
        verb = "delete" if rp.name else "deletecollection"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(request.method, "get")
    return Request(verb, rtype.group, rtype.plural, sub, rp.namespace or "", rp.name or "")
