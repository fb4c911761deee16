"""LiveTable: a keyed table for live lists of thousands of rows, drawn with the Line API.

Textual's DataTable keeps per-row bookkeeping that makes adding thousands of rows slow
and removing one O(n). A watch-driven list (pods, nodes) changes a few rows at a time
out of thousands, so this widget keeps only what such a list needs:

* a dict ``key -> cells`` and one ordered list of keys, re-sorted lazily: a change only
  sets a dirty flag, and the order is brought up to date once, before the next render or
  index query, never per upsert;
* rendering through ``render_line``: only the visible lines are drawn, and each row's
  drawn line (a ``Strip``) is cached per key until that row changes or the column widths
  or styles do, so the cost of a frame depends on the window's height, not on the rows;
* a row cursor that follows its row's *key*, so rows coming and going above it do not
  move the selection to a different pod.

Cells are ``rich.text.Text`` or ``str``; a ``str`` is always plain text (never console
markup), because names and messages come from the cluster and ``[`` is a legal character
in them.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from llmd_console.sanitize import ONE_FOR_ONE

Cell = Text | str
"""What a cell holds: styled ``Text``, or a ``str`` shown exactly as written."""

SortKey = Callable[[str, Sequence[Cell]], Any]
"""Maps a row (its key and cells) to a value its position is sorted by."""

Justify = Literal["left", "right"]

# A cell compared "as a number" by sort_by: an optionally signed integer or decimal.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

# Rendered rows kept between frames; a few screens' worth, so scrolling back is cheap
# while memory stays bounded however many rows the table holds.
_STRIP_CACHE_SIZE = 2000


@dataclass(frozen=True)
class Column:
    """A column of a LiveTable.

    Attributes:
        key: Identifies the column (for ``sort_by``).
        title: The header text (plain).
        width: Cells of a fixed column are cut or padded to this many terminal cells.
            For a flex column it is its weight: flex columns share the spare width of
            the table in proportion to their ``width`` (0 counts as 1).
            For an ``auto`` column it is the most it may take.
        flex: The column takes a share of whatever width the fixed columns leave.
        min_width: A flex column is never narrower than this.
        justify: Alignment of the cells and the title within the column.
        auto: The column is as wide as its widest cell or its title, up to ``width``.
        drop: 0: always shown. Otherwise, when the table is too narrow for every column, the
            columns with the highest ``drop`` are hidden first, until the rest fit.
        fit: Shortens a plain-text cell that is wider than its column, given the text and the
            width (the default cuts the end and adds "…").
    """

    key: str
    title: str
    width: int
    flex: bool = False
    min_width: int = 0
    justify: Justify = "left"
    auto: bool = False
    drop: int = 0
    fit: Callable[[str, int], str] | None = None

    def __post_init__(self) -> None:
        """Reject widths that cannot be laid out."""
        if self.width < 0 or self.min_width < 0:
            raise ValueError(f"column {self.key!r}: widths must not be negative")
        if self.justify not in ("left", "right"):
            raise ValueError(f"column {self.key!r}: justify must be 'left' or 'right', not {self.justify!r}")
        if self.flex and self.auto:
            raise ValueError(f"column {self.key!r}: a column is flex or auto, not both")


def column_widths(columns: Sequence[Column], available: int) -> list[int]:
    """The width of each column when the table's content area is ``available`` cells wide.

    Fixed columns keep their width; flex columns split what is left (after one space
    between columns) in proportion to their weights, each at least its ``min_width``.
    The widths may add up to more than ``available`` when the fixed columns and the
    minimums do not fit; the table then scrolls sideways.
    """
    widths = [0 if column.flex else column.width for column in columns]
    pending = [i for i, column in enumerate(columns) if column.flex]
    space = available - sum(widths) - max(0, len(columns) - 1)
    while pending:
        weights = {i: max(1, columns[i].width) for i in pending}
        total = sum(weights.values())
        shares = {i: space * weights[i] // total if space > 0 else 0 for i in pending}
        # A column whose share is below its minimum gets the minimum, and the rest share
        # what remains; repeat until every remaining share satisfies its minimum.
        short = [i for i in pending if shares[i] < columns[i].min_width]
        if not short:
            # Floor division leaves fewer spare cells than columns: hand them out left to right.
            leftover = max(0, space - sum(shares.values()))
            for n, i in enumerate(pending):
                widths[i] = shares[i] + (1 if n < leftover else 0)
            break
        for i in short:
            widths[i] = columns[i].min_width
            space -= columns[i].min_width
            pending.remove(i)
    return widths


def plan_columns(
    columns: Sequence[Column],
    available: int,
    natural: Mapping[str, int] | None = None,
    hidden: Collection[str] = (),
) -> list[int | None]:
    """The width of each column, ``None`` for a column not shown: those in ``hidden``, and, while
    the rest do not fit in ``available`` cells, the droppable ones (highest ``drop`` first, the
    rightmost of equals first). ``natural`` gives the widest cell of each ``auto`` column."""
    natural = natural or {}

    def fixed(column: Column) -> int:
        if column.auto:
            return min(column.width, max(cell_len(column.title), natural.get(column.key, 0)))
        return column.width

    shown = [i for i, column in enumerate(columns) if column.key not in hidden]

    def needed() -> int:
        widths = [columns[i].min_width if columns[i].flex else fixed(columns[i]) for i in shown]
        return sum(widths) + max(0, len(widths) - 1)

    while needed() > available:
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    visible = [
        dataclasses.replace(columns[i], width=fixed(columns[i]), auto=False) if columns[i].auto else columns[i]
        for i in shown
    ]
    out: list[int | None] = [None] * len(columns)
    for i, width in zip(shown, column_widths(visible, available), strict=True):
        out[i] = width
    return out


def _inert(text: str) -> str:
    """``text`` with control characters replaced one for one by visible stand-ins."""
    return text if text.isprintable() else text.translate(ONE_FOR_ONE)


def _as_text(cell: Cell) -> Text:
    """A cell as one line of Text; a ``str`` is taken literally, never as markup."""
    if isinstance(cell, str):
        return Text(_inert(cell))
    plain = cell.plain
    if plain.isprintable():
        return cell
    # One-for-one replacement keeps every span over the same characters.
    return Text(plain.translate(ONE_FOR_ONE), style=cell.style, spans=list(cell.spans))


def _cut(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in "…" if anything was cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…" if width > 0 else ""


def _fit(cell: Cell, width: int) -> Text:
    """``cell`` as one line of at most ``width`` cells, cut with "…", styles kept."""
    if width <= 0:
        return Text()
    text = _as_text(cell)
    if text.cell_len > width:
        if text is cell:
            # truncate() works in place: never change the caller's Text.
            text = text.copy()
        text.truncate(width, overflow="ellipsis")
    return text


def _line_width(widths: Sequence[int | None]) -> int:
    """Cells of a row: the shown columns and one space between each two."""
    shown = [width for width in widths if width is not None]
    return sum(shown) + max(0, len(shown) - 1)


def _same_cells(a: Sequence[Cell], b: Sequence[Cell]) -> bool:
    """Whether two rows look the same. ``Text.__eq__`` ignores ``Text.style``, so a cell
    whose colour alone changed (a status turning red) would otherwise not be redrawn."""
    for x, y in zip(a, b, strict=True):
        if isinstance(x, Text) and isinstance(y, Text):
            if x.plain != y.plain or x.style != y.style or x.spans != y.spans:
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


def _natural(value: str) -> tuple[int, float, str]:
    """Sort value of a cell's plain text: numbers by value, before any text."""
    value = value.strip()
    if _NUMBER.fullmatch(value):
        return (0, float(value), "")
    return (1, 0.0, value)


