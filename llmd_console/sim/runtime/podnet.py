"""Byte-stream connections to the simulated servers inside a pod, as ``localhost:PORT`` inside
its network namespace: what the kubelet's port-forward and a ``curl`` run by ``exec`` reach.

A connection is one end of a socket pair; the other end is served by a real HTTP/1.1 server
(an aiohttp application of its own) that hands each request to the process listening on the port, so a client
speaks plain HTTP over it: keep-alive, pipelining and half-close behave as over TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from aiohttp import web

from llmd_console.sim.runtime.processes import ProcessTable

READ_CHUNK = 64 * 1024


class PodConnection:
    """One open connection to ``localhost:port`` in a pod."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, runner: web.AppRunner) -> None:
        self.reader = reader
        self.writer = writer
        self._runner = runner

    async def read(self) -> bytes:
        """Next bytes from the pod (b"" once it closed its end)."""
        return await self.reader.read(READ_CHUNK)

    async def write(self, payload: bytes) -> None:
        """Send bytes to the pod."""
        self.writer.write(payload)
        await self.writer.drain()

    def close_write(self) -> None:
        """Half-close: the pod reads end-of-stream, its answers still arrive."""
        if self.writer.can_write_eof() and not self.writer.is_closing():
            with contextlib.suppress(OSError):
                self.writer.write_eof()

    async def close(self) -> None:
        """Close both ends and the server side's handlers."""
        self.writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self.writer.wait_closed()
        await self._runner.cleanup()


async def connect(processes: ProcessTable, pod_uid: str, port: int) -> PodConnection:
    """Connect to ``localhost:port`` in the pod; ConnectionRefusedError when nothing listens."""
    if processes.for_port(pod_uid, port) is None:
        raise ConnectionRefusedError(f"dial tcp4 127.0.0.1:{port}: connect: connection refused")

    async def handle(request: web.Request) -> web.StreamResponse:
        process = processes.for_port(pod_uid, port)
        if process is None:  # the container stopped while the connection was open: a reset
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=502)  # never sent: the connection is gone
        return await process.handle(port, request.path_qs, request)

    app = web.Application()
    app.router.add_route("*", "/{tail:[\\s\\S]*}", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    assert runner.server is not None
    ours, theirs = socket.socketpair()
    try:
        await asyncio.get_running_loop().connect_accepted_socket(runner.server, theirs)
        reader, writer = await asyncio.open_connection(sock=ours)
    except BaseException:
        ours.close()
        theirs.close()
        await runner.cleanup()
        raise
    return PodConnection(reader, writer, runner)
