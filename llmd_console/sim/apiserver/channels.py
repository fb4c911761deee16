"""The Kubernetes channel protocols over WebSocket (``*.channel.k8s.io``), shared by exec,
attach and port-forward: which subprotocol is spoken, and one-byte channel framing.

Binary protocols prefix each message with its channel number; the base64 ones send text
messages whose first character is the channel digit and the rest base64. ``v5`` adds the
close signal: a message on channel 255 whose payload names the channel being closed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import WSMsgType, web

from llmd_console.sim.apiserver.errors import ApiError

CLOSE_CHANNEL = 255
MAX_MESSAGE_BYTES = 1 << 20  # a client writes at most 32 KiB per message; 1 MiB bounds a misbehaving one
# A session with nothing from its client for this long is closed: the kubelet's default
# streamingConnectionIdleTimeout (kubectl's port-forward pings every 10 s, so it stays up).
IDLE_TIMEOUT = 4 * 3600.0


def is_websocket(request: web.Request) -> bool:
    """Whether the request asks for a WebSocket upgrade."""
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() == "websocket"
        and "upgrade" in request.headers.get("Connection", "").lower()
    )


def offered(request: web.Request) -> list[str]:
    """The subprotocols the client offers, in its order of preference."""
    raw = ",".join(request.headers.getall("Sec-WebSocket-Protocol", []))
    return [p.strip() for p in raw.split(",") if p.strip()]


def choose(request: web.Request, supported: tuple[str, ...]) -> str:
    """The client's most preferred protocol we speak ("" when it offered none), or a 400
    worded as the API server's stream negotiation words it."""
    wanted = offered(request)
    if not wanted:
        return ""
    for proto in wanted:
        if proto in supported:
            return proto
    raise ApiError(
        400,
        f"unable to upgrade connection: requested protocol(s) are not supported: {wanted}; supports {list(supported)}",
    )


async def accept(request: web.Request, protocol: str) -> web.WebSocketResponse:
    """Complete the upgrade with ``protocol``."""
    ws = web.WebSocketResponse(
        protocols=(protocol,) if protocol else (),
        max_msg_size=MAX_MESSAGE_BYTES,
        compress=False,
        autoclose=True,
    )
    await ws.prepare(request)
    return ws


class Channels(Protocol):
    """Numbered channels to a client, however they travel."""

    @property
    def version(self) -> int:
        """The protocol version (4 and up: the exit Status is JSON)."""

    async def send(self, channel: int, payload: bytes) -> None:
        """Write on a channel."""

    async def receive(self) -> tuple[int, bytes] | None:
        """The next (channel, payload) from the client; None once it left."""


@dataclass
class ChannelSocket:
    """A WebSocket speaking one of the channel protocols."""

    ws: web.WebSocketResponse
    protocol: str
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def is_base64(self) -> bool:
        """Text messages with base64 payloads."""
        return "base64" in self.protocol

    @property
    def version(self) -> int:
        """1 for ``channel.k8s.io`` (or no protocol), else the ``vN.`` prefix."""
        head = self.protocol.split(".", 1)[0]
        return int(head[1:]) if head.startswith("v") and head[1:].isdigit() else 1

    async def send(self, channel: int, payload: bytes) -> None:
        """Write ``payload`` on ``channel`` (one message; writers are serialized)."""
        async with self._lock:
            if self.ws.closed:
                return
            if self.is_base64:
                await self.ws.send_str(str(channel) + base64.b64encode(payload).decode())
            else:
                await self.ws.send_bytes(bytes([channel]) + payload)

    async def send_raw(self, payload: bytes) -> None:
        """Write one binary message with no channel byte (a tunnel's own framing)."""
        async with self._lock:
            if not self.ws.closed:
                await self.ws.send_bytes(payload)

    async def receive(self) -> tuple[int, bytes] | None:
        """The next (channel, payload) from the client; None once it closed, broke the framing,
        or sent nothing for ``IDLE_TIMEOUT`` seconds."""
        while True:
            try:
                msg = await self.ws.receive(IDLE_TIMEOUT)
            except TimeoutError:
                return None
            if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                return None  # closed, closing or broken
            # The kubelet reads text and binary messages alike (the Python client writes text).
            raw: bytes = msg.data.encode() if isinstance(msg.data, str) else msg.data
            if not raw:
                continue
            if not self.is_base64:
                return raw[0], raw[1:]
            if not raw[:1].isdigit():
                return None
            try:
                return int(raw[:1]), base64.b64decode(raw[1:], validate=True)
            except binascii.Error:
                return None

    async def close(self) -> None:
        """A normal closure."""
        async with self._lock:
            if not self.ws.closed:
                await self.ws.close()
