"""Pods: role, ready, status with reason, restarts, age, node and chips; a filter;
and the selected pod's events underneath."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from llmd_console.models import Pod, Snapshot
from llmd_console.sanitize import middle_ellipsis, one_line
from llmd_console.ui.filter_box import FilterBox
from llmd_console.ui.messages import DeletePodRequested, PodSelected
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import PaneContext, register_pane
from llmd_console.ui.table_rows import add_fixed_columns, update_changed_cells
from llmd_console.views.common import human_age

COLUMNS = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "ROLE", "CHIPS", "NODE")
# Fixed widths: columns that grow with whatever they once held make the table jump.
WIDTHS = (30, 5, 18, 8, 5, 7, 5, 24)
SEVERITY_STYLE = {"ok": "green", "progress": "yellow", "warning": "dark_orange", "error": "bold red"}
EVENT_LINES = 6


@register_pane
class PodsPane(Pane):
    """The pods of the namespace (or all namespaces)."""

    pane_id = "pods"
    title = "Pods"
    summary = "Pods with status, restarts, role and chips; the selected pod's events"
    kinds = ("pods", "events")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="pods.filter", tooltip="Filter pods by name, status or node"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="pods.clear_filter"),
        Binding("ctrl+d", "delete_pod", "Delete", id="pods.delete", tooltip="Delete the selected pod (confirmed)"),
    ]
    MUTATIONS = frozenset({"delete_pod"})

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.now = now
        self.table: DataTable[Text | str] = DataTable(cursor_type="row", zebra_stripes=False, id="pods-table")
        self.filter_input = FilterBox("filter (regex): name, status, node", "pods-filter")
        self.events = Static("", id="pod-events", classes="pane-footer")
        self._pattern: re.Pattern[str] | None = None
        self._shown: dict[str, Pod] = {}
        self.selected: str | None = None

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

    def on_mount(self) -> None:
        """Set up columns."""
        add_fixed_columns(self.table, COLUMNS, WIDTHS)

    # ---- drawing ---------------------------------------------------------------
    def _cells(self, row: Pod) -> list[Text | str]:
        age = human_age(self.now() - row.created) if row.created else "?"
        return [
            middle_ellipsis(row.name, 30),
            row.ready,
            Text(row.status, style=SEVERITY_STYLE[row.severity]),
            str(row.restarts),
            age,
            row.role,
            str(row.chips) if row.chips else "-",
            middle_ellipsis(row.node, 24) or "-",
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
        rows = snapshot.pods
        changes = snapshot.changes
        keys = set(rows) if changes is None else set(changes.kinds.get("pods", ())) | (set(self._shown) - set(rows))
        table = self.table
        added = False
        with self.app.batch_update():
            for key in keys:
                row = rows.get(key)
                if row is None or not self._visible(row):
                    if key in self._shown:
                        table.remove_row(key)
                        del self._shown[key]
                    continue
                old = self._shown.get(key)
                if old is None:
                    table.add_row(*self._cells(row), key=key)
                    added = True
                elif old != row:
                    update_changed_cells(table, key, COLUMNS, self._cells(old), self._cells(row))
                self._shown[key] = row
            if added:
                table.sort("NAME")
        self.border_subtitle = f"{len(self._shown)} of {len(rows)}" if self._pattern else str(len(rows))
        if (self.selected is None or self.selected not in self._shown) and self._shown:
            successor = self._successor(self.selected)
            self.table.move_cursor(row=self.table.get_row_index(successor))
            self._select(successor)
        self._draw_events()

    def tick(self) -> None:
        """AGE moves on by itself; refresh it for a manageable number of rows."""
        if len(self._shown) > 2000:
            return
        with self.app.batch_update():
            for key, row in self._shown.items():
                if row.created:
                    self.table.update_cell(key, "AGE", human_age(self.now() - row.created))

    def _draw_events(self) -> None:
        if self.selected is None:
            self.events.update("")
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
        self.events.update(text)

    def _successor(self, gone: str | None) -> str:
        """Where the selection goes: the replacement of a vanished pod (same ReplicaSet), else a
        model server, since that is where trouble usually is."""
        family = gone.rsplit("-", 1)[0] if gone else None

        def rank(key: str) -> tuple[bool, bool, str]:
            row = self._shown[key]
            return (family is None or not key.startswith(family + "-"), row.role not in ("decode", "prefill"), key)

        return min(self._shown, key=rank)

    # ---- selection and filter ---------------------------------------------------
    def _select(self, key: str) -> None:
        if key == self.selected:
            return
        self.selected = key
        self.post_message(PodSelected(key))
        self._draw_events()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Follow the cursor."""
        if event.row_key.value:
            self._select(str(event.row_key.value))

    def action_delete_pod(self) -> None:
        """Ask for the selected pod to be deleted: the app shows the plan and asks for confirmation."""
        if self.selected is None or self.selected not in self.snapshot.pods:
            self.notify("no pod selected", severity="warning")
            return
        self.post_message(DeletePodRequested(self.selected))

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
