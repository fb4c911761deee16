"""exec and attach over SPDY/3.1 (kubectl before 1.30, ``KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false``,
client-go tools): the client opens one stream per standard stream, named by its ``streamtype``
header, and the session answers through the same interface as the WebSocket channels.
"""

from __future__ import annotations

import asyncio
import contextlib

from llmd_console.sim.apiserver import spdy
from llmd_console.sim.apiserver.channels import CLOSE_CHANNEL
from llmd_console.sim.apiserver.tunnels import Tunnel

PROTOCOLS = ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
CHANNELS = {"stdin": 0, "stdout": 1, "stderr": 2, "error": 3, "resize": 4}
STREAM_CREATION_TIMEOUT = 30.0  # the kubelet's wait for the client's streams
QUEUED_MESSAGES = 64  # stdin frames waiting for the command: the client is held back beyond this


class SpdyChannels:
    """A SPDY connection seen as numbered channels (stdin 0, stdout 1, stderr 2, error 3, resize 4)."""

    def __init__(self, tunnel: Tunnel, protocol: str, expected: set[str]) -> None:
        self.tunnel = tunnel
        self.version = int(protocol[1]) if protocol.startswith("v") else 1
        self._expected = expected
        self._codec = spdy.HeaderCodec()
        self._streams: dict[str, int] = {}
        self._inbox: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue(QUEUED_MESSAGES)
        self._ready = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Read frames in the background; True once the client has opened every expected stream."""
        self._pump = asyncio.ensure_future(self._read_frames())
        ready = asyncio.ensure_future(self._ready.wait())
        await asyncio.wait({ready, self._pump}, timeout=STREAM_CREATION_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        return self._ready.is_set()

    async def send(self, channel: int, payload: bytes) -> None:
        """Write on the stream standing for ``channel`` (dropped if the client did not open it)."""
        name = next((n for n, c in CHANNELS.items() if c == channel), "")
        if name in self._streams:
            await self.tunnel.send(spdy.data(self._streams[name], payload))

    async def receive(self) -> tuple[int, bytes] | None:
        """stdin and resize data; stdin's end as the v5 close signal; None once the client left."""
        return await self._inbox.get()

    async def close(self) -> None:
        """End every stream (the client reads to the end of each), then stop reading."""
        fins = b"".join(spdy.data(sid, b"", fin=True) for name, sid in self._streams.items() if name != "stdin")
        with contextlib.suppress(ConnectionError):
            await self.tunnel.send(fins)
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)

    async def _read_frames(self) -> None:
        reader = spdy.FrameReader(self._codec)
        try:
            while (chunk := await self.tunnel.receive()) is not None:
                for frame in reader.feed(chunk):
                    if not await self._on_frame(frame):
                        return
        except spdy.SpdyError:
            await self.tunnel.send(spdy.goaway(max(self._streams.values(), default=0), spdy.PROTOCOL_ERROR))
        finally:
            with contextlib.suppress(asyncio.QueueFull):
                self._inbox.put_nowait(None)

    async def _on_frame(self, frame: spdy.Frame) -> bool:
        if frame.kind == spdy.SYN_STREAM:
            name = frame.headers.get("streamtype", "")
            if name not in CHANNELS or name in self._streams:
                await self.tunnel.send(spdy.rst_stream(frame.stream_id, spdy.PROTOCOL_ERROR))
                return True
            self._streams[name] = frame.stream_id
            await self.tunnel.send(spdy.syn_reply(self._codec, frame.stream_id))
            if self._expected <= set(self._streams):
                self._ready.set()
        elif frame.kind == 0:
            name = next((n for n, sid in self._streams.items() if sid == frame.stream_id), "")
            if name in ("stdin", "resize") and frame.payload:
                await self._inbox.put((CHANNELS[name], frame.payload))
            if name == "stdin" and frame.fin:
                await self._inbox.put((CLOSE_CHANNEL, bytes([CHANNELS["stdin"]])))
        elif frame.kind == spdy.PING:
            await self.tunnel.send(spdy.ping(frame.stream_id))
        elif frame.kind in (spdy.GOAWAY, spdy.RST_STREAM):
            return frame.kind != spdy.GOAWAY
        return True
