"""Keys as the operator types them: ``?``, ``/``, ``ctrl+d``, ``enter`` (Textual's binding
names, like ``question_mark`` or ``slash``, are for code, not for people)."""

from __future__ import annotations

from textual.keys import format_key

# Textual shows these as symbols (⏎, ⌫); a word is what a newcomer looks for on the keyboard.
WORDS = {"enter": "enter", "backspace": "backspace", "escape": "esc", "delete": "del"}


def key_label(keys: str) -> str:
    """``keys`` (a binding's comma-separated keys) the way they are typed, e.g. ``ctrl+d, ?``."""
    out = []
    for key in keys.split(","):
        one = key.strip()
        if not one:
            continue
        modifiers, _, base = one.rpartition("+")
        label = WORDS.get(base) or format_key(base)
        out.append(f"{modifiers}+{label}" if modifiers else label)
    return ", ".join(out)
