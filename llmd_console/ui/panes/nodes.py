"""Node pools, nodes with their accelerators, the selected node's chips in their
topology with the pod that holds each, and the hourly cost of accelerator nodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from llmd_console.models import Node, NodePool, Snapshot, TpuSlice
from llmd_console.sanitize import middle_ellipsis
from llmd_console.ui.live_table import Column, LiveTable
from llmd_console.ui.messages import ActionRequested
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
# One colour per pod holding chips; none of them is the red of errors or the yellow of warnings.
OWNER_COLOURS = ("cyan", "magenta", "blue", "green", "bright_cyan", "bright_magenta", "bright_blue", "bright_green")
FREE_STYLE = "grey70 on grey23"
UNHEALTHY_STYLE = "bold bright_white on red3"


def draw_chips(chips: TpuSlice, width: int = 80) -> Text:
    """The chips as boxes in the topology's grid (a box per chip: its index and its holder's
    letter, on the holder's colour; free and unhealthy chips in colours of their own), and
    beside the grid a legend: each holder's letter, role and name, then the key."""
    holders = list(dict.fromkeys(o for o in chips.owners if o))
    colour = {o: OWNER_COLOURS[i % len(OWNER_COLOURS)] for i, o in enumerate(holders)}
    letter = {o: chr(ord("A") + i % 26) for i, o in enumerate(holders)}
    total = len(chips.owners)
    healthy = total - chips.unhealthy
    used = sum(1 for i, o in enumerate(chips.owners) if o and i < healthy)
    shape = chips.topology or f"{chips.columns}x{chips.rows}"
    counts = f"  {used} allocated, {max(0, healthy - used)} free"
    unhealthy = f", {chips.unhealthy} unhealthy" if chips.unhealthy else ""
    accelerator = f" {chips.accelerator}" if chips.accelerator else ""
    if len(chips.kind) + len(shape) + 1 + len(accelerator) + len(counts) + len(unhealthy) > width:
        accelerator = ""  # a narrow pane: the NODE table's ACCELERATOR column says it
    out = Text()  # (a style given to Text() would be the whole drawing's)
    out.append(f"{chips.kind} {shape}{accelerator}", style="bold")
    out.append(counts)
    out.append(unhealthy, style="bold red")
    room = width - out.cell_len - 2
    if room >= 12:  # the node's name, when it fits on the line (the table's highlight says it too)
        out.append(f"  {middle_ellipsis(chips.node, min(room, 40))}", style="dim")

    grid: list[Text] = []
    for r in range(chips.rows):
        line = Text()
        for c in range(chips.columns):
            index = r * chips.columns + c
            if index >= total:
                break
            owner = chips.owners[index]
            if index >= healthy:
                line.append(f"{index:>2} ✗ ", style=UNHEALTHY_STYLE)
            elif owner:
                line.append(f"{index:>2} {letter[owner]} ", style=f"bold black on {colour[owner]}")
            else:
                line.append(f"{index:>2} · ", style=FREE_STYLE)
            line.append(" ")
        grid.append(line)
    grid_width = max((len(g) for g in grid), default=0)

    room = max(10, width - grid_width - 3)
    legend: list[Text] = []
    for owner in holders:
        entry = Text()
        entry.append(f" {letter[owner]} ", style=f"bold black on {colour[owner]}")
        role = chips.roles.get(owner, "")
        if role:
            entry.append(f" {role}", style=f"bold {colour[owner]}")
        entry.append(f" {middle_ellipsis(owner, max(8, room - len(role) - 5))}", style=colour[owner])
        legend.append(entry)
    key = Text()
    key.append(" · ", style=FREE_STYLE)
    key.append(" free ", style="dim")
    key.append(" ✗ ", style=UNHEALTHY_STYLE)
    key.append(" unhealthy", style="dim")
    beside = 1 + grid_width + 2 + key.cell_len <= width
    if beside:
        legend.append(key)

    for i in range(max(len(grid), len(legend))):
        out.append("\n ")
        out.append_text(grid[i] if i < len(grid) else Text(" " * grid_width))
        if i < len(legend):
            out.append("  ")
            out.append_text(legend[i])
    if not beside:  # a narrow pane: the key under the grid rather than wrapped beside it
        out.append("\n ")
        out.append_text(key)
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
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "scale_pool", "Resize pool", id="nodes.scale", tooltip="Nodes of the accelerator pool (GKE)"),
        Binding("Z", "scale_to_zero", "Scale to zero", id="nodes.zero", tooltip="Accelerator pool and model to 0"),
        Binding("B", "scale_back", "Scale back", id="nodes.back", tooltip="Accelerator pool and model back to serving"),
    ]
    MUTATIONS = frozenset({"scale_pool", "scale_to_zero", "scale_back"})

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
        width = self.chips.content_region.width or self.size.width or 80
        self.chips.update(draw_chips(chips, width) if chips else Text("no accelerator on this node", style="dim"))

    def on_resize(self) -> None:
        """The legend beside the chips takes the width there is."""
        self._draw_chips()

    def action_scale_pool(self) -> None:
        """Resize the selected accelerator node's pool; otherwise the configured accelerator pool
        (at 0 nodes it has no row to select, and it is the pool that costs money)."""
        node = self._rows.get(self.selected or "")
        pool = node.pool if node is not None and node.chips_total and node.pool else ""
        self.post_message(ActionRequested("scale-pool", "NodePool" if pool else "", "", pool))

    def action_scale_to_zero(self) -> None:
        """The runbook's cost step: the accelerator pool to 0 nodes, the model to 0 replicas."""
        self.post_message(ActionRequested("scale-to-zero"))

    def action_scale_back(self) -> None:
        """The reverse of scale to zero."""
        self.post_message(ActionRequested("scale-back"))

    def on_live_table_row_highlighted(self, event: LiveTable.RowHighlighted) -> None:
        """Draw the highlighted node's chips."""
        if event.key:
            self.selected = event.key
            self._draw_chips()
