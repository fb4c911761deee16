"""Panes whose features arrive later: they say what will be there."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from llmd_console.models import Snapshot
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import PaneSpec, register


class PlaceholderPane(Pane):
    """A pane that is not built yet: it takes the focus (its number key answers) and says so."""

    text: ClassVar[str] = ""
    can_focus = True

    def on_focus(self) -> None:
        """Reached by its number key or Tab: say what will be here, as the pane holds no keys yet."""
        self.notify(f"{self.title}: {self.text}", severity="information", timeout=4)

    def compose(self) -> ComposeResult:
        """The explanation."""
        yield Static(self.text, classes="placeholder")

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Nothing to draw."""


def placeholder(pane_id: str, title: str, text: str) -> type[PlaceholderPane]:
    """Declare and register a placeholder pane."""
    cls: type[PlaceholderPane] = type(
        f"{title}Placeholder", (PlaceholderPane,), {"pane_id": pane_id, "title": title, "text": text}
    )
    register(PaneSpec(pane_id, title, text, cls.create, (), frozenset(), placeholder=True))
    return cls


PromptPlaceholder = placeholder(
    "prompt", "Prompt", "The prompt box (completions and chat through the gateway, streamed) is not built yet."
)
