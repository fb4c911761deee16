"""Make remote strings inert before they reach the terminal.

Whatever a pod prints (or a name, event or condition message says) is shown, never
obeyed: escape sequences and control characters become visible Unicode "control
pictures" (ESC is shown as ``␛``), so an OSC 52 clipboard write, a screen clear or a
title change appears as text an operator can read instead of acting on the terminal.
"""

from __future__ import annotations

import re

# C0 controls except TAB, DEL, C1 controls, and the bidirectional overrides that can
# make text display in a different order from how it reads.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BIDI = {c: f"<U+{ord(c):04X}>" for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"}


def _picture(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀..␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"<{code:02X}>"
    return _BIDI[char]


def inert(text: str, *, tab_width: int = 4) -> str:
    """``text`` with every control character replaced by a visible stand-in."""
    if text.isprintable():
        return text
    return _UNSAFE.sub(_picture, text.replace("\t", " " * tab_width))


def one_line(text: str, limit: int = 500) -> str:
    """An inert single line for table cells: newlines shown as ``⏎``, long text cut."""
    flat = inert(text.replace("\r\n", "\n").replace("\n", " \u23ce "))
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def middle_ellipsis(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters by cutting the middle (pod names differ at the end)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (limit - 1 - head) :]
