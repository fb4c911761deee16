"""SPDY/3.1 framing, as kubectl's port-forward speaks it (tunnelled in WebSocket binary messages).

Only what a server end needs: reading the client's frames from a byte stream, writing
SYN_REPLY, DATA, RST_STREAM, PING and GOAWAY, and the zlib-compressed header blocks
(one compression context per direction, primed with the dictionary the SPDY/3 draft
defines in section 2.6.10.1). kubectl's SPDY library does no flow control, so neither
does this: WINDOW_UPDATE and SETTINGS are read and ignored.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
# RST_STREAM status codes (section 2.6.3).
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM = 1, 2, 3
MAX_FRAME_BYTES = 1 << 20  # the 24-bit length field allows 16 MiB; nothing here needs more than 1 MiB
MAX_HEADER_BYTES = 64 * 1024  # decompressed header block
MAX_HEADER_PAIRS = 256

_WORDS = (
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
# The header compression dictionary: length-prefixed common header words, then common values.
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


class SpdyError(Exception):
    """The peer broke the protocol; the connection must end."""


@dataclass
class Frame:
    """One frame: control (``kind`` > 0) or data (``kind`` == 0)."""

    kind: int
    flags: int
    stream_id: int = 0
    payload: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def fin(self) -> bool:
        """Whether the sender has finished writing on this stream."""
        return bool(self.flags & FLAG_FIN)


class HeaderCodec:
    """The two zlib contexts of one connection."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, zdict=DICTIONARY)

    def decode(self, block: bytes) -> dict[str, str]:
        """Decompress and parse one header block (names lowercase; multiple values joined by NUL)."""
        try:
            raw = self._inflate.decompress(block, MAX_HEADER_BYTES)
        except zlib.error as exc:
            raise SpdyError(f"bad header block: {exc}") from exc
        if self._inflate.unconsumed_tail:
            raise SpdyError(f"header block larger than {MAX_HEADER_BYTES} bytes")
        headers: dict[str, str] = {}
        try:
            (count,) = struct.unpack_from(">I", raw, 0)
            if count > MAX_HEADER_PAIRS:
                raise SpdyError(f"too many headers ({count})")
            pos = 4
            for _ in range(count):
                (n,) = struct.unpack_from(">I", raw, pos)
                name = raw[pos + 4 : pos + 4 + n].decode()
                pos += 4 + n
                (v,) = struct.unpack_from(">I", raw, pos)
                value = raw[pos + 4 : pos + 4 + v].decode()
                pos += 4 + v
                if pos > len(raw):
                    raise SpdyError("truncated header block")
                headers[name.lower()] = value
        except (struct.error, UnicodeDecodeError) as exc:
            raise SpdyError(f"malformed header block: {exc}") from exc
        return headers

    def encode(self, headers: dict[str, str]) -> bytes:
        """Serialize and compress one header block."""
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            n, v = name.lower().encode(), value.encode()
            raw += struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


class FrameReader:
    """Splits a byte stream into frames (bytes may arrive in any chunking)."""

    def __init__(self, codec: HeaderCodec) -> None:
        self._codec = codec
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return every frame now complete."""
        self._buf += data
        frames: list[Frame] = []
        while len(self._buf) >= 8:
            length = int.from_bytes(self._buf[5:8], "big")
            if length > MAX_FRAME_BYTES:
                raise SpdyError(f"frame of {length} bytes exceeds the limit of {MAX_FRAME_BYTES}")
            if len(self._buf) < 8 + length:
                break
            head, body = bytes(self._buf[:8]), bytes(self._buf[8 : 8 + length])
            del self._buf[: 8 + length]
            frames.append(self._parse(head, body))
        return frames

    def _parse(self, head: bytes, body: bytes) -> Frame:
        word, flags = struct.unpack(">IB", head[:5])
        if not word & 0x80000000:
            return Frame(0, flags, word & 0x7FFFFFFF, body)
        version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
        if version != VERSION:
            raise SpdyError(f"unsupported SPDY version {version}")
        if kind in (SYN_STREAM, SYN_REPLY, HEADERS):
            offset = 10 if kind == SYN_STREAM else 4
            if len(body) < offset:
                raise SpdyError("short control frame")
            stream_id = struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF
            return Frame(kind, flags, stream_id, headers=self._codec.decode(body[offset:]))
        if kind in (RST_STREAM, WINDOW_UPDATE, PING, GOAWAY):
            if len(body) < 4:
                raise SpdyError("short control frame")
            return Frame(kind, flags, struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF, body)
        return Frame(kind, flags, 0, body)  # SETTINGS and unknown types: read and ignored


def _control(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def syn_reply(codec: HeaderCodec, stream_id: int, headers: dict[str, str] | None = None) -> bytes:
    """Accept a stream the client opened."""
    return _control(SYN_REPLY, 0, struct.pack(">I", stream_id) + codec.encode(headers or {}))


def data(stream_id: int, payload: bytes, *, fin: bool = False) -> bytes:
    """A DATA frame (``fin``: nothing more will be written on the stream)."""
    return struct.pack(">II", stream_id, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload


def rst_stream(stream_id: int, status: int) -> bytes:
    """Abort a stream."""
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def ping(ping_id: int) -> bytes:
    """A PING (echoing the client's is the answer it waits for)."""
    return _control(PING, 0, struct.pack(">I", ping_id))


def goaway(last_stream_id: int, status: int = 0) -> bytes:
    """Tell the client no more streams will be accepted."""
    return _control(GOAWAY, 0, struct.pack(">II", last_stream_id, status))
