"""Toasts never cover a dialog: when one of the console's dialogs opens, the toasts already
on screen are dismissed. They told of what happened before the dialog (an outcome, a refusal,
a hint); left up, they sat over a dialog's name field and buttons on a small terminal. What
they said of an action is kept elsewhere: its outcome in the audit log, and a followed
action's (deploy, scale to zero) on the action bar and in its log (``a``). Toasts raised
while the dialog is open are news about it and stay."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import ModalScreen, Screen, SystemModalScreen


class DialogToasts:
    """Follows the app's screen stack; clears the toasts when a dialog is pushed (not when one
    closes and uncovers another, nor for Textual's own command palette)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.depth = len(app.screen_stack)

    def watch(self) -> None:
        """Start following the screen changes."""
        self.app.screen_change_signal.subscribe(self.app, self._changed)

    def _changed(self, screen: Screen[Any]) -> None:
        depth = len(self.app.screen_stack)
        pushed = depth > self.depth
        self.depth = depth
        if pushed and isinstance(screen, ModalScreen) and not isinstance(screen, SystemModalScreen):
            self.app.clear_notifications()
