"""Make remote strings inert before they reach the terminal.

Whatever a pod prints (or a name, event or condition message says) is shown, never
obeyed: escape sequences and control characters become visible Unicode "control
pictures" (ESC is shown as ``␛``), so an OSC 52 clipboard write, a screen clear or a
title change appears as text an operator can read instead of acting on the terminal.
"""

from __future__ import annotations

import unicodedata

# What never reaches the screen as itself: controls (C0, DEL, C1), format characters
# (bidi overrides and isolates, zero-width spaces and joiners, the BOM, soft hyphen),
# surrogates (a lone one cannot even be encoded), and the line and paragraph separators
# (a widget that splits lines on them would let a pod forge a line of its own).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CACHE_LIMIT = 4096  # code points remembered per table; the rest are looked up each time


class _StandIns(dict[int, str]):
    """A ``str.translate`` table filled on first sight of each code point."""

    def __init__(self, *, one_for_one: bool, tab: str) -> None:
        super().__init__()
        self.one_for_one = one_for_one
        self.tab = tab

    def __missing__(self, code: int) -> str:
        value = self._stand_in(code)
        if len(self) < _CACHE_LIMIT:
            self[code] = value
        return value

    def _stand_in(self, code: int) -> str:
        char = chr(code)
        if code == 0x09:
            return self.tab
        if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
            return char
        if code < 0x20:
            return "\u23ce" if self.one_for_one and code == 0x0A else chr(0x2400 + code)  # ␀..␟
        if code == 0x7F:
            return "\u2421"  # ␡
        if self.one_for_one:
            return "\ufffd"
        return f"<{code:02X}>" if code <= 0x9F else f"<U+{code:04X}>"


_READABLE = _StandIns(one_for_one=False, tab="    ")
ONE_FOR_ONE = _StandIns(one_for_one=True, tab=" ")
"""Each unsafe character replaced by exactly one visible one (so styled spans stay aligned)."""


def inert(text: str) -> str:
    """``text`` with every control, format, surrogate and separator character replaced by a
    visible stand-in (ESC as ``␛``, U+202E as ``<U+202E>``)."""
    if text.isprintable():
        return text
    return text.translate(_READABLE)


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
