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
    spec says), as bytes (``json.loads`` reads them as they are); comments, ``event:``, ``id:`` and
    ``retry:`` lines are read and dropped."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._partial = b""
        self._data: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        """The events completed by ``chunk``."""
        events: list[bytes] = []
        lines = (self._partial + chunk if self._partial else chunk).split(b"\n")
        self._partial = lines.pop()  # what follows the last newline: a line still arriving
        for line in lines:
            # The common case first: a one-line event of an OpenAI stream, then its blank line.
            if not line:
                self._dispatch(events)
            elif line[:6] == b"data: " and not self._data and len(line) <= self.max_line and line[-1:] != b"\r":
                self._data.append(line[6:])
                self._size = len(line) - 6
            else:
                self._line(line, events)
        if len(self._partial) > self.max_line:
            raise ProtocolError(f"a stream line is longer than {self.max_line:,} bytes")
        return events

    def close(self) -> list[bytes]:
        """The last event, when the stream ends without its blank line."""
        events: list[bytes] = []
        if self._partial:
            self._line(self._partial, events)
            self._partial = b""
        self._dispatch(events)
        return events

    def _dispatch(self, events: list[bytes]) -> None:
        if self._data:
            events.append(self._data[0] if len(self._data) == 1 else b"\n".join(self._data))
        self._data, self._size = [], 0

    def _line(self, raw: bytes, events: list[bytes]) -> None:
        if len(raw) > self.max_line:
            raise ProtocolError(f"a stream line is longer than {self.max_line:,} bytes")
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line:
            self._dispatch(events)
            return
        name, _, value = line.partition(b":")
        if name != b"data":
            return  # a comment (": ..."), or a field the OpenAI API does not use
        value = value[1:] if value.startswith(b" ") else value
        self._size += len(value)
        if self._size > self.max_line:
            raise ProtocolError(f"a stream event is longer than {self.max_line:,} bytes")
        self._data.append(value)
