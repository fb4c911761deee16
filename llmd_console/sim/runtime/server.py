"""Assembles and runs one simulated cluster, in the current event loop or in a thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from llmd_console.sim.apiserver.api import MAX_REQUEST_BYTES, KubeApi
from llmd_console.sim.apiserver.proxy import ApiProxy
from llmd_console.sim.controllers.base import Controller
from llmd_console.sim.controllers.endpoints import EndpointsController
from llmd_console.sim.controllers.gateway import GatewayController
from llmd_console.sim.controllers.jobs import Jobs
from llmd_console.sim.controllers.kubelet import Kubelet
from llmd_console.sim.controllers.lifecycle import Lifecycle
from llmd_console.sim.controllers.scheduler import Scheduler
from llmd_console.sim.controllers.workloads import Deployments, ReplicaSets
from llmd_console.sim.gke.gateway_listener import GatewayListener
from llmd_console.sim.gke.gke_api import GkeApi
from llmd_console.sim.gke.nodepools import NodePools
from llmd_console.sim.runtime.clock import SimClock
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.runtime.control import PREFIX as CONTROL_PREFIX
from llmd_console.sim.runtime.control import Control
from llmd_console.sim.runtime.tls import ServingTls, serving_tls
from llmd_console.sim.worlds.scenarios import Faults
from llmd_console.sim.worlds.world import (
    CLUSTER,
    GATEWAY_NAME,
    LOCATION,
    NAMESPACE,
    PROJECT,
    accelerator_for,
    build_large,
    build_pattern1,
)

T = TypeVar("T")
CONTEXT_NAME = "llmd-sim"


@dataclass
class SimOptions:
    """How to start a simulated cluster."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port
    tls_port: int = 0  # the HTTPS endpoint the GKE API publishes (0 picks a free port)
    speed: float = 1.0
    accelerator: str = "tpu"  # tpu | gpu
    seed: int = 0
    nodes: int | None = None  # a generated large world instead of Pattern 1
    pods: int | None = None
    scenario: str | None = None  # a fault scenario to start in
    latency_scale: float = 1.0  # multiplies every inference latency (0: instant)
    releases: str = "runbook"  # runbook | current | legacy: the vLLM and EPP images, so their metric names
    epp_metrics_auth: bool = False  # the EPP's /metrics wants a bearer token (its default upstream)
    frozen_at: float | None = None
    history_limit: int = 200_000


