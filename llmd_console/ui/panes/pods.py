"""Pods: role, ready, status with reason, restarts, age, node and chips; a filter;
and the selected pod's events underneath."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from llmd_console.models import Pod, Snapshot
from llmd_console.sanitize import middle_ellipsis, one_line
from llmd_console.ui.filter_box import FilterBox
from llmd_console.ui.live_table import Column, LiveTable
from llmd_console.ui.messages import ActionRequested, PodSelected, PodViewRequested
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.quiet import QuietStatic
from llmd_console.ui.registry import PaneContext, register_pane
from llmd_console.views.common import human_age
from llmd_console.views.pods import short_name

# NAME takes the width that is left; READY, STATUS and NODE are as wide as their widest cell
# (up to a limit), so nothing jumps while the rows stay the same. RESTARTS and AGE are always
# shown; when the pane is narrow, NODE goes first, then ROLE, then CHIPS.
COLUMNS = (
    # Shown only for every namespace; it shares the spare width with NAME, so that RESTARTS and AGE
    # still fit a narrow pane.
    Column("NAMESPACE", "NAMESPACE", 20, flex=True, min_width=10, fit=middle_ellipsis),
    Column("NAME", "NAME", 30, flex=True, min_width=20, fit=short_name),
    Column("READY", "READY", 7, auto=True),
    Column("STATUS", "STATUS", 34, auto=True),
    Column("RESTARTS", "RESTARTS", 8, justify="right"),
    Column("AGE", "AGE", 5, justify="right"),
    Column("ROLE", "ROLE", 7, drop=2),
    Column("CHIPS", "CHIPS", 5, justify="right", drop=1),
    Column("NODE", "NODE", 40, auto=True, drop=3),
)
# Sort keys, as in k9s: shift and the column's letter; the same key again reverses the order.
SORTS: dict[str, tuple[str, Callable[[Pod], tuple[Any, ...]]]] = {
    "NAME": ("N", lambda pod: (pod.namespace, pod.name)),
    "NAMESPACE": ("P", lambda pod: (pod.namespace, pod.name)),
    "READY": ("R", lambda pod: (pod.is_ready, pod.ready)),
    "STATUS": ("S", lambda pod: (pod.status,)),
    "RESTARTS": ("T", lambda pod: (pod.restarts,)),
    "AGE": ("A", lambda pod: (-(pod.created or 0.0),)),
    "NODE": ("O", lambda pod: (pod.node,)),
}
SEVERITY_STYLE = {"ok": "green", "progress": "yellow", "warning": "dark_orange", "error": "bold red"}
EVENT_LINES = 6


@register_pane
class PodsPane(Pane):
    """The pods of the namespace (or all namespaces)."""

    pane_id = "pods"
    title = "Pods"
    summary = "Pods with status, restarts, role and chips; the selected pod's events"
    kinds = ("pods", "events")
    # Most important first: the footer drops hints from the end when the terminal is narrow.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_logs", "Logs", id="pods.logs", tooltip="Open the selected pod's log"),
        Binding("d", "describe", "Describe", id="pods.describe", tooltip="Describe the pod, events included"),
        Binding("slash", "filter", "Filter", id="pods.filter", tooltip="Filter pods by name, status or node"),
        Binding("y", "yaml", "YAML", id="pods.yaml", tooltip="The pod as YAML (secret values never shown)"),
        Binding("r", "restart", "Restart", id="pods.restart", tooltip="Rollout restart of the pod's Deployment"),
        Binding("s", "scale", "Scale", id="pods.scale", tooltip="Replicas of the pod's Deployment"),
        Binding("ctrl+d", "delete_pod", "Delete", id="pods.delete", tooltip="Delete the selected pod (confirmed)"),
        Binding("b", "rollback", "Rollback", id="pods.rollback", tooltip="Undo the last rollout of its Deployment"),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="pods.clear_filter",
            tooltip="Clear the filter (when there is one)",
        ),
        *(
            Binding(letter, f"sort('{column}')", f"Sort by {column.lower()}", show=False, id=f"pods.sort_{column}")
            for column, (letter, _) in SORTS.items()
        ),
    ]
    MUTATIONS = frozenset({"delete_pod", "restart", "scale", "rollback"})

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.now = now
        self.table = LiveTable(COLUMNS, empty_text="no pods", id="pods-table")
        self.filter_input = FilterBox("filter (regex): name, status, node", "pods-filter")
        # Redrawn on every tick (the ages move): only a changed text reaches the screen.
        self.events = QuietStatic("", id="pod-events", classes="pane-footer")
        self._pattern: re.Pattern[str] | None = None
        self._shown: dict[str, Pod] = {}
        self.selected: str | None = None
        self._ages: dict[str, str] = {}  # the AGE each row was last drawn with

    @classmethod
    def create(cls, context: PaneContext) -> PodsPane:
        """The pane, with the app's clock (for AGE)."""
        return cls(now=context.now)

    def compose(self) -> ComposeResult:
        """Filter box, table, events."""
        yield self.notice
        yield self.filter_input
        yield self.table
        yield self.events

    # ---- drawing ---------------------------------------------------------------
    def _age(self, row: Pod) -> str:
        return human_age(self.now() - row.created) if row.created else "?"

    def _cells(self, row: Pod) -> list[Text | str]:
        age = self._ages[row.key] = self._age(row)
        return [
            row.namespace,
            row.name,
            row.ready,
            Text(row.status, style=SEVERITY_STYLE[row.severity]),
            str(row.restarts),
            age,
            row.role,
            str(row.chips) if row.chips else "-",
            row.node or "-",
        ]

    def _visible(self, row: Pod) -> bool:
        if self._pattern is None:
            return True
        return bool(self._pattern.search(f"{row.name} {row.status} {row.node} {row.role}"))

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Keyed diff: add, update changed cells, remove gone rows."""
        if not snapshot.touched("pods", "events"):
            return
        self.show_notice(self.status_notice(snapshot))
        # As kubectl -A: the namespace is a column only when more than one can be shown.
        self.table.set_hidden(() if snapshot.namespace is None else ("NAMESPACE",))
        rows = snapshot.pods
        changes = snapshot.changes
        # Rows shown but gone from the snapshot go too, whatever the batch says it changed.
        keys = (set(rows) if changes is None else set(changes.kinds.get("pods", ()))) | (set(self._shown) - set(rows))
        table = self.table
        for key in keys:
            row = rows.get(key)
            if row is None or not self._visible(row):
                if key in self._shown:
                    table.remove_row(key)
                    del self._shown[key]
                    self._ages.pop(key, None)
                continue
            if self._shown.get(key) != row:
                self._shown[key] = row  # first: the sort key reads it
                table.upsert(key, self._cells(row))
        self.border_subtitle = f"{len(self._shown)} of {len(rows)}" if self._pattern else str(len(rows))
        if (self.selected is None or self.selected not in self._shown) and self._shown:
            successor = self._successor(self.selected)
            self.table.move_to_key(successor)
            self._select(successor)
        self._draw_events()

    def tick(self) -> None:
        """AGE moves on by itself: rewrite the rows whose AGE text changed, and the events' ages."""
        for key, row in self._shown.items():
            if self._age(row) != self._ages.get(key):
                self.table.upsert(key, self._cells(row))
        self._draw_events()

    def _draw_events(self) -> None:
        if self.selected is None:
            self.events.show(Text())
            return
        name = self.selected.partition("/")[2]
        events = self.snapshot.events_of(self.selected)
        text = Text(f"Events of {one_line(name, 80)}:", style="bold", no_wrap=True, overflow="ellipsis")
        if not events:
            text.append(" none", style="dim")
        for e in events[-EVENT_LINES:]:
            age = human_age(self.now() - e.last_seen) if e.last_seen else "?"
            style = "red" if e.type == "Warning" else "dim"
            text.append(f"\n{age:>5} ", style="dim")
            text.append(one_line(e.reason, 30), style=style)
            text.append(f"{' x' + str(e.count) if e.count > 1 else ''}: {one_line(e.message, 300)}")
        self.events.show(text)

    def _successor(self, gone: str | None) -> str:
        """Where the selection goes: the replacement of a vanished pod (same ReplicaSet), else a
        model server, since that is where trouble usually is."""
        family = gone.rsplit("-", 1)[0] if gone else None

        def rank(key: str) -> tuple[bool, bool, str]:
            row = self._shown[key]
            return (family is None or not key.startswith(family + "-"), row.role not in ("decode", "prefill"), key)

        return min(self._shown, key=rank)

    # ---- selection and filter ---------------------------------------------------
    def pod_selected(self, key: str) -> None:
        """The selection made elsewhere (or before a relayout): the cursor goes there."""
        if key == self.selected and self.table.cursor_key == key:
            return
        self.selected = key
        if self.table.has_row(key):
            self.table.move_to_key(key)
        else:
            self.table.prefer(key)
        self._draw_events()

    def _select(self, key: str) -> None:
        if key == self.selected:
            return
        self.selected = key
        self.post_message(PodSelected(key, origin=self))
        self._draw_events()

    def on_live_table_row_highlighted(self, event: LiveTable.RowHighlighted) -> None:
        """Follow the cursor."""
        if event.key:
            self._select(event.key)

    def _chosen(self) -> str | None:
        """The selected pod's key, or None after saying there is none."""
        if self.selected is None or self.selected not in self.snapshot.pods:
            self.notify("no pod selected", severity="warning")
            return None
        return self.selected

    def _ask(self, action: str) -> None:
        """Ask the app for ``action`` on the selected pod: it plans it and asks for confirmation."""
        if key := self._chosen():
            pod = self.snapshot.pods[key]
            self.post_message(ActionRequested(action, "Pod", pod.namespace, pod.name))

    def action_delete_pod(self) -> None:
        """Delete the selected pod (followed until its Deployment has replaced it)."""
        self._ask("delete-pod")

    def action_restart(self) -> None:
        """Rollout restart of the selected pod's Deployment."""
        self._ask("restart")

    def action_scale(self) -> None:
        """Change the replicas of the selected pod's Deployment."""
        self._ask("scale")

    def action_rollback(self) -> None:
        """Undo the last rollout of the selected pod's Deployment."""
        self._ask("rollback")

    async def action_open_logs(self) -> None:
        """The selected pod's log: the logs follow the selection; bring the logs pane forward."""
        if self._chosen():
            await self.app.run_action("show_logs")

    def action_describe(self) -> None:
        """The selected pod as ``kubectl describe`` shows it."""
        if key := self._chosen():
            self.post_message(PodViewRequested(key, "describe"))

    def action_yaml(self) -> None:
        """The selected pod as YAML."""
        if key := self._chosen():
            self.post_message(PodViewRequested(key, "yaml"))

    def has_filter(self) -> bool:
        """The filter box is open or holds a filter."""
        return bool(self.filter_input.display or self.filter_input.value)

    def action_sort(self, column: str) -> None:
        """Sort by ``column``; again on the same column, the other way round."""
        if column not in SORTS:
            self.notify(f"cannot sort by {column}", severity="warning")
            return
        table = self.table
        reverse = table.sort_column == column and not table.sort_reverse
        by = SORTS[column][1]
        shown = self._shown
        table.sort_on(column, lambda key, _cells: by(shown[key]), reverse=reverse)
        self.notify(f"sorted by {column.lower()}{' (reversed)' if reverse else ''}", timeout=2)

    def action_filter(self) -> None:
        """Open the filter box."""
        self.filter_input.open()

    def action_clear_filter(self) -> None:
        """Drop the filter."""
        self.filter_input.close()
        self._apply_filter("")
        self.table.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the filter and go back to the table."""
        event.stop()
        self._apply_filter(event.value)
        if not event.value:
            self.filter_input.hide()
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types."""
        event.stop()
        self._apply_filter(event.value)

    def _apply_filter(self, text: str) -> None:
        self._pattern, _ = self.filter_input.compile(text)
        self.table.clear()
        self._shown.clear()
        self.refresh_from(dataclasses.replace(self.snapshot, changes=None))
