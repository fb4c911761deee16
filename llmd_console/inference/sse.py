"""Server-sent events from a byte stream, every line and event bounded.

A line longer than ``max_line`` bytes, or an event made of more than that, is a
:class:`ProtocolError`: whatever a server sends, what is held in memory stays small.
"""

from __future__ import annotations

MAX_LINE = 256 * 1024  # a vLLM chunk line is a few hundred bytes; a usage chunk a little more


class ProtocolError(Exception):
    """The stream is not server-sent events within the bounds."""


class EventReader:
    """Feed bytes, get the ``data`` of each complete event (lines joined by newlines, as the SSE
    spec says); comments, ``event:``, ``id:`` and ``retry:`` lines are read and dropped."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._partial = b""
        self._data: list[str] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[str]:
        """The events completed by ``chunk``."""
        events: list[str] = []
        lines = (self._partial + chunk if self._partial else chunk).split(b"\n")
        self._partial = lines.pop()  # what follows the last newline: a line still arriving
        for line in lines:
            self._line(line, events)
        if len(self._partial) > self.max_line:
            raise ProtocolError(f"a stream line is longer than {self.max_line:,} bytes")
        return events

    def close(self) -> list[str]:
        """The last event, when the stream ends without its blank line."""
        events: list[str] = []
        if self._partial:
            self._line(self._partial, events)
            self._partial = b""
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        return events

    def _line(self, raw: bytes, events: list[str]) -> None:
        if len(raw) > self.max_line:
            raise ProtocolError(f"a stream line is longer than {self.max_line:,} bytes")
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line:
            if self._data:
                events.append("\n".join(self._data))
            self._data, self._size = [], 0
            return
        if line.startswith(b":"):
            return
        name, _, value = line.partition(b":")
        if name != b"data":
            return
        self._size += len(value)
        if self._size > self.max_line:
            raise ProtocolError(f"a stream event is longer than {self.max_line:,} bytes")
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a stream line is not UTF-8") from None
        self._data.append(text[1:] if text.startswith(" ") else text)
