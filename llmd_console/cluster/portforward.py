"""One HTTP request to a pod's port through the API server's port-forward
(``pods/NAME/portforward``, the ``v4.channel.k8s.io`` WebSocket protocol), as ``kubectl
port-forward`` plus ``curl`` would do it.

The console uses it where the pod proxy cannot serve: the API server does not pass the
client's ``Authorization`` header on through ``pods/NAME:PORT/proxy`` (its authentication filter
consumes it), so an endpoint that wants a bearer token (the EPP's metrics with
``--metrics-endpoint-auth``) can only be given one over a port-forward; and RBAC may allow
``pods/portforward`` where it denies ``pods/proxy``.

In the channel protocol each forwarded port has a data channel (2i) and an error channel
(2i+1); the first message on each carries the port number (two bytes, little-endian), which is
not data. The HTTP exchange over the data channel is parsed with h11 (httpx's HTTP/1.1 parser).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import h11

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.sanitize import one_line

if TYPE_CHECKING:
    from aiohttp import ClientWebSocketResponse

PROTOCOL = "v4.channel.k8s.io"
DATA, ERROR = 0, 1


@dataclass(frozen=True)
class PodResponse:
    """What the pod's server answered."""

    status: int
    reason: str
    body: bytes


async def http_get(
    client: KubeClient,
    pod_key: str,
    port: int,
    path: str,
    *,
    headers: Mapping[str, str],
    max_bytes: int,
    seconds: float,
) -> PodResponse:
    """GET ``path`` from ``port`` of the pod ``namespace/name`` within ``seconds``; a body larger
    than ``max_bytes`` is refused (KubeError 413), as is a port nothing listens on (502) and a
    forward the API server denies (its status)."""
    namespace, _, name = pod_key.partition("/")
    try:
        async with asyncio.timeout(seconds):
            ws = await client.websocket(
                f"/api/v1/namespaces/{namespace}/pods/{name}/portforward?ports={port}", PROTOCOL, seconds
            )
            try:
                return await _exchange(ws, port, path, headers, max_bytes)
            finally:
                await ws.close()
    except TimeoutError:
        raise KubeError(0, "Timeout", f"no answer over the port-forward (timed out after {seconds:g} s)") from None


async def _exchange(
    ws: ClientWebSocketResponse,
    port: int,
    path: str,
    headers: Mapping[str, str],
    max_bytes: int,
) -> PodResponse:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
    request = h11.Request(
        method="GET",
        target=path,
        headers=[("Host", f"localhost:{port}"), ("Connection", "close"), *headers.items()],
    )
    wire = conn.send(request) + (conn.send(h11.EndOfMessage()) or b"")
    await ws.send_bytes(bytes([DATA]) + wire)
    seen_prefix = {DATA: False, ERROR: False}
    status, reason, body = 0, "", bytearray()
    while True:
        message = await ws.receive()
        data = getattr(message, "data", None)
        if not isinstance(data, bytes | bytearray) or not data:
            conn.receive_data(b"")  # the socket closed: the end of the response, if it was complete
        else:
            channel, payload = data[0], bytes(data[1:])
            if channel in seen_prefix and not seen_prefix[channel]:
                seen_prefix[channel] = True
                payload = payload[2:]  # the port number, not data
            if channel == ERROR and payload:
                raise KubeError(502, "PortForward", one_line(payload.decode("utf-8", "replace"))[:300])
            if channel != DATA or not payload:
                continue
            conn.receive_data(payload)
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise KubeError(502, "BadResponse", f"port {port} did not answer with HTTP: {exc}") from None
            if event is h11.NEED_DATA:
                if conn.their_state is h11.DONE or conn.their_state is h11.CLOSED:
                    return PodResponse(status, reason, bytes(body))
                break
            if isinstance(event, h11.Response):
                status, reason = event.status_code, event.reason.decode("latin-1")
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > max_bytes:
                    raise KubeError(413, "TooLarge", f"the body is larger than {max_bytes:,} bytes")
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                if not status:
                    raise KubeError(502, "BadResponse", f"port {port} closed the connection without answering")
                return PodResponse(status, reason, bytes(body))
