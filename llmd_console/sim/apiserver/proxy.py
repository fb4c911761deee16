"""The API server's pod and service proxy, forwarding to simulated processes."""

from __future__ import annotations

from aiohttp import web

from llmd_console.sim.apiserver.errors import ApiError, not_found
from llmd_console.sim.apiserver.wire import ResourcePath
from llmd_console.sim.controllers.endpoints import target_port
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, condition
from llmd_console.sim.storage.selectors import Requirement


def _split_name(raw: str) -> tuple[str, str | None]:
    """``name``, ``name:port`` or ``scheme:name:port`` -> (name, port)."""
    parts = raw.split(":")
    if len(parts) == 3:
        return parts[1], parts[2] or None
    if len(parts) == 2:
        return parts[0], parts[1] or None
    return raw, None


def _pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


async def forward_to_pod(ctx: SimContext, request: web.Request, pod: Obj, port: int, path: str) -> web.StreamResponse:
    """Send one request to the process listening on ``pod:port``."""
    ip = pod.get("status", {}).get("podIP", "")
    process = ctx.processes.for_port(pod["metadata"]["uid"], port)
    if process is None:
        raise ApiError(
            503,
            f"error trying to reach service: dial tcp {ip}:{port}: connect: connection refused",
            "ServiceUnavailable",
        )
    return await process.handle(port, path, request)


class ApiProxy:
    """Handles ``pods/NAME[:PORT]/proxy/PATH`` and ``services/NAME[:PORT]/proxy/PATH``."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    async def __call__(self, request: web.Request, rp: ResourcePath) -> web.StreamResponse:
        """Proxy one request."""
        name, port_text = _split_name(rp.name or "")
        ns = rp.namespace or ""
        if "Authorization" in request.headers:
            # The API server consumed the client's credentials: they do not travel on to the
            # pod (the authentication filter deletes the header once it has authenticated).
            headers = request.headers.copy()
            del headers["Authorization"]
            request = request.clone(headers=headers)
        path = "/" + rp.tail
        if request.query_string:
            path += "?" + request.query_string
        if rp.resource == "pods":
            pod = self.ctx.store.get("pods", ns, name)
            if pod is None:
                raise not_found("pods", name)
            port = self._pod_port(pod, port_text)
            return await forward_to_pod(self.ctx, request, pod, port, path)
        if rp.resource == "services":
            svc = self.ctx.store.get("services", ns, name)
            if svc is None:
                raise not_found("services", name)
            ports = svc.get("spec", {}).get("ports") or []
            sport = next((p for p in ports if port_text in (None, str(p.get("port")), p.get("name"))), None)
            if sport is None:
                raise ApiError(503, f'no endpoints available for service "{name}"', "ServiceUnavailable")
            selector = svc.get("spec", {}).get("selector") or {}
            reqs = [Requirement(k, "in", (str(v),)) for k, v in selector.items()]
            pods = (
                [
                    p
                    for p in self.ctx.store.list("pods", ns, reqs)
                    if _pod_ready(p) and not p["metadata"].get("deletionTimestamp")
                ]
                if selector
                else []
            )
            if not pods:
                raise ApiError(503, f'no endpoints available for service "{name}"', "ServiceUnavailable")
            pod = pods[self.ctx.rng.randrange(len(pods))]
            tport = target_port(sport, pod)
            if tport is None:
                raise ApiError(503, f'no endpoints available for service "{name}"', "ServiceUnavailable")
            return await forward_to_pod(self.ctx, request, pod, tport, path)
        raise ApiError(404, "the server could not find the requested resource")

    @staticmethod
    def _pod_port(pod: Obj, port_text: str | None) -> int:
        if port_text is None:
            for c in pod.get("spec", {}).get("containers") or []:
                for p in c.get("ports") or []:
                    return int(p["containerPort"])
            return 80
        if port_text.isdigit():
            return int(port_text)
        for c in pod.get("spec", {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == port_text:
                    return int(p["containerPort"])
        raise ApiError(400, f"invalid port name {port_text!r} for pod {pod['metadata']['name']}")
