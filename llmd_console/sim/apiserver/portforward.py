"""``pods/NAME/portforward``: the kubelet's port-forward, reaching the pod's simulated servers.

Two wire protocols:
- SPDY/3.1 with ``portforward.k8s.io``, tunnelled in WebSocket binary messages
  (``SPDY/3.1+portforward.k8s.io``, kubectl since 1.31) or after an HTTP upgrade (older
  kubectl, client-go tools). Each forwarded connection is a pair of streams opened by the
  client, ``error`` and ``data``, matched by their ``requestid`` header and carrying the
  remote ``port``;
- ``v4.channel.k8s.io`` over WebSocket (the Python client): one connection per port named in ``?ports=``;
  port *i* has data channel 2i and error channel 2i+1, and the first message on each
  carries the port number (two bytes, little-endian).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.apiserver import channels, spdy
from llmd_console.sim.apiserver.channels import ChannelSocket
from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.tunnels import Tunnel
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.runtime.podnet import PodConnection, connect
from llmd_console.sim.storage.objects import Obj

SPDY_PROTOCOL = "portforward.k8s.io"
SPDY_TUNNEL = "SPDY/3.1+" + SPDY_PROTOCOL
CHANNEL_PROTOCOLS = ("v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io")
PROTOCOLS = (SPDY_TUNNEL, *CHANNEL_PROTOCOLS)
MAX_FORWARDS = 64  # connections open at once over one port-forward session
MAX_PORTS = 16  # ports named in one ?ports= request


def parse_ports(values: list[str]) -> list[int]:
    """``?ports=8000,9090`` (or repeated); a 400 naming the bad value."""
    ports: list[int] = []
    for value in values:
        for raw in value.split(","):
            part = raw.strip()
            if not part.isdigit() or not 0 < int(part) < 65536:
                raise ApiError(400, f'unable to parse "{part}" as a port: port must be in the range 1 - 65535')
            ports.append(int(part))
    if not ports:
        raise ApiError(400, 'query parameter "ports" is required')
    if len(ports) > MAX_PORTS:
        raise ApiError(400, f"too many ports: {len(ports)} (the limit is {MAX_PORTS})")
    return ports


def refused_message(pod: Obj, port: int, err: OSError) -> str:
    """What the kubelet writes on the error stream when nothing listens on the port."""
    m = pod["metadata"]
    return (
        f"error forwarding port {port} to pod {m['name']}, uid {m['uid']}: failed to connect to "
        f"localhost:{port} inside namespace of pod {m['name']}: {err}"
    )


async def pod_gone(ctx: SimContext, pod: Obj) -> None:
    """Return once the pod is deleted (or replaced by another of the same name)."""
    m = pod["metadata"]
    while True:
        current = ctx.store.get("pods", m.get("namespace", ""), m["name"])
        if current is None or current["metadata"]["uid"] != m["uid"]:
            return
        await asyncio.sleep(1.0)


async def _pump_out(conn: PodConnection, write: Callable[[bytes], Awaitable[None]]) -> None:
    """Copy the pod's bytes to the client until the pod closes its end."""
    while chunk := await conn.read():
        await write(chunk)


# ---- v4.channel.k8s.io ------------------------------------------------------------------
async def serve_channels(ctx: SimContext, sock: ChannelSocket, pod: Obj, ports: list[int]) -> None:
    """One connection per port, opened at once, as the kubelet's WebSocket handler does."""
    conns: dict[int, PodConnection] = {}
    pumps: list[asyncio.Task[None]] = []
    try:
        for index, port in enumerate(ports):
            prefix = struct.pack("<H", port)
            await sock.send(2 * index, prefix)
            await sock.send(2 * index + 1, prefix)
            try:
                conns[index] = await connect(ctx.processes, pod["metadata"]["uid"], port)
            except OSError as err:
                await sock.send(2 * index + 1, refused_message(pod, port, err).encode())
                continue

            async def write(chunk: bytes, channel: int = 2 * index) -> None:
                await sock.send(channel, chunk)

            pumps.append(asyncio.ensure_future(_pump_out(conns[index], write)))
        # The kubelet closes the socket once every connection has ended (or the client left).
        watchers = [
            asyncio.ensure_future(_all_ended(pumps)),
            asyncio.ensure_future(_channels_in(sock, conns)),
            asyncio.ensure_future(pod_gone(ctx, pod)),
        ]
        try:
            await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for conn in conns.values():
            await conn.close()


