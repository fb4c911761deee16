"""Simulated processes inside pods, reached through the pod and service proxy."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web


class PodProcess(Protocol):
    """Something listening on a pod's ports."""

    def listening(self, port: int) -> bool:
        """Whether the port accepts connections now."""

    async def handle(self, port: int, path: str, request: web.Request) -> web.StreamResponse:
        """Serve one proxied HTTP request."""

    def probe(self, port: int, path: str) -> int | None:
        """Status code an HTTP probe gets (None: connection refused)."""


class ProcessTable:
    """Which pods run which processes."""

    def __init__(self) -> None:
        self._by_pod: dict[str, dict[str, PodProcess]] = {}

    def set(self, pod_uid: str, container: str, process: PodProcess) -> None:
        """Register a container's process."""
        self._by_pod.setdefault(pod_uid, {})[container] = process

    def clear(self, pod_uid: str, container: str | None = None) -> None:
        """A container (or the whole pod) stopped."""
        if container is None:
            self._by_pod.pop(pod_uid, None)
        else:
            self._by_pod.get(pod_uid, {}).pop(container, None)

    def for_port(self, pod_uid: str, port: int) -> PodProcess | None:
        """The process listening on a pod's port, if any."""
        for proc in self._by_pod.get(pod_uid, {}).values():
            if proc.listening(port):
                return proc
        return None
