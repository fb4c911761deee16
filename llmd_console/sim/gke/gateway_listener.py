"""The Gateways' data-plane listeners: what ``curl http://$GATEWAY_IP/...`` reaches.

Each Gateway gets a load balancer of its own: its own loopback address and listener, as
each GKE Gateway gets its own forwarding rule and IP. A request follows that Gateway ->
its HTTPRoutes -> InferencePool -> ready model pods and is forwarded to the chosen pod's
process, answered like the GKE load balancer when a hop is missing.
"""

from __future__ import annotations

import asyncio
import errno
import random
import socket
import uuid

from aiohttp import web

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.proxy import forward_to_pod
from llmd_console.sim.controllers.endpoints import target_port
from llmd_console.sim.programs.epp import EppServer, Rejected, Routed
from llmd_console.sim.programs.vllm_server import FORWARDED_FOR, REQUEST_ID
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, condition, name_of, namespace_of
from llmd_console.sim.storage.selectors import Requirement

GW = "gateways.gateway.networking.k8s.io"
ROUTES = "httproutes.gateway.networking.k8s.io"
POOLS = "inferencepools.inference.networking.k8s.io"
# The load balancer's proxies connect from the region's proxy-only subnet.
PROXY_ADDRESS = "10.129.0.9"
MAX_REQUEST_ID = 256  # characters of a client's x-request-id kept (a longer one is replaced)


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


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _client_request_id(request: web.Request) -> str | None:
    """The client's x-request-id when it is a sane one (printable ASCII, not huge)."""
    value = request.headers.get("x-request-id", "")
    if value and len(value) <= MAX_REQUEST_ID and value.isascii() and value.isprintable():
        return value
    return None


