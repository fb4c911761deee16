"""Panes whose features arrive later: they say what will be there."""

from __future__ import annotations

from textual.app import ComposeResult
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
        super().__init__(pane_id, pane_id.capitalize())

    def compose(self) -> ComposeResult:
        """The explanation."""
        yield Static(TEXT.get(self.pane_id, ""), classes="placeholder")

    def refresh_from(self, state: ClusterState, changes: Changes | None) -> None:
        """Nothing to draw."""
