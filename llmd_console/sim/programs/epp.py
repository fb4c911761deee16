"""The endpoint picker (EPP) process: startup logs, scheduling for the gateway,
routing-decision logs, and its three ports (ext-proc, health, metrics)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from llmd_console.sim.inference.epp_metrics import EppMetrics
from llmd_console.sim.inference.picker import Candidate, Scheduler
from llmd_console.sim.programs.base import ContainerIO, Exit
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json
from llmd_console.sim.storage.objects import Obj, condition, name_of
from llmd_console.sim.storage.selectors import Requirement

GRPC_PORT, HEALTH_PORT, METRICS_PORT = 9002, 9003, 9090
POOLS = "inferencepools.inference.networking.k8s.io"
REFRESH_SECONDS = 1.0


def zap(io: ContainerIO, level: str, logger: str, msg: str, **fields: object) -> None:
    """One zap JSON log line, as the EPP writes with ``--zap-encoder json``."""
    record: dict[str, object] = {"level": level, "ts": io.ctx.clock.iso_micro(), "logger": logger, "msg": msg}
    record.update(fields)
    io.log(json.dumps(record, separators=(",", ":")))


class EppProgram:
    """The inference scheduler: reads the pool, then serves ext-proc, health and metrics."""

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
        server = EppServer(io, pool, ns)
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

    def __init__(self, io: ContainerIO, pool: str, namespace: str) -> None:
        self.io = io
        self.ctx: SimContext = io.ctx
        self.pool_name = pool
        self.namespace = namespace
        self.scheduler = Scheduler(io.ctx.rng)
        self.metrics = EppMetrics(pool)
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
            self.refresh()
            return web.Response(body=self.metrics.exposition(), content_type="text/plain", charset="utf-8")
        return web.Response(status=415, text='invalid gRPC request content-type ""')

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
        m.ready_pods.set(len(cands))
        m.avg_kv.set(sum(c.kv_usage for c in cands) / len(cands) if cands else 0.0)
        m.avg_queue.set(sum(c.waiting for c in cands) / len(cands) if cands else 0.0)
        m.avg_running.set(sum(c.running for c in cands) / len(cands) if cands else 0.0)
        m.per_pod_queue.clear()
        for c in cands:
            m.per_pod_queue.labels(self.pool_name, c.name.split("/", 1)[1]).set(c.waiting)
        ready = frozenset(c.name for c in cands)
        if ready != self._ready:
            m.reconcile_total.labels("pod", "success").inc()
            m.reconcile_total.labels("inferencepool", "success").inc()
            self._ready = ready
            self.scheduler.prefix.forget(set(ready))
        m.prefix_size.set(self.scheduler.prefix.size())

    async def refresh_forever(self) -> None:
        """Refresh the scraped metrics periodically."""
        ticks = 0
        while True:
            self.refresh()
            if self.pool() is None:
                if ticks % 30 == 0:
                    self.metrics.reconcile_errors.labels("inferencepool").inc()
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
        try:
            payload = loads_json(body or b"{}")
        except DecodeError as exc:
            return self._reject(400, "BadRequest", f"Error unmarshaling request body: {exc}", request_id)
        if not isinstance(payload, dict) or not isinstance(payload.get("model"), str):
            return self._reject(400, "BadRequest", "model not found in request body", request_id)
        model = payload["model"]
        cands = self.candidates()
        if not cands:
            self.metrics.attempts.labels("failure", model, "", "", "").inc()
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
        m.scheduler_e2e.observe(took)
        for plugin in ("queue-scorer", "kv-cache-utilization-scorer", "prefix-cache-scorer"):
            m.plugin_duration.labels("Scorer", plugin, plugin).observe(took / 4)
        m.plugin_duration.labels("Picker", "max-score-picker", "max-score-picker").observe(took / 4)
        pod_ns, pod_name = decision.target.name.split("/", 1)
        m.attempts.labels("success", model, pod_name, pod_ns, decision.target.address.rsplit(":", 1)[1]).inc()
        if decision.prefix_blocks:
            hit = decision.scores[decision.target.name]["prefix-cache-scorer"]
            m.prefix_hit_ratio.observe(hit)
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
            if out:
                m.ntpot.labels(model, model).observe(took / out)


def _prompt_of(payload: dict[str, Any]) -> str:
    """The text the prefix scorer hashes: the prompt, or the chat messages in order."""
    if isinstance(payload.get("prompt"), str):
        return str(payload["prompt"])
    messages = payload.get("messages")
    if isinstance(messages, list):
        return "".join(f"{m.get('role', '')}:{m.get('content', '')}\n" for m in messages if isinstance(m, dict))
    return ""
