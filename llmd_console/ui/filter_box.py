"""The regex box the pods and logs panes open with ``/``."""

from __future__ import annotations

import re

from textual.widgets import Input


class FilterBox(Input):
    """Hidden until opened; while hidden it cannot take focus, so it never swallows keys."""

    def __init__(self, placeholder: str, id: str) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.display = False
        self.can_focus = False

    def open(self) -> None:
        """Show the box and type into it."""
        self.display = True
        self.can_focus = True
        self.focus()

    def close(self) -> None:
        """Empty and hide the box."""
        self.value = ""
        self.hide()

    def hide(self) -> None:
        """Hide the box, keeping its text."""
        self.display = False
        self.can_focus = False

    def compile(self, text: str) -> tuple[re.Pattern[str] | None, str]:
        """The case-insensitive pattern for ``text`` (None when empty) and, for text that is not a
        valid regex, why: it is then matched literally and the box is marked invalid."""
        try:
            pattern = re.compile(text, re.IGNORECASE) if text else None
        except re.error as exc:
            self.add_class("invalid")
            return re.compile(re.escape(text), re.IGNORECASE), str(exc)
        self.remove_class("invalid")
        return pattern, ""
