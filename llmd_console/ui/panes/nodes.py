"""Node pools, nodes with their accelerators, the selected node's chips in their
topology with the pod that holds each, and the hourly cost of accelerator nodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from llmd_console.models import Node, NodePool, Snapshot, TpuSlice
from llmd_console.sanitize import middle_ellipsis
from llmd_console.ui.live_table import Column, LiveTable
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import register_pane

COLUMNS = (
    Column("NODE", "NODE", 28, flex=True, min_width=16),
    Column("STATUS", "STATUS", 8),
    Column("CHIPS", "CHIPS", 5, justify="right"),
    Column("PODS", "PODS", 4, justify="right"),
    Column("POOL", "POOL", 14),
    Column("MACHINE", "MACHINE", 16),
    Column("ACCELERATOR", "ACCELERATOR", 16),
    Column("TOPO", "TOPO", 5),
)
OWNER_STYLES = ("bold magenta", "bold cyan", "bold yellow", "bold green", "bold blue")


def draw_chips(chips: TpuSlice) -> Text:
    """The chips as a grid of boxes, each labelled with its holder (or free)."""
    owners = sorted({o for o in chips.owners if o})
    style_of = {o: OWNER_STYLES[i % len(OWNER_STYLES)] for i, o in enumerate(owners)}
    out = Text(f"{chips.kind} {chips.columns}x{chips.rows} ", style="bold")
    out.append(f"{middle_ellipsis(chips.node, 40)}\n", style="dim")
    for r in range(chips.rows):
        for c in range(chips.columns):
            index = r * chips.columns + c
            if index >= len(chips.owners):
                break
            owner = chips.owners[index]
            label = chr(ord("A") + owners.index(owner)) if owner else "·"
            out.append(f"[{index} {label}]", style=style_of.get(owner, "dim"))
            out.append(" ")
        if r == 0:
            legend = "  ".join(f"{chr(ord('A') + i)}={middle_ellipsis(o, 30)}" for i, o in enumerate(owners))
            out.append("  " + (legend or "all chips free"), style="dim" if not owners else "")
        out.append("\n")
    out.rstrip()
    return out


def _by_pool(key: str, cells: Sequence[Text | str]) -> tuple[str, str]:
    """Nodes sorted by pool, then name."""
    return str(cells[4]), key


@register_pane
class NodesPane(Pane):
    """Nodes and TPU topology."""

    pane_id = "nodes"
    title = "Nodes & accelerators"
    summary = "Node pools with cost per hour, nodes, and the selected node's chips with their pods"
    kinds = ("nodes", "pods")
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.pools = Static("", id="node-pools")
        # By pool, then name.
        self.table = LiveTable(
            COLUMNS, sort_key=lambda key, cells: (str(cells[4]), key), empty_text="no nodes", id="nodes-table"
        )
        self.chips = Static("", id="node-chips", classes="pane-footer")
        self._rows: dict[str, Node] = {}
        self.selected: str | None = None

    def compose(self) -> ComposeResult:
        """Pools summary, nodes table, chip drawing."""
        yield self.notice
        yield self.pools
        yield self.table
        yield self.chips

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Diff the node models into the table."""
        if not snapshot.touched("nodes", "pods"):
            return
        self.show_notice(self.status_notice(snapshot))
        rows = snapshot.nodes
        for gone in set(self._rows) - set(rows):
            self.table.remove_row(gone)
        for key, row in rows.items():
            if self._rows.get(key) != row:
                self.table.upsert(key, self._cells(row))
        self._rows = dict(rows)
        self._draw_pools(snapshot.pools)
        if self.selected not in rows:
            accelerated = sorted(r.name for r in rows.values() if r.chips_total)
            self.selected = accelerated[0] if accelerated else next(iter(self.table.keys()), None)
            if self.selected is not None:
                self.table.move_to_key(self.selected)
        self._draw_chips()

    def _cells(self, row: Node) -> list[Text | str]:
        return [
            middle_ellipsis(row.name, 28),
            Text(row.status, style="green" if row.ready else "bold red"),
            f"{row.chips_used}/{row.chips_total}" if row.chips_total else "-",
            str(row.pods),
            row.pool,
            row.machine,
            row.accelerator or "-",
            row.topology or "-",
        ]

    def _draw_pools(self, pools: tuple[NodePool, ...]) -> None:
        text = Text()
        total = 0.0
        for pool in pools:
            text.append(f"{pool.name}", style="bold")
            text.append(f" {pool.ready}/{pool.nodes} ready {pool.machine}")
            if pool.accelerator:
                text.append(f" {pool.chips} chips")
            if pool.cost_per_hour is not None:
                total += pool.cost_per_hour
                text.append(f" ${pool.cost_per_hour:,.2f}/h", style="yellow")
            text.append("\n")
        if not pools:
            text.append("no nodes\n", style="dim")
        text.append(f"accelerator nodes: est. ${total:,.2f}/hour", style="bold yellow")
        self.pools.update(text)

    def _draw_chips(self) -> None:
        chips = self.snapshot.slices.get(self.selected or "")
        self.chips.update(draw_chips(chips) if chips else Text("no accelerator on this node", style="dim"))

    def on_live_table_row_highlighted(self, event: LiveTable.RowHighlighted) -> None:
        """Draw the highlighted node's chips."""
        if event.key:
            self.selected = event.key
            self._draw_chips()
