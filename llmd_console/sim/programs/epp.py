"""The endpoint picker (EPP) process: startup logs and its three ports."""

from __future__ import annotations

import asyncio
import json

from llmd_console.sim.programs.base import ContainerIO, Exit, SimpleHttp

GRPC_PORT, HEALTH_PORT, METRICS_PORT = 9002, 9003, 9090


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
        io.serve(SimpleHttp({GRPC_PORT, HEALTH_PORT, METRICS_PORT}))
        zap(io, "info", "ext-proc", "gRPC server listening", port=GRPC_PORT)
        await asyncio.Event().wait()
        return Exit(0, "Completed")
