"""Server-sent events: the same events whatever the chunking, the SSE spec's line forms, and
bounds on lines and events."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmd_console.inference.sse import EventReader, ProtocolError

STREAM = (
    b": keep-alive comment\n"
    b'data: {"a": 1}\n\n'
    b'event: message\r\nid: 7\r\ndata: {"b":\r\ndata:  2}\r\n\r\n'
    b"retry: 100\n"
    b"data:[DONE]\n\n"
)
EVENTS = [b'{"a": 1}', b'{"b":\n 2}', b"[DONE]"]


def read_all(chunks: list[bytes], max_line: int = 1024) -> list[bytes]:
    reader = EventReader(max_line)
    events = [event for chunk in chunks for event in reader.feed(chunk)]
    return events + reader.close()


def test_the_spec_line_forms() -> None:
    assert read_all([STREAM]) == EVENTS


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    assert read_all([STREAM[a:b] for a, b in itertools.pairwise(points)]) == EVENTS


def test_an_event_without_its_blank_line_is_read_at_the_end() -> None:
    assert read_all([b"data: last"]) == [b"last"]


@pytest.mark.parametrize(
    "chunks",
    [[b"data: " + b"x" * 2000], [b"data: " + b"x" * 2000 + b"\n\n"], [b"data: " + b"x" * 600 + b"\n"] * 2],
    ids=["unfinished-line", "long-line", "long-event"],
)
def test_bounds(chunks: list[bytes]) -> None:
    with pytest.raises(ProtocolError, match="longer than 1,024 bytes"):
        read_all(chunks)
