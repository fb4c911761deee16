"""The interface between the kubelet and a simulated container's program."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from llmd_console.sim.runtime.clock import Timeline
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.runtime.logs import ContainerLog
from llmd_console.sim.runtime.processes import PodProcess
from llmd_console.sim.storage.objects import Obj


@dataclass(frozen=True)
class Exit:
    """How a container's main process ended."""

    code: int
    reason: str  # Error, OOMKilled, Completed
    message: str = ""


class ConfigError(Exception):
    """The container cannot be created (CreateContainerConfigError)."""


@dataclass
class ContainerIO:
    """What a program may see and do: its spec, node, env, log, and a listening socket."""

    ctx: SimContext
    pod: Obj
    container: Obj
    node: Obj | None
    log_sink: ContainerLog
    pod_state: dict[str, Any] = field(default_factory=dict)  # survives restarts, like an emptyDir
    timeline: Timeline | None = None

    def log(self, text: str) -> None:
        """Print one line to the container's stdout."""
        self.log_sink.write(self.ctx.clock.now(), text)

    async def sleep(self, sim_seconds: float) -> None:
        """Let simulated time pass, on the container's own timeline (no drift under load)."""
        if self.timeline is None:
            self.timeline = Timeline(self.ctx.clock)
        await self.timeline.sleep(sim_seconds)

    def serve(self, process: PodProcess) -> None:
        """Start listening: the pod proxy and probes reach ``process`` from now on."""
        self.ctx.processes.set(self.pod["metadata"]["uid"], self.container["name"], process)

    def argv(self) -> list[str]:
        """command + args."""
        return [str(a) for a in (self.container.get("command") or []) + (self.container.get("args") or [])]

    def env(self, name: str) -> str | None:
        """An environment variable's value, with secretKeyRef/configMapKeyRef resolved."""
        return resolve_env(self.ctx, self.pod, self.container).get(name)

    def limit(self, resource: str) -> Any:
        """A resource limit of this container (or None)."""
        return ((self.container.get("resources") or {}).get("limits") or {}).get(resource)

    def node_labels(self) -> dict[str, str]:
        """Labels of the node the pod runs on."""
        return dict((self.node or {}).get("metadata", {}).get("labels") or {})


def resolve_env(ctx: SimContext, pod: Obj, container: Obj) -> dict[str, str]:
    """The container's environment; a missing secret or key raises ConfigError."""
    ns = pod["metadata"].get("namespace", "")
    out: dict[str, str] = {}
    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        if "value" in var:
            out[name] = str(var["value"])
            continue
        source = var.get("valueFrom") or {}
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            secret = ctx.store.get("secrets", ns, ref.get("name", ""))
            if secret is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'secret "{ref.get("name")}" not found')
            raw = (secret.get("data") or {}).get(ref.get("key", ""))
            if raw is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f"couldn't find key {ref.get('key')} in Secret {ns}/{ref.get('name')}")
            try:
                out[name] = base64.b64decode(raw).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                out[name] = ""
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            cm = ctx.store.get("configmaps", ns, ref.get("name", ""))
            if cm is None or ref.get("key") not in (cm.get("data") or {}):
                if ref.get("optional"):
                    continue
                raise ConfigError(f'configmap "{ref.get("name")}" not found')
            out[name] = str(cm["data"][ref["key"]])
        elif "fieldRef" in source:
            path = str(source["fieldRef"].get("fieldPath", ""))
            value: Any = pod
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            out[name] = "" if value is None else str(value)
    return out


class Program(Protocol):
    """A container's main process."""

    async def run(self, io: ContainerIO) -> Exit:
        """Run until exit (or forever)."""


class SimpleHttp:
    """A process that listens on some ports and answers 200 to everything."""

    def __init__(self, ports: set[int]) -> None:
        self.ports = ports

    def listening(self, port: int) -> bool:
        """Whether the port is one of ours."""
        return port in self.ports

    async def handle(self, port: int, path: str, request: web.Request) -> web.StreamResponse:
        """Answer ``ok``."""
        return web.Response(text="ok")

    def probe(self, port: int, path: str) -> int | None:
        """200 on our ports."""
        return 200 if port in self.ports else None
