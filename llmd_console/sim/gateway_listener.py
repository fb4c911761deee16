"""The Gateway's data-plane listener: what ``curl http://$GATEWAY_IP/...`` reaches.

It follows Gateway -> HTTPRoute -> InferencePool -> ready model pods and forwards
to the chosen pod's process, answering like the GKE load balancer when a hop is
missing.
"""

from __future__ import annotations

import errno
import random
import socket

from aiohttp import web

from llmd_console.sim.context import SimContext
from llmd_console.sim.errors import ApiError
from llmd_console.sim.objects import Obj, condition, name_of, namespace_of
from llmd_console.sim.proxy import forward_to_pod
from llmd_console.sim.selectors import Requirement

GW = "gateways.gateway.networking.k8s.io"
ROUTES = "httproutes.gateway.networking.k8s.io"
POOLS = "inferencepools.inference.networking.k8s.io"


def pick_address(rng: random.Random) -> tuple[str, int]:
    """A loopback address for the gateway: port 80 on a private 127.x address when the
    process may bind it (so ``http://$GATEWAY_IP/`` works unchanged), else an ephemeral port."""
    host = f"127.{rng.randrange(64, 250)}.{rng.randrange(1, 250)}.{rng.randrange(2, 250)}"
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, 80))
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EPERM):
            return "127.0.0.1", 0
        raise
    finally:
        probe.close()
    return host, 80


class GatewayListener:
    """Serves every Gateway of the cluster on one loopback listener."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def _gateway(self) -> Obj | None:
        gateways = self.ctx.store.list(GW) if self.ctx.registry.has(GW) else []
        programmed = [g for g in gateways if (condition(g, "Programmed") or {}).get("status") == "True"]
        return programmed[0] if programmed else None

    def _pools_for(self, gw: Obj) -> list[Obj]:
        if not self.ctx.registry.has(ROUTES) or not self.ctx.registry.has(POOLS):
            return []
        pools = []
        for route in self.ctx.store.list(ROUTES):
            for parent in (route.get("status") or {}).get("parents") or []:
                ref = parent.get("parentRef", {})
                accepted = any(
                    c.get("type") == "Accepted" and c.get("status") == "True" for c in parent.get("conditions") or []
                )
                if (
                    ref.get("name") != name_of(gw)
                    or ref.get("namespace", namespace_of(route)) != namespace_of(gw)
                    or not accepted
                ):
                    continue
                for rule in route.get("spec", {}).get("rules") or []:
                    for backend in rule.get("backendRefs") or []:
                        if backend.get("kind") == "InferencePool":
                            pool = self.ctx.store.get(
                                POOLS, backend.get("namespace", namespace_of(route)), backend.get("name", "")
                            )
                            if pool is not None:
                                pools.append(pool)
        return pools

    def ready_pods(self, pool: Obj) -> list[Obj]:
        """Pods the pool selects that are Ready."""
        labels = (pool.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
        reqs = [Requirement(k, "in", (str(v),)) for k, v in labels.items()]
        return [
            p
            for p in self.ctx.store.list("pods", namespace_of(pool), reqs)
            if (condition(p, "Ready") or {}).get("status") == "True" and not p["metadata"].get("deletionTimestamp")
        ]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Route one client request."""
        gw = self._gateway()
        if gw is None:
            return web.Response(status=503, text="no healthy upstream")
        pools = self._pools_for(gw)
        if not pools:
            # GKE's load balancer has no routing rule for the request.
            return web.Response(status=500, text="fault filter abort")
        pool = pools[0]
        pods = self.ready_pods(pool)
        if not pods:
            return web.Response(status=503, text="no healthy upstream")
        pod = pods[self.ctx.rng.randrange(len(pods))]
        port = int((pool["spec"].get("targetPorts") or [{"number": 8000}])[0]["number"])
        path = request.path_qs
        try:
            return await forward_to_pod(self.ctx, request, pod, port, path)
        except ApiError:
            return web.Response(
                status=503,
                text="upstream connect error or disconnect/reset before headers. reset reason: connection failure",
            )