async def _all_ended(tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


async def _channels_in(sock: ChannelSocket, conns: dict[int, PodConnection]) -> None:
    while (msg := await sock.receive()) is not None:
        channel, payload = msg
        conn = conns.get(channel // 2) if channel % 2 == 0 else None
        if conn is not None and payload:
            await conn.write(payload)


# ---- SPDY/3.1 tunnelled in WebSocket ----------------------------------------------------
@dataclass
class _Pair:
    port: int
    error_id: int = 0
    data_id: int = 0
    conn: PodConnection | None = None
    task: asyncio.Task[None] | None = None


@dataclass
class SpdySession:
    """The server end of one SPDY connection carrying port-forwards."""

    ctx: SimContext
    tunnel: Tunnel
    pod: Obj
    codec: spdy.HeaderCodec = field(default_factory=spdy.HeaderCodec)
    pairs: dict[str, _Pair] = field(default_factory=dict)
    by_stream: dict[int, str] = field(default_factory=dict)
    last_stream: int = 0

    async def send(self, frame: bytes) -> None:
        """Write frames."""
        await self.tunnel.send(frame)

    async def run(self) -> None:
        """Read frames until the client goes away, the pod is deleted, or the tunnel breaks."""
        watcher = asyncio.ensure_future(pod_gone(self.ctx, self.pod))
        reader = spdy.FrameReader(self.codec)
        receive: asyncio.Future[Any] | None = None
        try:
            while True:
                receive = asyncio.ensure_future(self.tunnel.receive())
                done, _ = await asyncio.wait(
                    {receive, watcher}, timeout=channels.IDLE_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
                )
                if receive not in done:  # the pod is gone, or the client went quiet past the idle limit
                    receive.cancel()
                    await self.send(spdy.goaway(self.last_stream))
                    return
                chunk = receive.result()
                if chunk is None:
                    return
                try:
                    frames = reader.feed(chunk)
                except spdy.SpdyError:
                    await self.send(spdy.goaway(self.last_stream, spdy.PROTOCOL_ERROR))
                    return
                for frame in frames:
                    if not await self._on_frame(frame):
                        return
        finally:
            pending: list[asyncio.Future[Any]] = [watcher, *(p.task for p in self.pairs.values() if p.task)]
            if receive is not None:
                pending.append(receive)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _on_frame(self, frame: spdy.Frame) -> bool:
        if frame.kind == spdy.SYN_STREAM:
            await self._open(frame)
        elif frame.kind == 0:
            await self._data(frame)
        elif frame.kind == spdy.PING:
            await self.send(spdy.ping(frame.stream_id))
        elif frame.kind == spdy.RST_STREAM:
            self._reset(frame.stream_id)
        elif frame.kind == spdy.GOAWAY:
            return False
        return True

    async def _open(self, frame: spdy.Frame) -> None:
        sid, headers = frame.stream_id, frame.headers
        self.last_stream = max(self.last_stream, sid)
        kind, port_text = headers.get("streamtype", ""), headers.get("port", "")
        # Without a requestid (clients before 1.6), a data stream follows its error stream.
        request_id = headers.get("requestid") or str(sid if kind == "error" else sid - 2)
        if kind not in ("error", "data") or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            await self.send(spdy.rst_stream(sid, spdy.PROTOCOL_ERROR))
            return
        if request_id not in self.pairs and len(self.pairs) >= MAX_FORWARDS:
            await self.send(spdy.rst_stream(sid, spdy.REFUSED_STREAM))
            return
        pair = self.pairs.setdefault(request_id, _Pair(int(port_text)))
        if kind == "error":
            pair.error_id = sid
        else:
            pair.data_id = sid
        self.by_stream[sid] = request_id
        await self.send(spdy.syn_reply(self.codec, sid))
        if not (pair.error_id and pair.data_id) or pair.task is not None:
            return
        # The pod is in-process: connecting is immediate, so data the client sends next has a place to go.
        try:
            pair.conn = await connect(self.ctx.processes, self.pod["metadata"]["uid"], pair.port)
        except OSError as err:
            message = refused_message(self.pod, pair.port, err).encode()
            await self.send(spdy.data(pair.error_id, message) + self._fins(pair))
            self._forget(request_id)
            return
        pair.task = asyncio.ensure_future(self._forward(request_id, pair, pair.conn))

    @staticmethod
    def _fins(pair: _Pair) -> bytes:
        return spdy.data(pair.data_id, b"", fin=True) + spdy.data(pair.error_id, b"", fin=True)

    async def _forward(self, request_id: str, pair: _Pair, conn: PodConnection) -> None:
        try:

            async def write(chunk: bytes) -> None:
                await self.send(spdy.data(pair.data_id, chunk))

            await _pump_out(conn, write)
            with contextlib.suppress(ConnectionError):
                await self.send(self._fins(pair))
        finally:
            self._forget(request_id)
            await conn.close()

    async def _data(self, frame: spdy.Frame) -> None:
        request_id = self.by_stream.get(frame.stream_id)
        pair = self.pairs.get(request_id or "")
        if pair is None or pair.conn is None or frame.stream_id != pair.data_id:
            return  # the error stream carries nothing from the client; stale streams are dropped
        try:
            if frame.payload:
                await pair.conn.write(frame.payload)
            if frame.fin:
                pair.conn.close_write()
        except ConnectionError:
            pass  # the pod closed first; its FIN is on the way to the client

    def _reset(self, stream_id: int) -> None:
        request_id = self.by_stream.get(stream_id)
        pair = self.pairs.get(request_id or "")
        if pair is not None and pair.task is not None and stream_id == pair.data_id:
            pair.task.cancel()

    def _forget(self, request_id: str) -> None:
        pair = self.pairs.pop(request_id, None)
        if pair is not None:
            self.by_stream.pop(pair.error_id, None)
            self.by_stream.pop(pair.data_id, None)
