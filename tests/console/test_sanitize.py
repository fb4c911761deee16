"""Remote strings are made inert."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmd_console.sanitize import ONE_FOR_ONE, inert, one_line

HOSTILE = [
    "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",  # OSC 52: write the clipboard
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b]0;pwned\x07",  # set the window title
    "\x1b[10A\x1b[5;5H",  # cursor moves
    "\x1bP+q544e\x1b\\",  # DCS request
    "\x9b31m",  # 8-bit CSI
    "safe\u202eexe.txt",  # right-to-left override
    "one\u2028two",  # a line separator: a widget splitting on it would show a forged line
    "a\u2029b",  # paragraph separator
    "zero\u200bwidth\u200c\u200d\u200e\u200f\u2060\ufeff",  # invisible characters
    "lone \ud800 surrogate",
]
UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def visible(text: str) -> bool:
    """No control, format, surrogate or separator character (a tab is not expected either)."""
    return not any(unicodedata.category(ch) in UNSAFE for ch in text)


@pytest.mark.parametrize("text", HOSTILE)
def test_no_control_character_survives(text: str) -> None:
    out = inert(text)
    assert visible(out) and all(ch.isprintable() for ch in out)
    out.encode("utf-8")  # a lone surrogate would not even encode
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


def test_escape_is_shown_not_dropped() -> None:
    assert inert("\x1b]52;c;AAAA\x07") == "\u241b]52;c;AAAA\u2407"


def test_plain_text_is_untouched() -> None:
    line = "(APIServer pid=1) INFO 11-27 10:00:00 [api_server.py:1351] vLLM API server version 0.11.1 \u2013 ok \u2713"
    assert inert(line) is line


def test_tabs_become_spaces_and_one_line_flattens() -> None:
    assert inert("a\tb") == "a    b"
    assert one_line("first\nsecond") == "first \u23ce second"
    assert one_line("x" * 600, limit=10) == "x" * 9 + "\u2026"


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_any_text_comes_out_visible(text: str) -> None:
    assert visible(inert(text))
    flat = one_line(text, limit=10_000)
    assert visible(flat) and "\n" not in flat
    assert visible(text.translate(ONE_FOR_ONE)) and len(text.translate(ONE_FOR_ONE)) == len(text)
