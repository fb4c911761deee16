"""Byte pipes a SPDY session runs over: WebSocket binary messages (kubectl 1.31+) or the
connection itself after an ``Upgrade: SPDY/3.1`` (older kubectl, ``KUBECTL_PORT_FORWARD_WEBSOCKETS=false``,
and the many client-go tools that dial SPDY directly)."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from llmd_console.sim.apiserver.channels import ChannelSocket

MAX_BUFFERED_BYTES = 4 * 1024 * 1024  # read from the client but not yet handled


class Tunnel(Protocol):
    """Bytes in, bytes out."""

    async def send(self, payload: bytes) -> None:
        """Write bytes to the client."""

    async def receive(self) -> bytes | None:
        """The next bytes from the client (None once it closed or broke the framing)."""


class WebSocketTunnel:
    """SPDY carried in binary WebSocket messages, with no channel byte."""

    def __init__(self, sock: ChannelSocket) -> None:
        self.sock = sock

    async def send(self, payload: bytes) -> None:
        """One binary message."""
        await self.sock.send_raw(payload)

    async def receive(self) -> bytes | None:
        """The next binary message."""
        msg = await self.sock.ws.receive()
        return msg.data if msg.type == WSMsgType.BINARY and isinstance(msg.data, bytes) else None


class _Inbox:
    """What aiohttp's protocol feeds once the connection is upgraded (its parser interface)."""

    def __init__(self) -> None:
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.buffered = 0

    def feed_data(self, data: bytes, size: int = 0) -> tuple[bool, bytes]:
        self.buffered += len(data)
        self.chunks.put_nowait(data if self.buffered <= MAX_BUFFERED_BYTES else None)
        return False, b""

    def feed_eof(self) -> None:
        self.chunks.put_nowait(None)


class UpgradedTunnel:
    """The raw connection after ``101 Switching Protocols``."""

    def __init__(self, request: web.Request) -> None:
        self.response = web.StreamResponse(status=101)
        self._transport: Any = request.transport
        self._inbox = _Inbox()
        # aiohttp hands every byte after this request to the parser set on its protocol.
        request.protocol.set_parser(self._inbox)  # type: ignore[arg-type]

    async def send(self, payload: bytes) -> None:
        """Write to the connection (the 101 response has no body framing: bytes go as they are)."""
        if self._transport is None or self._transport.is_closing():
            return
        await self.response.write(payload)

    async def receive(self) -> bytes | None:
        """The next bytes read from the connection."""
        chunk = await self._inbox.chunks.get()
        if chunk is not None:
            self._inbox.buffered -= len(chunk)
        return chunk

    def close(self) -> None:
        """Close the connection."""
        if self._transport is not None:
            self._transport.close()


async def upgrade(request: web.Request, protocol: str) -> UpgradedTunnel:
    """Answer ``101 Switching Protocols`` to SPDY/3.1 with the negotiated stream protocol."""
    tunnel = UpgradedTunnel(request)  # before the 101: the client's frames follow it at once
    tunnel.response.headers.update(
        {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": protocol}
    )
    await tunnel.response.prepare(request)
    return tunnel


def wants_spdy(request: web.Request) -> bool:
    """Whether the request asks to switch to SPDY/3.1."""
    return (
        request.headers.get("Upgrade", "").lower().startswith("spdy/3.1")
        and "upgrade" in request.headers.get("Connection", "").lower()
    )
