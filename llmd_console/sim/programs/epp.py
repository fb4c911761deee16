"""The endpoint picker (EPP) process: startup logs, scheduling for the gateway,
routing-decision logs, and its three ports (ext-proc, health, metrics)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from llmd_console.sim.apiserver.reviews import SIM_TOKEN, SIM_USER
from llmd_console.sim.inference.epp_metrics import EppMetrics
from llmd_console.sim.inference.generations import epp_release
from llmd_console.sim.inference.picker import PREFIX_BLOCK_CHARS, Candidate, Scheduler
from llmd_console.sim.inference.process_metrics import Workload
from llmd_console.sim.programs.base import ContainerIO, Exit
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json
from llmd_console.sim.storage.objects import Obj, condition, name_of
from llmd_console.sim.storage.quantity import parse_quantity
from llmd_console.sim.storage.selectors import Requirement

GRPC_PORT, HEALTH_PORT, METRICS_PORT = 9002, 9003, 9090
POOLS = "inferencepools.inference.networking.k8s.io"
REFRESH_SECONDS = 1.0
API_HOST = "34.118.224.1:443"  # the kubernetes Service in GKE's default service range


def zap(io: ContainerIO, level: str, logger: str, msg: str, **fields: object) -> None:
    """One zap JSON log line, as the EPP writes with ``--zap-encoder json``."""
    record: dict[str, object] = {"level": level, "ts": io.ctx.clock.iso_micro(), "logger": logger, "msg": msg}
    record.update(fields)
    io.log(json.dumps(record, separators=(",", ":")))


class EppProgram:
    """The inference scheduler: reads the pool, then serves ext-proc, health and metrics."""

    def __init__(self, image: str = "") -> None:
        self.release = epp_release(image)

    async def run(self, io: ContainerIO) -> Exit:
        """Start, find the InferencePool, serve."""
        argv = io.argv()
        pool = argv[argv.index("--pool-name") + 1] if "--pool-name" in argv[:-1] else ""
        ns = (
            argv[argv.index("--pool-namespace") + 1]
            if "--pool-namespace" in argv[:-1]
            else io.pod["metadata"].get("namespace", "")
        )
        zap(
            io,
            "info",
            "setup",
            "Flags processed",
            flags={
                "poolName": pool,
                "poolNamespace": ns,
                "grpcPort": GRPC_PORT,
                "grpcHealthPort": HEALTH_PORT,
                "metricsPort": METRICS_PORT,
            },
        )
        await io.sleep(1.0)
        zap(
            io,
            "info",
            "setup",
            "Loading scheduler plugins",
            plugins=["queue-scorer:2", "kv-cache-utilization-scorer:2", "prefix-cache-scorer:3", "max-score-picker"],
        )
        zap(io, "info", "controller-runtime.metrics", "Starting metrics server")
        zap(
            io,
            "info",
            "controller-runtime.metrics",
            "Serving metrics server",
            bindAddress=f":{METRICS_PORT}",
            secure=False,
        )
        await io.sleep(1.0)
        zap(
            io,
            "info",
            "setup",
            "Starting controller",
            controller="inferencepool",
            controllerGroup="inference.networking.k8s.io",
            controllerKind="InferencePool",
        )
        server = EppServer(io, pool, ns, self.release, metrics_auth=_flag(argv, "--metrics-endpoint-auth", True))
        io.serve(server)
        zap(io, "info", "ext-proc", "gRPC server listening", port=GRPC_PORT)
        await server.refresh_forever()
        return Exit(0, "Completed")


@dataclass
class Routed:
    """Where the EPP sends a request."""

    pod: str
    address: str
    model: str
    request_bytes: int
    started: float


@dataclass
class Rejected:
    """The EPP answers the request itself (an ext-proc ImmediateResponse)."""

    status: int
    body: str


class EppServer:
    """The running EPP: picks endpoints for the gateway and serves its metrics."""

    def __init__(
        self,
        io: ContainerIO,
        pool: str,
        namespace: str,
        release: str = "inference-scheduler",
        *,
        metrics_auth: bool = False,
    ) -> None:
        self.io = io
        # --metrics-endpoint-auth: /metrics wants a bearer token the API server authenticates
        # (a TokenReview) and authorises for GET /metrics (a SubjectAccessReview).
        self.metrics_auth = metrics_auth
        self.ctx: SimContext = io.ctx
        self.pool_name = pool
        self.namespace = namespace
        self.scheduler = Scheduler(io.ctx.rng)
        self.load = Workload()
        self.metrics = EppMetrics(pool, self.load, _gomaxprocs(io), release)
        # The informers' first lists and watches (InferencePool, Pod) through the in-cluster client.
        self.metrics.rest_requests.labels("200", "GET", API_HOST).inc(4)
        self._ready: frozenset[str] = frozenset()

    # ---- the process interface ----------------------------------------------
    def listening(self, port: int) -> bool:
        """ext-proc, health and metrics ports."""
        return port in (GRPC_PORT, HEALTH_PORT, METRICS_PORT)

    def probe(self, port: int, path: str) -> int | None:
        """The gRPC health service answers SERVING once the InferencePool is known (503: NOT_SERVING)."""
        if not self.listening(port):
            return None
        if port == HEALTH_PORT and self.pool() is None:
            return 503
        return 200

    async def handle(self, port: int, path: str, request: web.Request) -> web.StreamResponse:
        """``/metrics`` on 9090; the gRPC ports answer plain HTTP with 415 like a gRPC server."""
        if port == METRICS_PORT:
            if path.split("?", 1)[0] != "/metrics":
                return web.Response(status=404, text="404 page not found\n")
            refused = self._refuse_metrics(request)
            if refused is not None:
                return refused
            self.refresh()
            body = self.metrics.exposition()
            self.load.bytes_out += len(body)
            return web.Response(body=body, content_type="text/plain", charset="utf-8")
        return web.Response(status=415, text='invalid gRPC request content-type ""')

    def _refuse_metrics(self, request: web.Request) -> web.Response | None:
        """controller-runtime's authentication and authorisation filter, when it is on."""
        if not self.metrics_auth:
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != SIM_TOKEN:
            return web.Response(status=401, text="Unauthorized\n")
        if "/metrics" in self.ctx.denied:
            return web.Response(status=403, text=f"Authorization denied for user {SIM_USER}\n")
        return None

    # ---- the model servers --------------------------------------------------
    def pool(self) -> Obj | None:
        """The InferencePool this EPP serves, if it exists."""
        return self.ctx.store.get(POOLS, self.namespace, self.pool_name) if self.ctx.registry.has(POOLS) else None

    def candidates(self) -> list[Candidate]:
        """Ready pods of the pool whose model server answers, with their current load."""
        pool = self.pool()
        if pool is None:
            return []
        spec = pool.get("spec") or {}
        labels = (spec.get("selector") or {}).get("matchLabels") or {}
        if not labels:
            return []
        port = int(((spec.get("targetPorts") or [{}])[0]).get("number", 8000))
        out = []
        for pod in self.ctx.store.list(
            "pods", self.namespace, [Requirement(k, "in", (str(v),)) for k, v in labels.items()]
        ):
            if pod["metadata"].get("deletionTimestamp") or (condition(pod, "Ready") or {}).get("status") != "True":
                continue
            process = self.ctx.processes.for_port(pod["metadata"]["uid"], port)
            stats = getattr(process, "stats", None)
            if stats is None:
                continue
            now = stats()
            out.append(
                Candidate(
                    f"{self.namespace}/{name_of(pod)}",
                    f"{pod.get('status', {}).get('podIP', '')}:{port}",
                    now.waiting,
                    now.running,
                    now.kv_usage,
                )
            )
        return out

    def refresh(self) -> None:
        """Update the pool gauges from the model servers, as the metrics refresher does."""
        cands = self.candidates()
        m = self.metrics
        m.ready_pods.labels(self.pool_name).set(len(cands))
        m.avg_kv.labels(self.pool_name).set(sum(c.kv_usage for c in cands) / len(cands) if cands else 0.0)
        m.avg_queue.labels(self.pool_name).set(sum(c.waiting for c in cands) / len(cands) if cands else 0.0)
        m.per_pod_queue.clear()
        for c in cands:
            m.per_pod_queue.labels(self.pool_name, c.name.split("/", 1)[1]).set(c.waiting)
        ready = frozenset(c.name for c in cands)
        if ready != self._ready:
            # Each pod that changed went through the pod controller; the pool was re-read.
            for _ in ready ^ self._ready:
                m.reconciled("pod", 0.0004)
            m.reconciled("inferencepool", 0.0009)
            self._ready = ready
            self.scheduler.prefix.forget(set(ready))
        m.prefix_size.set(self.scheduler.prefix.size())
        m.used(m.prefix_size)

    async def refresh_forever(self) -> None:
        """Refresh the scraped metrics periodically."""
        ticks = 0
        while True:
            self.refresh()
            if self.pool() is None:
                if ticks % 30 == 0:
                    self.metrics.reconciled("inferencepool", 0.0006, ok=False)
                    zap(
                        self.io,
                        "error",
                        "controllers.InferencePool",
                        "Unable to get InferencePool",
                        name=f"{self.namespace}/{self.pool_name}",
                        error=f'inferencepools.inference.networking.k8s.io "{self.pool_name}" not found',
                    )
                ticks += 1
            else:
                ticks = 0
            await asyncio.sleep(REFRESH_SECONDS)

    # ---- scheduling ---------------------------------------------------------
    def schedule(self, body: bytes, request_id: str) -> Routed | Rejected:
        """Pick an endpoint for one request (the ext-proc request-body phase)."""
        started = time.perf_counter()
        self.load.requests += 1
        self.load.bytes_in += len(body)
        try:
            payload = loads_json(body or b"{}")
        except DecodeError as exc:
            return self._reject(400, "BadRequest", f"Error unmarshaling request body: {exc}", request_id)
        if not isinstance(payload, dict) or not isinstance(payload.get("model"), str):
            return self._reject(400, "BadRequest", "model not found in request body", request_id)
        model = payload["model"]
        cands = self.candidates()
        if not cands:
            self.metrics.attempts.labels("failure").inc()
            zap(
                self.io,
                "error",
                "requestcontrol",
                "Error handling request",
                **{"x-request-id": request_id},
                error="inference gateway: ServiceUnavailable - failed to find candidate pods for serving the request",
            )
            self.metrics.errors.labels(model, model, "ServiceUnavailable").inc()
            return Rejected(503, "no healthy upstream")
        decision = self.scheduler.pick(model, _prompt_of(payload), cands)
        took = time.perf_counter() - started
        m = self.metrics
        self.load.busy_seconds += took
        self.load.in_flight += 1
        m.scheduler_e2e.observe(took)
        m.used(m.scheduler_e2e)
        for plugin in ("queue-scorer", "kv-cache-utilization-scorer", "prefix-cache-scorer"):
            m.plugin_duration.labels("Scorer", plugin, plugin).observe(took / 4)
        m.plugin_duration.labels("Picker", "max-score-picker", "max-score-picker").observe(took / 4)
        m.attempts.labels("success").inc()
        if decision.prefix_blocks:
            hit = decision.scores[decision.target.name]["prefix-cache-scorer"]
            m.prefix_hit_ratio.observe(hit)
            m.prefix_hit_bytes.observe(round(hit * len(decision.prefix_blocks)) * PREFIX_BLOCK_CHARS)
            m.used(m.prefix_hit_ratio)
            m.used(m.prefix_hit_bytes)
        m.requests.labels(model, model).inc()
        m.request_sizes.labels(model, model).observe(len(body))
        m.running.labels(model).inc()
        zap(
            self.io,
            "info",
            "scheduling",
            "Scheduling decision",
            **{"x-request-id": request_id},
            model=model,
            targetModel=model,
            candidates=len(cands),
            scores=decision.scores,
            totals=decision.totals,
            pickedPod=decision.target.name,
            endpoint=decision.target.address,
        )
        return Routed(decision.target.name, decision.target.address, model, len(body), time.monotonic())

    def _reject(self, status: int, code: str, message: str, request_id: str) -> Rejected:
        text = f"inference gateway: {code} - {message}"
        zap(self.io, "error", "requestcontrol", "Error handling request", **{"x-request-id": request_id}, error=text)
        return Rejected(status, text)

    def complete(self, routed: Routed, status: int, response_bytes: int, usage: dict[str, Any] | None) -> None:
        """The response went back to the client (the ext-proc response phases)."""
        m, model = self.metrics, routed.model
        m.running.labels(model).dec()
        self.load.in_flight = max(self.load.in_flight - 1, 0)
        self.load.bytes_out += response_bytes
        if status >= 400:
            m.errors.labels(model, model, "Unknown" if status >= 500 else "BadRequest").inc()
            return
        took = time.monotonic() - routed.started
        m.duration.labels(model, model).observe(took)
        m.response_sizes.labels(model, model).observe(response_bytes)
        if usage:
            m.input_tokens.labels(model, model).observe(int(usage.get("prompt_tokens", 0)))
            out = int(usage.get("completion_tokens", 0))
            m.output_tokens.labels(model, model).observe(out)
            details = usage.get("prompt_tokens_details")
            cached = details.get("cached_tokens", 0) if isinstance(details, dict) else 0
            m.cached_tokens.labels(model, model).observe(int(cached or 0))
            if out:
                m.ntpot.labels(model, model).observe(took / out)


def _flag(argv: list[str], name: str, default: bool) -> bool:
    """A Go boolean flag: ``--name``, ``--name=false`` (the last one given wins)."""
    value = default
    for arg in argv:
        if arg == name:
            value = True
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1].lower() in ("1", "t", "true")
    return value


def _gomaxprocs(io: ContainerIO) -> int:
    """Go 1.25's GOMAXPROCS in a container: the CPU limit rounded up, else the node's CPUs."""
    limit = io.limit("cpu")
    if limit is None:
        limit = ((io.node or {}).get("status", {}).get("capacity") or {}).get("cpu", 4)
    return max(1, -int(-float(parse_quantity(limit)) // 1))


def _prompt_of(payload: dict[str, Any]) -> str:
    """The text the prefix scorer hashes: the prompt, or the chat messages in order."""
    if isinstance(payload.get("prompt"), str):
        return str(payload["prompt"])
    messages = payload.get("messages")
    if isinstance(messages, list):
        return "".join(f"{m.get('role', '')}:{m.get('content', '')}\n" for m in messages if isinstance(m, dict))
    return ""