class GatewayListener:
    """The load balancers of every Gateway: one listening address each, handed out when the
    controller programs a Gateway and closed when the Gateway goes away."""

    # A cloud project has far fewer forwarding rules than this; it bounds sockets and work.
    MAX_GATEWAYS = 64

    def __init__(self, ctx: SimContext, rng: random.Random, first: str) -> None:
        self.ctx = ctx
        self._rng = rng
        self._first = first  # the Gateway (namespace/name) the address bound at start is kept for
        self._runner: web.AppRunner | None = None
        self._by_key: dict[str, tuple[str, socket.socket, web.SockSite]] = {}
        self._by_sockname: dict[tuple[str, int], str] = {}
        self._spare: socket.socket | None = None  # the first address, bound before any Gateway exists
        self._starting: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        """Start serving; returns the address the first Gateway (the world's) will get."""
        app = web.Application()
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        self._spare = self._bind()
        return self._address(self._spare)

    async def stop(self) -> None:
        """Close every listener."""
        if self._runner is not None:
            await self._runner.cleanup()
        for _, sock, _ in self._by_key.values():
            sock.close()
        if self._spare is not None:
            self._spare.close()
        self._by_key.clear()
        self._by_sockname.clear()

    def _bind(self) -> socket.socket:
        host, port = pick_address(self._rng)
        try:
            return _listen(host, port)
        except OSError:
            return _listen("127.0.0.1", 0)

    @staticmethod
    def _address(sock: socket.socket) -> str:
        host, port = sock.getsockname()[:2]
        # Port 80 needs no port in the address, exactly like a cloud load balancer's IP.
        return str(host) if port == 80 else f"{host}:{port}"

    def address_for(self, key: str) -> str | None:
        """The address of the Gateway ``namespace/name``, assigned on first use (None when the
        project is out of load balancers)."""
        known = self._by_key.get(key)
        if known is not None:
            return known[0]
        if self._runner is None or len(self._by_key) >= self.MAX_GATEWAYS:
            return None
        if key == self._first and self._spare is not None:
            sock, self._spare = self._spare, None
        else:
            sock = self._bind()
        site = web.SockSite(self._runner, sock)
        task = asyncio.get_running_loop().create_task(site.start())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)
        address = self._address(sock)
        self._by_key[key] = (address, sock, site)
        self._by_sockname[sock.getsockname()[:2]] = key
        return address

    def retain(self, keys: set[str]) -> None:
        """Release the load balancers of Gateways not in ``keys`` (deleted ones)."""
        for key in [k for k in self._by_key if k not in keys]:
            _, sock, site = self._by_key.pop(key)
            self._by_sockname.pop(sock.getsockname()[:2], None)
            task = asyncio.get_running_loop().create_task(site.stop())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    def _gateway(self, request: web.Request) -> Obj | None:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        key = self._by_sockname.get(tuple(sockname[:2])) if sockname else None
        if key is None or not self.ctx.registry.has(GW):
            return None
        gw = self.ctx.store.get(GW, *key.split("/", 1))
        return gw if gw is not None and (condition(gw, "Programmed") or {}).get("status") == "True" else None

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

    def _endpoint_picker(self, pool: Obj) -> tuple[EppServer | None, str]:
        """The EPP serving ``pool`` (None when it cannot be reached) and the pool's failure mode."""
        ref = pool.get("spec", {}).get("endpointPickerRef") or {}
        mode = str(ref.get("failureMode", "FailClose"))
        svc = self.ctx.store.get("services", namespace_of(pool), str(ref.get("name", "")))
        if svc is None:
            return None, mode
        wanted = (ref.get("port") or {}).get("number")
        sport = next((p for p in svc.get("spec", {}).get("ports") or [] if p.get("port") == wanted), None)
        selector = svc.get("spec", {}).get("selector") or {}
        if sport is None or not selector:
            return None, mode
        reqs = [Requirement(k, "in", (str(v),)) for k, v in selector.items()]
        for pod in self.ctx.store.list("pods", namespace_of(pool), reqs):
            if (condition(pod, "Ready") or {}).get("status") != "True" or pod["metadata"].get("deletionTimestamp"):
                continue
            port = target_port(sport, pod)
            process = self.ctx.processes.for_port(pod["metadata"]["uid"], port) if port else None
            if isinstance(process, EppServer):
                return process, mode
        return None, mode

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Route one client request: Gateway -> HTTPRoute -> InferencePool -> EPP -> model pod."""
        gw = self._gateway(request)
        if gw is None:
            return web.Response(status=503, text="no healthy upstream")
        pools = self._pools_for(gw)
        if not pools:
            # GKE's load balancer has no routing rule for the request.
            return web.Response(status=500, text="fault filter abort")
        pool = pools[0]
        port = int((pool["spec"].get("targetPorts") or [{"number": 8000}])[0]["number"])
        generated = str(uuid.UUID(int=self.ctx.rng.getrandbits(128), version=4))
        # The EPP keys its logs by the request's x-request-id, and makes one up only when the
        # client sent none (the load balancer passes the header through).
        request_id = _client_request_id(request) or generated
        request[REQUEST_ID] = request_id
        request[FORWARDED_FOR] = PROXY_ADDRESS
        epp, mode = self._endpoint_picker(pool)
        routed: Routed | None = None
        if epp is not None and request.method == "POST":
            decision = epp.schedule(await request.read(), request_id)
            if isinstance(decision, Rejected):
                return web.Response(status=decision.status, text=decision.body)
            routed = decision
            pod = self.ctx.store.get("pods", *decision.pod.split("/", 1))
        elif epp is None and mode != "FailOpen":
            # The ext-proc call fails and the pool fails closed.
            return web.Response(status=500, text="ext_proc_error_gRPC_error_14")
        else:
            # Requests without a body (GET /health, /v1/models) and fail-open pools skip scheduling.
            pods = self.ready_pods(pool)
            pod = pods[self.ctx.rng.randrange(len(pods))] if pods else None
        status, size = 503, 0
        try:
            if pod is None:  # the picked pod went away in between
                return web.Response(status=503, text="no healthy upstream")
            response = await forward_to_pod(self.ctx, request, pod, port, request.path_qs)
            status = response.status
            size = response.body_length if response.prepared else len(getattr(response, "text", "") or "")
            return response
        except ApiError:
            return web.Response(
                status=503,
                text="upstream connect error or disconnect/reset before headers. reset reason: connection failure",
            )
        finally:
            if routed is not None and epp is not None:
                process = self.ctx.processes.for_port(pod["metadata"]["uid"], port) if pod else None
                usage = getattr(process, "usage_by_request", {}).pop(request_id, None)
                epp.complete(routed, status, size, usage)
