"""Turns a :class:`~llmd_console.layouts.Layout` into containers holding the panes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Tab, Tabs

from llmd_console.layouts import Layout
from llmd_console.ui.panes.base import Pane


class PaneTabs(Vertical):
    """One pane at a time, with a tab strip (the compact layout)."""

    def __init__(self, panes: list[Pane]) -> None:
        super().__init__(id="pane-tabs")
        self.panes = panes

    def compose(self) -> ComposeResult:
        """Tabs and the switcher."""
        yield Tabs(
            *(Tab(f"{i + 1} {p.title}", id=f"tab-{p.pane_id}") for i, p in enumerate(self.panes)), id="layout-tabs"
        )
        with ContentSwitcher(initial=self.panes[0].id if self.panes else None, id="pane-switcher"):
            yield from self.panes

    def show(self, pane_id: str) -> None:
        """Bring a pane to the front."""
        self.query_one(ContentSwitcher).current = f"pane-{pane_id}"
        self.query_one(Tabs).active = f"tab-{pane_id}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        """A tab was clicked or switched to."""
        if event.tab.id:
            self.query_one(ContentSwitcher).current = "pane-" + event.tab.id.removeprefix("tab-")


def build(layout: Layout, panes: dict[str, Pane]) -> Widget:
    """The widget tree for ``layout`` (each pane used once)."""
    if layout.tabs:
        return PaneTabs([panes[name] for name in layout.tabs])
    rows = []
    for row in layout.rows:
        cells = []
        for slot in row.panes:
            pane = panes[slot.pane]
            pane.styles.width = f"{slot.width}fr"
            cells.append(pane)
        box = Horizontal(*cells, classes="layout-row")
        box.styles.height = f"{row.height}fr"
        rows.append(box)
    return Vertical(*rows, id="layout-rows")
