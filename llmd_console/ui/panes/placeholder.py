"""Panes whose features arrive later: they say what will be there."""

from __future__ import annotations

from textual.widgets import Static

from llmd_console.state import Changes, ClusterState
from llmd_console.ui.panes.base import Pane

TEXT = {
    "metrics": "Scheduler and vLLM metrics (queue, KV cache, prefix hits, TTFT, ITL, tokens/s) are not built yet.",
    "prompt": "The prompt box (completions and chat through the gateway, streamed) is not built yet.",
}


class PlaceholderPane(Pane):
    """A pane that is not built yet."""

    def __init__(self, pane_id: str) -> None:
        self.pane_id = pane_id  # type: ignore[misc]
        self.title = pane_id.capitalize()  # type: ignore[misc]
        super().__init__()

    def compose(self):  # type: ignore[no-untyped-def]
        """The explanation."""
        yield Static(TEXT.get(self.pane_id, ""), classes="placeholder")

    def refresh_from(self, state: ClusterState, changes: Changes | None) -> None:
        """Nothing to draw."""
