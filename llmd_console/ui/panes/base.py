"""What every pane shares: a title, a one-line status for trouble, the snapshot it
draws from, lazy updates (a pane that is not on screen only remembers that it is out
of date), and the read-only gate on its mutating actions."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Self

from rich.text import Text
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Static

from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.readings import Feed
from llmd_console.models import LogChunk, Snapshot
from llmd_console.ui.registry import PaneContext

if TYPE_CHECKING:
    from llmd_console.doctor.findings import Finding
    from llmd_console.doctor.summary import Summary
    from llmd_console.ui.panes.load_view import LoadState


class Pane(Vertical):
    """Base class of the console's panes."""

    pane_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ()  # which kinds of objects this pane draws
    BINDINGS: ClassVar[list[BindingType]] = []
    MUTATIONS: ClassVar[frozenset[str]] = frozenset()  # actions that change the cluster
    ALLOW_MAXIMIZE = True  # z zooms the pane holding the focus, not the widget inside it

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.pane_id}", classes="pane")
        self.border_title = self.title
        self._stale = True
        self.snapshot = Snapshot()  # the latest one, kept even while hidden
        self.problem = ""  # a failed worker's words (kept across snapshots)
        self.notice = Static("", classes="pane-notice")
        self.notice.display = False

    @classmethod
    def create(cls, context: PaneContext) -> Self:
        """Make the pane from the app's settings (panes that need some override this)."""
        del context
        return cls()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Mutating actions are hidden and refused in read-only mode and when the API does not allow
        them (they are not offered rather than failing later); Escape clears a filter
        only while there is one (otherwise it is not a key of the pane, rather than a silent one)."""
        if action == "clear_filter":
            return self.has_filter()
        if action not in self.MUTATIONS:
            return True
        allowed = getattr(self.app, "action_allowed", None)  # read-only mode, RBAC
        return not getattr(self.app, "read_only", False) and (allowed is None or bool(allowed(action)))

    def has_filter(self) -> bool:
        """Whether a filter is open or applied (panes with a filter box say)."""
        return False

    def show_notice(self, text: str) -> None:
        """Show (or with "" hide) the pane's trouble line (plain text: it quotes servers' errors);
        with nothing to say about the cluster, a worker's failure stays shown."""
        shown = text or self.problem
        self.notice.update(Text(shown))
        self.notice.display = bool(shown)

    def report_problem(self, text: str) -> None:
        """A worker of this pane failed: said until the pane starts that work again."""
        self.problem = text
        self.show_notice(text)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """A new snapshot: redraw now if visible, else later."""
        self.snapshot = snapshot
        self._mark_stale(snapshot)
        if not self.is_on_screen:
            self._stale = True
            return
        self._stale = False
        self._safely_refresh(snapshot)

    def _safely_refresh(self, snapshot: Snapshot) -> None:
        """Redraw; anything this pane cannot make sense of is reported in the pane, never fatal."""
        try:
            self.refresh_from(snapshot)
        except Exception as exc:  # malformed data from the server must not take the console down
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

    def became_visible(self) -> None:
        """Catch up after being hidden: everything may have changed meanwhile."""
        if self._stale:
            self._stale = False
            self._safely_refresh(dataclasses.replace(self.snapshot, changes=None))

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Redraw from ``snapshot``; its ``changes`` None means everything may have changed."""
        raise NotImplementedError

    # ---- what the app hands down to every pane (each pane takes what concerns it) ----
    def pod_selected(self, key: str) -> None:
        """The operator selected pod ``key`` (namespace/name)."""

    def log_chunk(self, chunk: LogChunk) -> None:
        """A log stream delivered ``chunk``."""

    def metrics_round(self, feed: Feed, alerts: Sequence[Alert]) -> None:
        """A metrics source finished a round; ``alerts`` are llm-d's alerts evaluated on it."""

    def load_round(self, load: LoadState) -> None:
        """A load run from the prompt pane moved (4 times a second while it runs)."""

    def tick(self) -> None:
        """Every few seconds while on screen, for what ages by itself (AGE columns)."""

    def doctor_round(self, summary: Summary, findings: Sequence[Finding]) -> None:
        """The doctor evaluated its rules again: ``findings`` worst first, ``summary`` in a line."""

    def show_object(self, kind: str, namespace: str, name: str) -> None:
        """Put the cursor on that object (a finding is about it), when this pane lists it in its
        table, keyed by ``namespace/name`` or ``name``."""
        from llmd_console.ui.live_table import LiveTable  # noqa: PLC0415 - only when asked

        del kind
        table = getattr(self, "table", None)
        if not isinstance(table, LiveTable):
            return
        for key in (f"{namespace}/{name}" if namespace else name, name):
            if table.has_row(key):
                table.move_to_key(key)
                return

    def _mark_stale(self, snapshot: Snapshot) -> None:
        """While the server is unreachable the pane keeps what it knew, dimmed, and says so in its
        title; the status bar carries the why, once."""
        stale = any(state.status == "reconnecting" for kind, state in snapshot.kinds.items() if kind in self.kinds)
        if stale != self.has_class("-stale"):
            self.set_class(stale, "-stale")
            self.border_title = f"{self.title} (stale)" if stale else self.title

    def status_notice(self, snapshot: Snapshot) -> str:
        """The notice line for this pane's kinds: forbidden, missing, loading (an unreachable
        server is the status bar's to say, and the pane is dimmed)."""
        if not snapshot.watched:
            return ""  # not connected yet: the status bar says so
        for kind in self.kinds:
            s = snapshot.status_of(kind)
            if s.status == "forbidden":
                return f"{kind}: {s.message}"
            if s.status == "missing" and kind in ("pods", "nodes"):
                return f"{kind}: {s.message}"
        if snapshot.kinds and any(snapshot.status_of(k).status == "loading" for k in self.kinds):
            return "loading..."
        return ""
