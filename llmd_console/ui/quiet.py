"""A Static that repaints only when what it shows changed, so that periodic redraws
(the status bar every second, the startup tracker's countdown) cost nothing on an idle
screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class QuietStatic(Static):
    """``show(text)`` updates the widget only if ``text`` differs from what is shown."""

    _signature: tuple[object, ...] | None = None

    def show(self, text: Text) -> None:
        """Show ``text`` (a no-op when it is what is already on screen)."""
        signature = (text.plain, tuple(text.spans), str(text.style))
        if signature != self._signature:
            self._signature = signature
            self.update(text)
