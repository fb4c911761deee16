"""Keyed updates of a DataTable: fixed-width columns, and rows changed cell by cell."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = Text | str


def add_fixed_columns(table: DataTable[Cell], columns: Sequence[str], widths: Sequence[int]) -> None:
    """Columns keyed by their titles, with fixed widths (so the table never jumps)."""
    for col, width in zip(columns, widths, strict=True):
        table.add_column(col, key=col, width=width)


def update_changed_cells(
    table: DataTable[Cell], key: str, columns: Sequence[str], before: Sequence[Cell], after: Sequence[Cell]
) -> None:
    """Write only the cells of row ``key`` that differ."""
    for col, old, new in zip(columns, before, after, strict=True):
        if old != new:
            table.update_cell(key, col, new)