class SimCluster:
    """A simulated llm-d cluster serving the Kubernetes API on loopback."""

    def __init__(self, options: SimOptions | None = None) -> None:
        self.options = options or SimOptions()
        self.ctx = SimContext(SimClock(self.options.speed, self.options.frozen_at), random.Random(self.options.seed))
        self.ctx.store.history_limit = self.options.history_limit
        self.lifecycle = Lifecycle(self.ctx)
        self.ctx.deleter = self.lifecycle.delete
        self.controllers: list[Controller] = [
            self.lifecycle,
            Scheduler(self.ctx),
            Kubelet(self.ctx),
            ReplicaSets(self.ctx),
            Deployments(self.ctx),
            Jobs(self.ctx),
            EndpointsController(self.ctx),
            GatewayController(self.ctx),
        ]
        self.node_pools = NodePools(self.ctx, PROJECT, LOCATION, CLUSTER)
        self.ctx.latency = replace(self.ctx.latency, scale=self.options.latency_scale)
        self.faults: Faults | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._gateways: GatewayListener | None = None
        self._site: web.TCPSite | None = None
        self._tls_site: web.TCPSite | None = None
        self._tls: ServingTls
        self.tls_port = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API server's base URL."""
        return f"http://{self.options.host}:{self.port}"

    # ---- running in the caller's loop ---------------------------------------
    async def start_async(self) -> None:
        """Build the world and start serving in the running event loop."""
        self._loop = asyncio.get_running_loop()
        await self._start_gateway()
        self._build_world()
        self._tasks = [self._loop.create_task(c.run()) for c in self.controllers]
        api = KubeApi(self.ctx, self.lifecycle.delete, ApiProxy(self.ctx), lambda: f"{self.options.host}:{self.port}")
        gke = GkeApi(self.node_pools)
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        # [\s\S]: a path with an encoded newline is still routed (".*" would stop at it).
        app.router.add_route("*", "/v1/projects/{tail:[\\s\\S]*}", gke.dispatch)
        app.router.add_route("*", CONTROL_PREFIX + "/{tail:[\\s\\S]*}", Control(self.faults, self.ctx).dispatch)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", api.dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port, reuse_address=True)
        await site.start()
        self._site = site
        self.port = int(self._runner.addresses[0][1])
        # The same API over HTTPS, as the cluster's endpoint (what get-credentials writes).
        tls = serving_tls(self.options.host, CLUSTER)
        self._tls = tls
        self._tls_site = web.TCPSite(
            self._runner, self.options.host, self.options.tls_port, ssl_context=tls.context, reuse_address=True
        )
        await self._tls_site.start()
        self.tls_port = int(self._runner.addresses[-1][1])
        gke.endpoint = f"{self.options.host}:{self.tls_port}"
        gke.ca_pem = tls.ca_pem

    async def stop_api_async(self) -> None:
        """Take the API server off the network (the cluster keeps running), as an outage would."""
        self.ctx.store.close_all_watches()
        for running in (self._site, self._tls_site):
            if running is not None:
                await running.stop()
        self._site = self._tls_site = None
        server = self._runner.server if self._runner is not None else None
        for handler in server.connections if server is not None else []:
            # Kept-alive client connections die with the server, too.
            handler.force_close()

    async def restart_api_async(self) -> None:
        """Serve the API again on the same port."""
        if self._runner is not None and self._site is None:
            site = web.TCPSite(self._runner, self.options.host, self.port, reuse_address=True)
            await site.start()
            self._site = site
            tls_site = web.TCPSite(
                self._runner, self.options.host, self.tls_port, ssl_context=self._tls.context, reuse_address=True
            )
            await tls_site.start()
            self._tls_site = tls_site

    def stop_api(self) -> None:
        """``stop_api_async`` from another thread."""
        self.run_coroutine(self.stop_api_async())

    def restart_api(self) -> None:
        """``restart_api_async`` from another thread."""
        self.run_coroutine(self.restart_api_async())

    def run_coroutine(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the simulator's loop from another thread."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _start_gateway(self) -> None:
        self._gateways = GatewayListener(self.ctx, random.Random(self.options.seed), f"{NAMESPACE}/{GATEWAY_NAME}")
        self.ctx.gateway_address = await self._gateways.start()
        self.ctx.load_balancers = self._gateways

    def _build_world(self) -> None:
        if self.options.nodes is not None or self.options.pods is not None:
            build_large(self.ctx, self.node_pools, self.options.nodes or 1, self.options.pods or 0)
        else:
            acc = accelerator_for(
                self.options.accelerator, self.options.releases, epp_metrics_auth=self.options.epp_metrics_auth
            )
            build_pattern1(self.ctx, self.node_pools, acc)
            self.faults = Faults(self.ctx, self.node_pools, acc)
            if self.options.scenario:
                self.faults.set(self.options.scenario)

    async def stop_async(self) -> None:
        """Stop serving and cancel every controller and container."""
        self.ctx.store.close_all_watches()
        for task in self._tasks:
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._gateways is not None:
            await self._gateways.stop()
        current = asyncio.current_task()
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_loop() is asyncio.get_running_loop() and self._owns(t)
        ]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    @staticmethod
    def _owns(task: asyncio.Task[Any]) -> bool:
        code = task.get_coro()
        module = getattr(getattr(code, "cr_code", None), "co_filename", "")
        return "llmd_console" in module and "sim" in module

    # ---- running in a thread of its own -------------------------------------
    def start(self, timeout: float = 30.0) -> SimCluster:
        """Start in a background thread with its own event loop; returns when serving."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=main, name="llmd-sim", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the simulator did not start in time")
        if errors:
            raise errors[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a cluster started with ``start()``."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the simulator's loop (from any thread) and return its result."""
        assert self._loop is not None
        if self._thread is None:
            return fn()
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def __enter__(self) -> SimCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- kubeconfig ------------------------------------------------------------
    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig whose current context is ``llmd-sim``."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": CONTEXT_NAME, "cluster": {"server": self.url}}],
            "users": [{"name": CONTEXT_NAME, "user": {"token": "llmd-sim"}}],
            "contexts": [
                {
                    "name": CONTEXT_NAME,
                    "context": {"cluster": CONTEXT_NAME, "user": CONTEXT_NAME, "namespace": NAMESPACE},
                }
            ],
            "current-context": CONTEXT_NAME,
        }

    def write_kubeconfig(self, path: Path) -> Path:
        """Write the kubeconfig (mode 0600) and return its path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(), sort_keys=False))
        path.chmod(0o600)
        return path
