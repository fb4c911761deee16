"""``pods/exec``, ``pods/attach`` and ``pods/portforward`` over WebSocket, as the API server
proxies them to the kubelet: checks first (as plain HTTP errors), then the upgrade.

exec and attach speak the remote-command channels: 0 stdin, 1 stdout, 2 stderr, 3 error
(the exit ``Status``), 4 resize. Every session is bounded: sessions per pod, bytes of stdin,
idle time; and every task it starts ends with it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from llmd_console.sim.apiserver import channels, portforward, spdy_channels, tunnels
from llmd_console.sim.apiserver.channels import Channels, ChannelSocket
from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.spdy_channels import SpdyChannels
from llmd_console.sim.apiserver.streams import _container_for
from llmd_console.sim.apiserver.wire import flag
from llmd_console.sim.programs.shell import ContainerShell, ExecResult
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj

EXEC_PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v4.base64.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
    "base64.channel.k8s.io",
)
STDIN, STDOUT, STDERR, ERROR = 0, 1, 2, 3
MAX_SESSIONS_PER_POD = 32
MAX_STDIN_BYTES = 8 * 1024 * 1024
CHUNK = 32 * 1024  # bytes per output message, as the kubelet's copy buffer
# A container runtime takes tens of milliseconds to start an exec'd process; clients rely on
# it: kubectl sets up its stream readers after the upgrade and drops output that comes first.
PROCESS_START_SECONDS = 0.1


def exit_status(argv: list[str], code: int) -> dict[str, Any]:
    """The Status the kubelet writes on the error channel when a command ends."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command {_argv_text(argv)}, "
        f"exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _spdy_protocol(request: web.Request, supported: tuple[str, ...]) -> str:
    """The client's preferred ``X-Stream-Protocol-Version`` we speak, or the API server's 403."""
    wanted = [p.strip() for p in ",".join(request.headers.getall("X-Stream-Protocol-Version", [])).split(",")]
    chosen = next((p for p in wanted if p in supported), None)
    if chosen is None:
        raise ApiError(
            403,
            f"unable to upgrade: unable to negotiate protocol: client supports {wanted}, "
            f"server supports {list(supported)}",
            "Forbidden",
        )
    return chosen


def _argv_text(argv: list[str]) -> str:
    return "[" + " ".join(argv) + "]"


