"""What every pane shares: a title, a one-line status for trouble, and lazy updates
(a pane that is not on screen only remembers that it is out of date)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.containers import Vertical
from textual.widgets import Static

if TYPE_CHECKING:
    from llmd_console.state import Changes, ClusterState


class Pane(Vertical):
    """Base class of the console's panes."""

    pane_id: str = ""  # set by each subclass (or per instance, for placeholders)
    title: str = ""
    kinds: ClassVar[tuple[str, ...]] = ()  # which kinds of objects this pane draws

    def __init__(self, pane_id: str | None = None, title: str | None = None) -> None:
        if pane_id is not None:
            self.pane_id = pane_id
        if title is not None:
            self.title = title
        super().__init__(id=f"pane-{self.pane_id}", classes="pane")
        self.border_title = self.title
        self._stale = True
        self._state: ClusterState | None = None  # the app's state, kept even while hidden
        self.notice = Static("", classes="pane-notice")
        self.notice.display = False

    def show_notice(self, text: str) -> None:
        """Show (or with "" hide) the pane's trouble line."""
        self.notice.update(text)
        self.notice.display = bool(text)

    def cluster_changed(self, state: ClusterState, changes: Changes | None) -> None:
        """The cluster state moved; redraw now if visible, else later."""
        self._state = state
        if not self.is_on_screen:
            self._stale = True
            return
        self._stale = False
        self._safely_refresh(state, changes)

    def _safely_refresh(self, state: ClusterState, changes: Changes | None) -> None:
        """Redraw; an object this pane cannot make sense of is reported in the pane, never fatal."""
        try:
            self.refresh_from(state, changes)
        except Exception as exc:  # a malformed object from the server must not take the console down
            self.show_notice(f"cannot draw from the cluster's data: {type(exc).__name__}: {exc}"[:300])

    @property
    def is_on_screen(self) -> bool:
        """Whether the pane is displayed (not a hidden tab)."""
        node = self
        while node is not None:
            if not getattr(node, "display", True):
                return False
            node = node.parent  # type: ignore[assignment]
        return self.is_mounted

    def became_visible(self, state: ClusterState) -> None:
        """Catch up after being hidden."""
        self._state = state
        if self._stale:
            self._stale = False
            self._safely_refresh(state, None)

    def refresh_from(self, state: ClusterState, changes: Changes | None) -> None:
        """Redraw from ``state``; ``changes`` None means everything may have changed."""
        raise NotImplementedError

    def status_notice(self, state: ClusterState) -> str:
        """The notice line for this pane's kinds: disconnected, forbidden, missing."""
        for kind in self.kinds:
            s = state.status_of(kind)
            if s.status == "reconnecting":
                return f"disconnected, retrying - {s.message}"
            if s.status == "forbidden":
                return f"{kind}: {s.message}"
            if s.status == "missing" and kind in ("pods", "nodes"):
                return f"{kind}: {s.message}"
        if any(state.status_of(k).status == "loading" for k in self.kinds):
            return "loading..."
        return ""