@dataclass(frozen=True)
class _Frame:
    """What every line of one repaint shares: geometry and styles."""

    width: int  # cells available for content (without the scrollbar)
    widths: tuple[int | None, ...]  # of each column; None: not shown
    line_width: int  # of a whole row: the columns and the spaces between them
    base: Style  # the widget's own style
    header: Style  # base + the header component
    cursor: Style  # base + the cursor component
    cursor_post: Style  # the cursor's colour wins over the cells' colours, as in DataTable


class LiveTable(ScrollView, can_focus=True):
    """A table of keyed rows that renders only what is on screen.

    Rows are addressed by a string key: ``upsert`` adds or replaces a row, ``remove_row``
    drops one, ``replace_rows`` loads a whole list at once. The rows are shown sorted by
    ``sort_key`` (by key when it is ``None``); sorting happens once before the next
    render or index query, however many rows changed. A row cursor (``cursor_row``,
    ``cursor_key``) stays on its row's key as other rows come and go, and
    ``LiveTable.RowHighlighted`` is posted whenever the key under the cursor changes.
    """

    # Lines are drawn from cached strips, not a text document a selection could map onto.
    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First row", show=False),
        Binding("end", "cursor_last", "Last row", show=False),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | up / down | Move the cursor one row. |
    | pageup / pagedown | Move the cursor (and the view) one page. |
    | home / end | Move the cursor to the first / last row. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"live-table--header", "live-table--cursor"}
    """
    | Class | Description |
    | :- | :- |
    | `live-table--header` | The header line. |
    | `live-table--cursor` | The row under the cursor. |
    """

    # The same look as DataTable's, so the two can sit side by side.
    DEFAULT_CSS = """
    LiveTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .live-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .live-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .live-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .live-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .live-table--header {
                background-tint: $foreground 5%;
            }
        }
    }
    """

    empty_text: reactive[str] = reactive("")
    """Shown (dimmed, as plain text) under the header while the table has no rows."""

    @dataclass
    class RowHighlighted(Message):
        """The key under the cursor changed (``None``: the table became empty).

        Posted once per change of key, not when the cursor's row merely moves because
        rows were inserted or removed above it. Handle it with
        ``on_live_table_row_highlighted``.
        """

        table: LiveTable
        """The table whose cursor moved."""
        key: str | None
        """The key of the highlighted row, or ``None`` if there are no rows."""

        @property
        def control(self) -> LiveTable:
            """The table (for ``@on(LiveTable.RowHighlighted, "#id")``)."""
            return self.table

    def __init__(
        self,
        columns: Iterable[Column],
        *,
        sort_key: SortKey | None = None,
        empty_text: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A table with the given columns and no rows.

        Args:
            columns: The columns, left to right; their keys must be unique.
            sort_key: Orders the rows (see ``sort_key``); ``None`` sorts by row key.
            empty_text: Shown while there are no rows.
            name: The name of the widget.
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
            disabled: Whether the widget is disabled.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._columns = tuple(columns)
        if not self._columns:
            raise ValueError("a LiveTable needs at least one column")
        keys = [column.key for column in self._columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"column keys must be unique: {keys}")
        self._column_index = {key: i for i, key in enumerate(keys)}
        self._hidden: frozenset[str] = frozenset()
        # Auto columns: how many cells of each width they hold, so the widest is known without
        # looking at every row.
        self._auto = tuple(i for i, column in enumerate(self._columns) if column.auto)
        self._cell_widths: dict[int, Counter[int]] = {i: Counter() for i in self._auto}
        self._natural: dict[str, int] | None = None  # widest cell per auto column, when known
        self._sort_column: str | None = None  # the column sort_by sorts on, marked in the header
        self.set_reactive(LiveTable.empty_text, empty_text)

        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []  # display order, valid when not _order_dirty
        self._order_dirty = False
        self._added: dict[str, None] = {}  # keys new since the last sort (an ordered set)
        self._removed_any = False  # _order may still list keys that are gone
        self._index: dict[str, int] | None = None  # key -> row, built when asked for
        self._sort_key = sort_key
        self._sort_reverse = False
        self._sort_values: dict[str, Any] = {}  # key -> (sort_key(row), key), when sort_key is set
        self._sort_values_stale = False  # sort_key changed: recompute every value at the next sort

        self._cursor_row = 0
        self._cursor_key: str | None = None
        self._preferred: str | None = None  # where the cursor goes once rows arrive (see prefer)
        self._posted_key: str | None = None  # the key of the last RowHighlighted
        self._sync_scheduled = False
        self._stale = True  # cursor, scroll area and repaint lag behind the rows

        self._strips: LRUCache[str, Strip] = LRUCache(_STRIP_CACHE_SIZE)
        self._header_strip: Strip | None = None
        self._strip_signature: tuple[object, ...] | None = None
        self._widths_cache: tuple[tuple[int, tuple[int, ...]], tuple[int | None, ...]] | None = None
        self._frame: _Frame | None = None  # set while render_lines runs

    # ---- rows ---------------------------------------------------------------------
    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns, left to right."""
        return self._columns

    @property
    def row_count(self) -> int:
        """How many rows the table holds."""
        return len(self._cells)

    def set_hidden(self, keys: Collection[str]) -> None:
        """Hide the columns ``keys`` (and show the others); rows keep all their cells."""
        hidden = frozenset(keys)
        unknown = hidden - set(self._column_index)
        if unknown:
            raise KeyError(f"no such column: {sorted(unknown)}")
        if hidden != self._hidden:
            self._hidden = hidden
            self._widths_cache = None
            self._schedule_sync()

    def shown_columns(self) -> list[str]:
        """The keys of the columns drawn at the table's current width."""
        widths = self._widths(self.scrollable_content_region.width)
        return [column.key for column, width in zip(self._columns, widths, strict=True) if width is not None]

    def _count_widths(self, row: Sequence[Cell], delta: int) -> None:
        for i in self._auto:
            cell = row[i]
            width = cell_len(cell if isinstance(cell, str) else cell.plain)
            counts = self._cell_widths[i]
            counts[width] += delta
            if counts[width] <= 0:
                del counts[width]
        self._natural = None

    def _natural_widths(self) -> dict[str, int]:
        if self._natural is None:
            self._natural = {
                self._columns[i].key: max(self._cell_widths[i], default=0)
                + (2 if self._columns[i].key == self._sort_column else 0)
                for i in self._auto
            }
        return self._natural

    def has_row(self, key: str) -> bool:
        """Whether a row with this key is in the table."""
        return key in self._cells

    def _check(self, key: str, cells: Sequence[Cell]) -> tuple[Cell, ...]:
        row = tuple(cells)
        if len(row) != len(self._columns):
            raise ValueError(f"row {key!r} has {len(row)} cells for {len(self._columns)} columns")
        return row

    def _sort_value(self, key: str, row: Sequence[Cell]) -> Any:
        assert self._sort_key is not None
        # The key breaks ties, so equal rows keep a stable order whatever the update history.
        return (self._sort_key(key, row), key)

    def upsert(self, key: str, cells: Sequence[Cell]) -> None:
        """Add the row ``key``, or replace its cells if it is already there.

        O(1): the row is placed in order when the table is next drawn or queried.
        Replacing a row with equal cells does nothing.
        """
        row = self._check(key, cells)
        old = self._cells.get(key)
        if old is None:
            self._cells[key] = row
            if self._auto:
                self._count_widths(row, 1)
            self._added[key] = None
            self._order_dirty = True
            if self._sort_key is not None and not self._sort_values_stale:
                self._sort_values[key] = self._sort_value(key, row)
        else:
            if _same_cells(old, row):
                return
            self._cells[key] = row
            if self._auto:
                self._count_widths(old, -1)
                self._count_widths(row, 1)
            if self._sort_key is not None and not self._sort_values_stale:
                value = self._sort_value(key, row)
                # Only a row whose sort value changed can move; other updates keep the order.
                if value != self._sort_values.get(key):
                    self._sort_values[key] = value
                    self._order_dirty = True
            self._strips.discard(key)
        self._schedule_sync()

    def remove_row(self, key: str) -> None:
        """Remove the row ``key``; a key that is not in the table is ignored (a watch may
        report a deletion that a relist already applied)."""
        old = self._cells.pop(key, None)
        if old is None:
            return
        if self._auto:
            self._count_widths(old, -1)
        self._sort_values.pop(key, None)
        self._strips.discard(key)
        if key in self._added:
            # Never placed in _order: nothing to compact.
            del self._added[key]
        else:
            self._removed_any = True
        self._order_dirty = True
        self._schedule_sync()

    def replace_rows(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        """Replace all rows with ``rows`` (a bulk load or relist).

        The cursor stays on its key if that key is still present.
        """
        self._cells = {key: self._check(key, cells) for key, cells in rows.items()}
        for i in self._auto:
            self._cell_widths[i].clear()
        for row in self._cells.values() if self._auto else ():
            self._count_widths(row, 1)
        self._natural = None
        self._order = list(self._cells)
        self._added.clear()
        self._removed_any = False
        self._order_dirty = True
        self._sort_values.clear()
        self._sort_values_stale = self._sort_key is not None
        self._strips.clear()
        self._schedule_sync()

    def clear(self) -> None:
        """Remove every row."""
        self.replace_rows({})

    def get_row(self, key: str) -> tuple[Cell, ...]:
        """The cells of row ``key``, as given. Raises KeyError if there is no such row."""
        return self._cells[key]

    def keys(self) -> list[str]:
        """The row keys in display order."""
        self._sync()
        return list(self._order)

    def get_row_index(self, key: str) -> int:
        """The display position of row ``key``. Raises KeyError if there is no such row."""
        self._sync()
        if self._index is None:
            # Built once per change of order, so repeated lookups are O(1).
            self._index = {k: i for i, k in enumerate(self._order)}
        return self._index[key]

    # ---- sorting ------------------------------------------------------------------
    @property
    def sort_key(self) -> SortKey | None:
        """Orders the rows: called as ``sort_key(key, cells)`` on every upsert, and rows are
        shown in ascending order of the values (ties by key). ``None`` sorts by key.

        Setting it re-sorts once, before the next render or query; it also resets
        ``sort_reverse``. The values must be comparable with one another.
        """
        return self._sort_key

    @sort_key.setter
    def sort_key(self, sort_key: SortKey | None) -> None:
        self._set_order(sort_key, reverse=False)

    @property
    def sort_reverse(self) -> bool:
        """Show the rows in descending order."""
        return self._sort_reverse

    @sort_reverse.setter
    def sort_reverse(self, reverse: bool) -> None:
        self._set_order(self._sort_key, reverse=reverse, column=self._sort_column)

    def sort_by(self, column_key: str, reverse: bool = False) -> None:
        """Sort by the plain text of a column: cells that are numbers by their value (and
        before any other text), the rest as text. Raises KeyError for an unknown column."""
        index = self._column_index[column_key]

        def by_column(_key: str, cells: Sequence[Cell]) -> tuple[int, float, str]:
            cell = cells[index]
            return _natural(cell if isinstance(cell, str) else cell.plain)

        self._set_order(by_column, reverse=reverse, column=column_key)

    @property
    def sort_column(self) -> str | None:
        """The column the rows are sorted on (marked in the header), if any."""
        return self._sort_column

    def sort_on(self, column_key: str, sort_key: SortKey, reverse: bool = False) -> None:
        """Sort with ``sort_key`` and mark ``column_key`` as the sorted column in the header
        (for columns whose text does not sort right, such as ages)."""
        if column_key not in self._column_index:
            raise KeyError(column_key)
        self._set_order(sort_key, reverse=reverse, column=column_key)

    def _set_order(self, sort_key: SortKey | None, *, reverse: bool, column: str | None = None) -> None:
        # The sorted column's header gains an arrow: its auto width may change.
        self._sort_column = column
        self._natural = None
        self._sort_key = sort_key
        self._sort_reverse = reverse
        self._sort_values.clear()
        self._sort_values_stale = sort_key is not None
        self._order_dirty = True
        self._schedule_sync()

    def _ensure_order(self) -> None:
        """Bring the display order up to date: at most one sort per batch of changes."""
        if not self._order_dirty:
            return
        cells = self._cells
        if self._sort_values_stale:
            assert self._sort_key is not None
            self._sort_values = {key: self._sort_value(key, row) for key, row in cells.items()}
            self._sort_values_stale = False
        order = self._order
        added = self._added
        if self._removed_any:
            # A key removed and added again is in both _order and _added: keep one.
            order = [key for key in order if key in cells and key not in added]
        order.extend(added)
        # The previous order is already sorted and new keys are appended, so Timsort
        # mostly merges runs: close to linear for a few changed rows among thousands.
        if self._sort_key is None:
            order.sort(reverse=self._sort_reverse)
        else:
            order.sort(key=self._sort_values.__getitem__, reverse=self._sort_reverse)
        self._order = order
        self._added = {}
        self._removed_any = False
        self._order_dirty = False
        self._index = None

    # ---- keeping cursor, scroll and size in step with the rows -----------------------
    def _schedule_sync(self) -> None:
        self._stale = True
        # One catch-up per batch of changes, after the caller's handler returns; a query
        # in between catches up at once (and the scheduled call then has nothing to do).
        if not self._sync_scheduled:
            self._sync_scheduled = True
            self.call_later(self._scheduled_sync)

    def _scheduled_sync(self) -> None:
        self._sync_scheduled = False
        self._sync()

    def _sync(self) -> None:
        """After rows changed: re-sort if needed, move the cursor to its key's new row (or
        keep its index, clamped, if its row is gone), resize the scroll area, repaint."""
        if not self._stale:
            return
        self._stale = False
        self._ensure_order()
        order = self._order
        old_row, old_key = self._cursor_row, self._cursor_key
        preferred, self._preferred = self._preferred, None
        if preferred is not None and preferred in self._cells:
            row, key = order.index(preferred), preferred
        elif not order:
            row, key = 0, None
            self._preferred = preferred  # still to come: a hidden table is filled when shown
        elif old_key is not None and old_key in self._cells:
            row = old_row if old_row < len(order) and order[old_row] == old_key else order.index(old_key)
            key = old_key
        else:
            row = min(max(old_row, 0), len(order) - 1)
            key = order[row]
        size = Size(self._narrowest(), 1 + max(1, len(order)))
        if size != self.virtual_size:
            self.virtual_size = size
        if row != old_row and self.is_mounted and self._row_on_screen(old_row):
            # The row being looked at stays in view as rows come and go above it.
            self._scroll_to_row(row)
        self._set_cursor(row, key)
        self.refresh()

    def _set_cursor(self, row: int, key: str | None) -> None:
        old_row, old_key = self._cursor_row, self._cursor_key
        self._cursor_row, self._cursor_key = row, key
        if (row, key) != (old_row, old_key) and self.is_mounted:
            # Only the two lines whose highlight changed (line 0 is the header).
            self.refresh_line(1 + old_row)
            self.refresh_line(1 + row)
        if key != self._posted_key:
            self._posted_key = key
            self.post_message(self.RowHighlighted(self, key))

    # ---- cursor -------------------------------------------------------------------
    @property
    def cursor_row(self) -> int:
        """The display position of the cursor (0 when the table is empty)."""
        self._sync()
        return self._cursor_row

    @cursor_row.setter
    def cursor_row(self, row: int) -> None:
        self.move_cursor(row)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, or ``None`` if the table is empty."""
        self._sync()
        return self._cursor_key

    def move_cursor(self, row: int, *, scroll: bool = True) -> None:
        """Put the cursor on row ``row`` (clamped to the rows there are) and, unless
        ``scroll`` is False, scroll so that it is visible."""
        self._sync()
        if not self._order:
            return
        row = min(max(row, 0), len(self._order) - 1)
        if scroll and self.is_mounted:
            self._scroll_to_row(row)
        self._set_cursor(row, self._order[row])

    def prefer(self, key: str) -> None:
        """Put the cursor on row ``key`` when the table is next brought up to date, whether or
        not that row is there yet (a table being refilled keeps the operator's selection). No
        ``RowHighlighted`` is posted for it: whoever asked already knows; if the row never
        comes, the cursor goes where it would have gone and that is posted as usual."""
        self._preferred = key
        self._posted_key = key
        self._schedule_sync()

    def move_to_key(self, key: str, *, scroll: bool = True) -> None:
        """Put the cursor on the row ``key``. Raises KeyError if there is no such row."""
        self.move_cursor(self.get_row_index(key), scroll=scroll)

    def _page_height(self) -> int:
        """How many rows fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _row_on_screen(self, row: int) -> bool:
        top = self.scroll_offset.y
        return top <= row < top + self._page_height()

    def _scroll_to_row(self, row: int) -> None:
        """Scroll as little as possible to show ``row``."""
        top = self.scroll_offset.y
        page = self._page_height()
        if row < top:
            self.scroll_to(y=row, animate=False, force=True)
        elif row >= top + page:
            self.scroll_to(y=row - page + 1, animate=False, force=True)

    def _move_by(self, rows: int, *, page: bool = False) -> None:
        self._sync()
        if not self._order:
            return
        target = min(max(self._cursor_row + rows, 0), len(self._order) - 1)
        if page:
            # Scroll the view along with the cursor, so the cursor keeps its place on screen.
            self.scroll_to(y=self.scroll_offset.y + target - self._cursor_row, animate=False, force=True)
        self.move_cursor(target)

    def action_cursor_up(self) -> None:
        """Move the cursor up one row."""
        self._move_by(-1)

    def action_cursor_down(self) -> None:
        """Move the cursor down one row."""
        self._move_by(1)

    def action_cursor_page_up(self) -> None:
        """Move the cursor and the view up one page."""
        self._move_by(-self._page_height(), page=True)

    def action_cursor_page_down(self) -> None:
        """Move the cursor and the view down one page."""
        self._move_by(self._page_height(), page=True)

    def action_cursor_first(self) -> None:
        """Move the cursor to the first row."""
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        """Move the cursor to the last row."""
        self.move_cursor(self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        """Select the clicked row (clicks on the header do nothing)."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = self.scroll_offset.y + offset.y - 1
        if row < self.row_count:
            event.stop()
            self.move_cursor(row)

    def on_mount(self) -> None:
        """Catch up with rows added before the table was mounted."""
        self._sync()

    # ---- rendering ----------------------------------------------------------------
    def notify_style_update(self) -> None:
        """Drop drawn lines when the theme or CSS changes."""
        super().notify_style_update()
        self._strip_signature = None

    def _widths(self, available: int) -> tuple[int | None, ...]:
        natural = self._natural_widths() if self._auto else {}
        signature = (available, tuple(natural.values()))
        if self._widths_cache is None or self._widths_cache[0] != signature:
            widths = tuple(plan_columns(self._columns, available, natural, self._hidden))
            self._widths_cache = (signature, widths)
        return self._widths_cache[1]

    def _narrowest(self) -> int:
        """The narrowest the rows can be drawn (every droppable column dropped): below that the
        table scrolls sideways."""
        shown = [width for width in self._widths(0) if width is not None]
        return sum(shown) + max(0, len(shown) - 1)

    def _component_style(self, name: str) -> Style:
        """A component class's style; plain until the stylesheet has reached this widget (a
        repaint can come first, e.g. right after a layout switch). The header's style is part of
        the cached lines' signature, so lines drawn plain are redrawn once it arrives."""
        try:
            return self.get_component_rich_style(name)
        except KeyError:
            return Style()

    def _make_frame(self) -> _Frame:
        """Geometry and styles for the lines about to be drawn; drops cached lines that
        were drawn with a different width or style."""
        width = self.scrollable_content_region.width
        widths = self._widths(width)
        base = self.rich_style
        cursor_component = self._component_style("live-table--cursor")
        frame = _Frame(
            width=width,
            widths=widths,
            line_width=max(width, _line_width(widths)),
            base=base,
            header=base + self._component_style("live-table--header"),
            cursor=base + cursor_component,
            cursor_post=Style.from_color(color=cursor_component.color),
        )
        signature = (widths, base, frame.header, self._sort_column, self._sort_reverse)
        if signature != self._strip_signature:
            self._strip_signature = signature
            self._strips.clear()
            self._header_strip = None
        return frame

    def _draw(self, cells: Sequence[Cell], frame: _Frame, style: Style, post: Style | None = None) -> Strip:
        """One row (or the header) as a Strip of the full line width, in ``style`` with the
        cells' own styles on top (and ``post`` over everything)."""
        console = self.app.console
        segments: list[Segment] = []
        run: list[str] = []  # unstyled text since the last styled cell: one segment
        first = True
        for cell, column, width in zip(cells, self._columns, frame.widths, strict=True):
            if width is None:
                continue
            if not first:
                run.append(" ")
            first = False
            right = column.justify == "right"
            if isinstance(cell, str):
                # Most cells are plain strings: no Text objects for them, just text.
                plain = _inert(cell)
                fit = column.fit
                plain = fit(plain, width) if fit is not None and cell_len(plain) > width else plain
                plain = _cut(plain, width)
                padding = " " * (width - cell_len(plain))
                run.append(padding + plain if right else plain + padding)
                continue
            text = _fit(cell, width)
            # Padding stays outside the cell's styles, so a cell's background covers its text only.
            padding = " " * (width - text.cell_len)
            if right:
                run.append(padding)
            if run:
                segments.append(Segment("".join(run), style))
                run = []
            # Text.render applies Text.style only together with spans.
            own = console.get_style(text.style) if text.style and not text.spans else None
            for segment in text.render(console):
                cell_style = segment.style or own
                segments.append(Segment(segment.text, style + cell_style if cell_style else style))
            if not right:
                run.append(padding)
        if run:
            segments.append(Segment("".join(run), style))
        if post is not None:
            segments = list(Segment.apply_style(segments, post_style=post))
        return Strip(segments, _line_width(frame.widths)).extend_cell_length(frame.line_width, style)

    def _row_strip(self, key: str, frame: _Frame) -> Strip:
        if key == self._cursor_key:
            # One line per frame; not worth caching.
            return self._draw(self._cells[key], frame, frame.cursor, frame.cursor_post)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._draw(self._cells[key], frame, frame.base)
            self._strips.set(key, strip)
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render the lines in ``crop``, sharing one frame (styles, widths) between them."""
        self._ensure_order()
        self._frame = self._make_frame()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _title(self, column: Column, width: int | None) -> str:
        """A column's header; the sorted one ends in an arrow, which a narrow column keeps."""
        if column.key != self._sort_column:
            return column.title
        arrow = " ▼" if self._sort_reverse else " ▲"
        room = (width or 0) - len(arrow)
        return (column.title if cell_len(column.title) <= room else _cut(column.title, room)) + arrow

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the content area: the header at 0, then the rows from the scroll
        position on (or the placeholder, when there are no rows)."""
        frame = self._frame
        if frame is None:
            # Called directly rather than from render_lines.
            self._ensure_order()
            frame = self._make_frame()
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            if self._header_strip is None:
                titles = [self._title(column, width) for column, width in zip(self._columns, frame.widths, strict=True)]
                self._header_strip = self._draw(titles, frame, frame.header)
            return self._header_strip.crop_extend(scroll_x, scroll_x + frame.width, frame.header)
        row = scroll_y + y - 1
        if row < len(self._order):
            strip = self._row_strip(self._order[row], frame)
        elif not self._order and y == 1 and self.empty_text:
            placeholder = _fit(self.empty_text, frame.line_width)
            placeholder.stylize(Style(dim=True))
            strip = Strip(placeholder.render(self.app.console)).apply_style(frame.base)
        else:
            return Strip.blank(frame.width, frame.base)
        return strip.crop_extend(scroll_x, scroll_x + frame.width, frame.base)