class PodStreams:
    """Serves the streaming subresources of pods for one API server."""

    SUBRESOURCES = ("exec", "attach", "portforward")

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._open: Counter[str] = Counter()

    async def serve(self, request: web.Request, pod: Obj, sub: str) -> web.StreamResponse:
        """Check the request, upgrade it, and run the session to its end."""
        if sub == "portforward":
            return await self._portforward(request, pod)
        container = self._check(request, pod, sub)
        if isinstance(container, web.Response):
            return container
        if tunnels.wants_spdy(request):
            return await self._spdy_command(request, pod, container, sub)
        if not channels.is_websocket(request):
            raise ApiError(400, "Upgrade request required")
        protocol = channels.choose(request, EXEC_PROTOCOLS)

        async def session(sock: ChannelSocket) -> None:
            await asyncio.sleep(PROCESS_START_SECONDS)
            await self._command(request, pod, container, sub, sock)

        return await self._session(request, pod, protocol, session)

    async def _command(self, request: web.Request, pod: Obj, container: Obj, sub: str, io: Channels) -> None:
        if sub == "exec":
            await self._exec(request, pod, container, io)
        else:
            await self._attach(request, pod, container, io)

    async def _spdy_command(self, request: web.Request, pod: Obj, container: Obj, sub: str) -> web.StreamResponse:
        """exec or attach over SPDY: the streams the request asks for, then the command."""
        protocol = _spdy_protocol(request, spdy_channels.PROTOCOLS)
        tty = flag(request, "tty")
        expected = {"error"} | {name for name in ("stdin", "stdout") if flag(request, name)}
        if flag(request, "stderr") and not tty:
            expected.add("stderr")
        uid = self._enter(pod)
        try:
            tunnel = await tunnels.upgrade(request, protocol)
            io = SpdyChannels(tunnel, protocol, expected)
            try:
                if await io.start():
                    await self._command(request, pod, container, sub, io)
            finally:
                await io.close()
                tunnel.close()
            return tunnel.response
        finally:
            self._leave(uid)

    async def _session(
        self, request: web.Request, pod: Obj, protocol: str, body: Callable[[ChannelSocket], Awaitable[None]]
    ) -> web.StreamResponse:
        """Upgrade, run ``body``, close: counted against the pod's bound on open sessions."""
        uid = self._enter(pod)
        try:
            sock = ChannelSocket(await channels.accept(request, protocol), protocol)
            try:
                await body(sock)
            finally:
                await sock.close()
            return sock.ws
        finally:
            self._leave(uid)

    def _enter(self, pod: Obj) -> str:
        uid = str(pod["metadata"]["uid"])
        if self._open[uid] >= MAX_SESSIONS_PER_POD:
            raise ApiError(
                429,
                f"too many streaming sessions open to pod {pod['metadata']['name']} "
                f"(the limit is {MAX_SESSIONS_PER_POD})",
                "TooManyRequests",
            )
        self._open[uid] += 1
        return uid

    def _leave(self, uid: str) -> None:
        self._open[uid] -= 1
        if self._open[uid] <= 0:
            del self._open[uid]

    def _check(self, request: web.Request, pod: Obj, sub: str) -> Obj | web.Response:
        """The API server's and the kubelet's checks, worded as they word them."""
        if not any(flag(request, s) for s in ("stdin", "stdout", "stderr")):
            raise ApiError(400, "you must specify at least 1 of stdin, stdout, stderr")
        phase = pod.get("status", {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            verb = "exec into" if sub == "exec" else "attach to"
            raise ApiError(400, f"cannot {verb} a container in a completed pod; current phase is {phase}")
        name = _container_for(pod, request.query.get("container"))
        spec, status = pod.get("spec", {}), pod.get("status", {})
        container = next(
            c for c in (spec.get("containers") or []) + (spec.get("initContainers") or []) if c.get("name") == name
        )
        running = any(
            cs.get("name") == name and "running" in (cs.get("state") or {})
            for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
        )
        if not running:
            # The kubelet answers this itself, in plain text, before any upgrade.
            return web.Response(status=404, text=f'container not found ("{name}")')
        return dict(container)

    # ---- exec ----------------------------------------------------------------------------
    async def _exec(self, request: web.Request, pod: Obj, container: Obj, sock: Channels) -> None:
        argv = request.query.getall("command", [])
        shell = ContainerShell(self.ctx, pod, container)
        stdin = b""
        if flag(request, "stdin") and shell.reads_stdin(argv):
            stdin = await self._read_stdin(sock)
        result = await shell.run(argv, stdin)
        await self._write_result(request, sock, result)
        await self._write_status(sock, argv, result.code)

    async def _read_stdin(self, sock: Channels) -> bytes:
        """Standard input until the client closes it (v5), closes the socket, or the bound."""
        data = bytearray()
        while len(data) <= MAX_STDIN_BYTES:
            msg = await sock.receive()
            if msg is None:
                break
            channel, payload = msg
            if channel == STDIN:
                data += payload
            elif channel == channels.CLOSE_CHANNEL and payload[:1] == bytes([STDIN]):
                break
        return bytes(data[:MAX_STDIN_BYTES])

    async def _write_result(self, request: web.Request, sock: Channels, result: ExecResult) -> None:
        tty = flag(request, "tty")
        out, err = result.stdout, result.stderr
        if tty:  # one terminal: both streams on stdout, with the terminal's line endings
            out, err = (out + err).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), b""
        for channel, payload, wanted in ((STDOUT, out, "stdout"), (STDERR, err, "stderr")):
            if flag(request, wanted):
                for start in range(0, len(payload), CHUNK):
                    await sock.send(channel, payload[start : start + CHUNK])

    @staticmethod
    async def _write_status(sock: Channels, argv: list[str], code: int) -> None:
        if sock.version >= 4:
            await sock.send(ERROR, json.dumps(exit_status(argv, code)).encode())
        elif code != 0:
            await sock.send(ERROR, exit_status(argv, code)["message"].encode())

    # ---- attach --------------------------------------------------------------------------
    async def _attach(self, request: web.Request, pod: Obj, container: Obj, sock: Channels) -> None:
        """Follow what the container's main process writes from now on, until it exits, the
        pod goes, or the client leaves (what it sends on stdin is read and dropped: the
        simulated programs do not read standard input)."""
        log = self.ctx.logs.current(pod["metadata"]["uid"], str(container["name"]))
        if log is None:
            await self._write_status(sock, [], 0)
            return
        tty = flag(request, "tty")
        channel = STDOUT if flag(request, "stdout") or tty else STDERR
        reader = asyncio.ensure_future(self._drain(sock))
        gone = asyncio.ensure_future(portforward.pod_gone(self.ctx, pod))
        sent = log.written
        last_output = time.monotonic()
        try:
            while not log.closed and time.monotonic() - last_output < channels.IDLE_TIMEOUT:
                waiter = asyncio.ensure_future(log.wait(channels.IDLE_TIMEOUT))
                done, _ = await asyncio.wait({waiter, reader, gone}, return_when=asyncio.FIRST_COMPLETED)
                if waiter not in done:
                    waiter.cancel()
                    break
                fresh = min(log.written - sent, len(log.lines))
                sent = log.written
                if fresh > 0:
                    last_output = time.monotonic()
                    end = b"\r\n" if tty else b"\n"
                    lines = list(log.lines)[-fresh:]
                    await sock.send(channel, b"".join(text.encode() + end for _, text in lines))
        finally:
            for task in (reader, gone):
                task.cancel()
            await asyncio.gather(reader, gone, return_exceptions=True)
        if log.closed:
            await self._write_status(sock, [], 0)

    @staticmethod
    async def _drain(sock: Channels) -> None:
        """Read until the client closes (stdin and resize messages are dropped)."""
        while await sock.receive() is not None:
            pass

    # ---- port-forward --------------------------------------------------------------------
    async def _portforward(self, request: web.Request, pod: Obj) -> web.StreamResponse:
        if pod.get("status", {}).get("phase") != "Running":
            phase = pod.get("status", {}).get("phase")
            raise ApiError(400, f"unable to forward port because pod is not running. Current status={phase}")
        if tunnels.wants_spdy(request):
            return await self._spdy_portforward(request, pod)
        if not channels.is_websocket(request):
            raise ApiError(400, "Upgrade request required")
        protocol = channels.choose(request, portforward.PROTOCOLS)
        ports = (
            [] if protocol == portforward.SPDY_TUNNEL else portforward.parse_ports(request.query.getall("ports", []))
        )

        async def session(sock: ChannelSocket) -> None:
            if protocol == portforward.SPDY_TUNNEL:
                await portforward.SpdySession(self.ctx, tunnels.WebSocketTunnel(sock), pod).run()
            else:
                await portforward.serve_channels(self.ctx, sock, pod, ports)

        return await self._session(request, pod, protocol, session)

    async def _spdy_portforward(self, request: web.Request, pod: Obj) -> web.StreamResponse:
        """SPDY over the upgraded connection itself, with ``portforward.k8s.io`` negotiated."""
        _spdy_protocol(request, (portforward.SPDY_PROTOCOL,))
        uid = self._enter(pod)
        try:
            tunnel = await tunnels.upgrade(request, portforward.SPDY_PROTOCOL)
            try:
                await portforward.SpdySession(self.ctx, tunnel, pod).run()
            finally:
                tunnel.close()
            return tunnel.response
        finally:
            self._leave(uid)
