"""LiveTable: columns and flex widths, keyed rows, lazy sorting, the cursor, literal cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.color import Color
from textual.pilot import Pilot

from llmd_console.ui.live_table import Cell, Column, LiveTable, column_widths, plan_columns

COLUMNS = (
    Column("name", "NAME", 0, flex=True, min_width=10),
    Column("ready", "READY", 5),
    Column("status", "STATUS", 10),
    Column("restarts", "RESTARTS", 8, justify="right"),
)


def cells(name: str, restarts: int = 0, status: Cell = "Running") -> list[Cell]:
    return [name, "1/1", status, str(restarts)]


class TableApp(App[None]):
    """One LiveTable; records every RowHighlighted."""

    def __init__(self, columns: Sequence[Column] = COLUMNS, **kwargs: Any) -> None:
        super().__init__()
        self.table = LiveTable(columns, id="table", **kwargs)
        self.highlighted: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_live_table_row_highlighted(self, event: LiveTable.RowHighlighted) -> None:
        assert event.table is self.table and event.control is self.table
        self.highlighted.append(event.key)


def lines(table: LiveTable) -> list[str]:
    """The plain text of every line the table shows."""
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def shown_keys(table: LiveTable) -> list[str]:
    """The first word of each row line on screen (the tests' keys are NAME)."""
    return [line.split()[0] for line in lines(table)[1:] if line.strip()]


async def loaded(pilot: Pilot[None], table: LiveTable, count: int) -> None:
    """Rows k000..k{count-1}, with the app caught up."""
    for i in range(count):
        table.upsert(f"k{i:03d}", cells(f"k{i:03d}", i))
    await pilot.pause()


# ---- columns --------------------------------------------------------------------------
def test_flex_columns_share_the_spare_width_by_weight_and_respect_minimums() -> None:
    cols = [Column("a", "A", 2, flex=True), Column("f", "F", 10), Column("b", "B", 1, flex=True, min_width=5)]
    # 40 - 10 fixed - 2 spaces = 28 spare, shared 2:1 (18.67 : 9.33), the spare cell to the left.
    assert column_widths(cols, 40) == [19, 10, 9]
    # 20 - 12 = 8 spare: b's share (2) is below its minimum, so b gets 5 and a the rest.
    assert column_widths(cols, 20) == [3, 10, 5]
    # Too narrow even for the minimums: the table will scroll sideways.
    assert column_widths(cols, 5) == [0, 10, 5]
    with pytest.raises(ValueError, match="justify"):
        Column("x", "X", 1, justify="center")  # type: ignore[arg-type]


async def test_flex_column_follows_the_terminal_width() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.table
        await loaded(pilot, table, 3)
        header = table.render_line(0).text
        # Fixed columns keep their widths, one space between columns; NAME takes the rest.
        assert header.index("READY") == 80 - (5 + 10 + 8 + 3) + 1
        assert header.index("STATUS") == header.index("READY") + 6
        assert header.endswith("RESTARTS")  # right-justified, to the last cell
        assert lines(table)[1].endswith(" 0") and lines(table)[1].startswith("k000 ")

        await pilot.resize_terminal(50, 10)
        await pilot.pause()
        header = table.render_line(0).text
        assert len(header) == 50
        assert header.index("READY") == 50 - 26 + 1
        assert lines(table)[2].startswith("k001") and lines(table)[2].endswith(" 1")

        # Below NAME's minimum the columns keep their widths and the view is cut at the edge.
        await pilot.resize_terminal(30, 10)
        await pilot.pause()
        header = table.render_line(0).text
        assert len(header) == 30
        assert header.index("READY") == 11
        assert table.virtual_size.width == 10 + 5 + 10 + 8 + 3


# ---- rows -----------------------------------------------------------------------------
async def test_upsert_remove_replace_and_lookups() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.table
        table.upsert("b", cells("b"))
        table.upsert("a", cells("a"))
        table.upsert("c", cells("c"))
        assert table.row_count == 3
        assert table.keys() == ["a", "b", "c"]
        assert table.get_row_index("c") == 2
        assert table.get_row("b") == tuple(cells("b"))
        assert table.has_row("a") and not table.has_row("z")

        table.upsert("b", cells("b", restarts=7))  # replaces, keeps its place
        table.remove_row("a")
        table.remove_row("gone")  # absent keys are ignored
        await pilot.pause()
        assert table.keys() == ["b", "c"]
        assert table.get_row("b")[3] == "7"
        assert shown_keys(table) == ["b", "c"]
        assert lines(table)[1].rstrip().endswith("7")
        with pytest.raises(KeyError):
            table.get_row_index("a")
        with pytest.raises(ValueError, match="cells"):
            table.upsert("x", ["too", "few"])

        # Removed and added again before the table caught up: shown once.
        table.remove_row("c")
        table.upsert("c", cells("c", restarts=2))
        assert table.keys() == ["b", "c"]

        table.replace_rows({f"r{i}": cells(f"r{i}") for i in (3, 1, 2)})
        await pilot.pause()
        assert table.keys() == ["r1", "r2", "r3"]
        assert shown_keys(table) == ["r1", "r2", "r3"]

        table.clear()
        await pilot.pause()
        assert table.row_count == 0 and table.keys() == []
        assert table.cursor_key is None


async def test_placeholder_when_empty() -> None:
    app = TableApp(empty_text="no pods in [ns]")
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.table
        await pilot.pause()
        line = table.render_line(1)
        assert line.text.startswith("no pods in [ns]")
        assert any(segment.style is not None and segment.style.dim for segment in line)
        table.empty_text = "waiting"
        await pilot.pause()
        assert table.render_line(1).text.startswith("waiting")
        table.upsert("a", cells("a"))
        await pilot.pause()
        assert shown_keys(table) == ["a"]


async def test_a_cell_whose_style_alone_changed_is_redrawn() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 6)) as pilot:
        table = app.table
        table.upsert("a", cells("a", status=Text("Running", style="green")))
        table.upsert("b", cells("b"))
        await pilot.pause()

        def status_color() -> object:
            [segment] = [s for s in table.render_line(1) if s.text == "Running"]
            return segment.style.color if segment.style else None

        table.move_to_key("b")  # so row "a" is drawn without the cursor's colours
        await pilot.pause()
        assert status_color() == Style.parse("green").color
        # Text == Text ignores Text.style; the table must not.
        table.upsert("a", cells("a", status=Text("Running", style="red")))
        await pilot.pause()
        assert status_color() == Style.parse("red").color


# ---- sorting --------------------------------------------------------------------------
class Counted:
    """A sort value that counts how often it is compared."""

    comparisons = 0

    def __init__(self, value: int) -> None:
        self.value = value

    def __lt__(self, other: Counted) -> bool:
        Counted.comparisons += 1
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        Counted.comparisons += 1
        return isinstance(other, Counted) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


async def test_sorting_is_lazy_and_done_once_per_batch() -> None:
    app = TableApp(sort_key=lambda _key, row: Counted(-int(str(row[3]))))  # most restarts first
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.table
        Counted.comparisons = 0
        for i in range(200):
            table.upsert(f"k{i:03d}", cells(f"k{i:03d}", i))
        assert Counted.comparisons == 0  # upserts never sort
        assert table.keys()[:3] == ["k199", "k198", "k197"]
        assert Counted.comparisons > 0
        Counted.comparisons = 0
        assert table.keys()[-1] == "k000"
        assert Counted.comparisons == 0  # nothing changed: no sort
        await pilot.pause()
        assert shown_keys(table)[:2] == ["k199", "k198"]

        # Changed cells with an unchanged sort value: compared once, not re-sorted.
        Counted.comparisons = 0
        table.upsert("k050", cells("k050", 50, status="Failed"))
        assert Counted.comparisons == 1
        table.keys()
        assert Counted.comparisons == 1
        # A new sort value moves the row, at the next query.
        table.upsert("k000", cells("k000", 500))
        assert table.keys()[0] == "k000"


async def test_sort_by_column_compares_numbers_as_numbers() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.table
        for name, restarts in (("a", "10"), ("b", "9"), ("c", "-"), ("d", "100"), ("e", "9")):
            table.upsert(name, [name, "1/1", "Running", restarts])
        table.sort_by("restarts")
        assert table.keys() == ["b", "e", "a", "d", "c"]  # ties by key; text after numbers
        table.sort_by("restarts", reverse=True)
        assert table.keys() == ["c", "d", "a", "e", "b"]
        table.sort_key = None  # back to key order
        assert table.keys() == ["a", "b", "c", "d", "e"]
        table.sort_by("name")
        await pilot.pause()
        assert shown_keys(table) == ["a", "b", "c", "d", "e"]
        with pytest.raises(KeyError):
            table.sort_by("nope")


# ---- cursor ---------------------------------------------------------------------------
async def test_cursor_keys_scroll_and_click() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.table
        table.focus()
        await loaded(pilot, table, 100)
        page = 12 - 1  # lines under the header
        assert (table.cursor_row, table.cursor_key) == (0, "k000")

        await pilot.press("down", "down")
        assert (table.cursor_row, table.cursor_key) == (2, "k002")
        await pilot.press("up")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + page
        assert "k012" in shown_keys(table)
        await pilot.press("end")
        await pilot.pause()
        assert (table.cursor_row, table.cursor_key) == (99, "k099")
        assert shown_keys(table)[-1] == "k099"  # the view followed the cursor
        await pilot.press("pageup")
        assert table.cursor_row == 99 - page
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0 and shown_keys(table)[0] == "k000"
        await pilot.press("up")  # stays on the first row
        assert table.cursor_row == 0

        await pilot.click(LiveTable, offset=(3, 4))  # the 4th row under the header
        assert table.cursor_key == "k003"
        await pilot.click(LiveTable, offset=(3, 0))  # the header: no change
        assert table.cursor_key == "k003"

        table.move_to_key("k042")
        await pilot.pause()
        assert table.cursor_row == 42 and "k042" in shown_keys(table)
        table.move_cursor(1000)  # clamped
        assert table.cursor_key == "k099"


async def test_cursor_keeps_its_key_and_posts_once_per_key() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.table
        await loaded(pilot, table, 10)
        assert app.highlighted == ["k000"]

        table.move_to_key("k005")
        await pilot.pause()
        assert app.highlighted == ["k000", "k005"]

        # Rows inserted above: same key, new index, no message.
        table.upsert("a0", cells("a0"))
        table.upsert("a1", cells("a1"))
        table.upsert("k005", cells("k005", 9))  # its own cells change: still no message
        await pilot.pause()
        assert (table.cursor_key, table.cursor_row) == ("k005", 7)
        assert app.highlighted == ["k000", "k005"]
        cursor_line = table.render_line(1 + 7)
        assert cursor_line.text.startswith("k005")

        # The cursor's row removed: the cursor keeps its index, now on the next key.
        table.remove_row("k005")
        await pilot.pause()
        assert (table.cursor_key, table.cursor_row) == ("k006", 7)
        assert app.highlighted == ["k000", "k005", "k006"]

        # Rows removed above: same key, smaller index.
        table.remove_row("a0")
        table.remove_row("a1")
        await pilot.pause()
        assert (table.cursor_key, table.cursor_row) == ("k006", 5)

        # The last row removed under the cursor: clamped to the new last row.
        table.move_to_key("k009")
        table.remove_row("k009")
        await pilot.pause()
        assert (table.cursor_key, table.cursor_row) == ("k008", 7)

        # A relist that keeps the key keeps the cursor; emptying posts None once.
        table.replace_rows({k: cells(k) for k in ("k008", "b", "a")})
        await pilot.pause()
        assert (table.cursor_key, table.cursor_row) == ("k008", 2)
        table.clear()
        table.clear()
        await pilot.pause()
        assert app.highlighted == ["k000", "k005", "k006", "k009", "k008", None]


async def test_cursor_row_has_the_block_cursor_style() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.table
        table.focus()
        await loaded(pilot, table, 3)
        expected = Color.parse(app.get_css_variables()["block-cursor-background"])
        cursor_style = table.render_line(1)._segments[0].style
        other_style = table.render_line(2)._segments[0].style
        assert cursor_style is not None and cursor_style.bgcolor is not None
        assert Color.from_rich_color(cursor_style.bgcolor) == expected
        assert other_style is not None and other_style.bgcolor != cursor_style.bgcolor


# ---- cells ----------------------------------------------------------------------------
async def test_strings_are_literal_and_cells_are_cut_with_an_ellipsis() -> None:
    columns = (Column("name", "NAME", 12), Column("status", "STATUS", 6), Column("n", "N", 3, justify="right"))
    app = TableApp(columns)
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.table
        table.upsert("1", ["[bold]x[/]", "P[/]", "7"])
        table.upsert("2", ["a-very-long-pod-name", Text("CrashLoopBackOff", style="red"), "1234"])
        table.upsert("3", ["esc\x1b[2Jx", "two\nlines", ""])
        await pilot.pause()
        header, first, second, third = lines(table)[:4]
        assert header.startswith("NAME         STATUS   N")
        assert first.startswith("[bold]x[/]   P[/]     7")
        assert second.startswith("a-very-long… Crash… 12…")
        assert third.startswith("esc\u241b[2Jx     two\u23cel… ")  # control characters made visible

        # The Text's style is kept, on the cut text too.
        red = Style.parse("red").color
        segments = list(table.render_line(2))
        assert [segment.text for segment in segments if segment.style and segment.style.color == red] == ["Crash…"]


async def test_ten_thousand_rows() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.table
        for i in reversed(range(10_000)):
            table.upsert(f"pod-{i:05d}", cells(f"pod-{i:05d}", i % 13, Text("Running", style="green")))
        await pilot.pause()
        assert table.row_count == 10_000
        keys = table.keys()
        assert keys == sorted(keys) and len(set(keys)) == 10_000
        assert shown_keys(table) == [f"pod-{i:05d}" for i in range(29)]
        assert table.cursor_key == "pod-00000"

        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert shown_keys(table)[-1] == "pod-09999"
        assert table.cursor_row == 9_999

        # A batch of changes: every 10th row removed, 500 rows changed.
        for i in range(0, 10_000, 10):
            table.remove_row(f"pod-{i:05d}")
        for i in range(1, 5_000, 10):
            table.upsert(f"pod-{i:05d}", cells(f"pod-{i:05d}", 99))
        await pilot.pause()
        assert table.row_count == 9_000
        assert table.cursor_key == "pod-09999" and table.cursor_row == 8_999
        assert table.get_row_index("pod-00011") == 9
        table.move_to_key("pod-00011")
        await pilot.pause()
        line = lines(table)[1 + table.cursor_row - table.scroll_offset.y]
        assert line.startswith("pod-00011") and line.endswith("99")


def test_a_repaint_before_the_stylesheet_reached_the_table_draws_plain() -> None:
    table = LiveTable([Column("name", "NAME", 10)])
    # Not mounted: no component styles yet (as in a repaint right after a layout switch).
    assert table._component_style("live-table--cursor") == Style()


async def test_a_preferred_row_gets_the_cursor_when_it_arrives_without_being_announced() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.prefer("k003")
        await pilot.pause()  # synced while empty: the preference waits for the rows
        await loaded(pilot, table, 6)
        assert table.cursor_key == "k003"
        assert "k000" not in app.highlighted  # never announced a row it did not mean
        # Rows without the preferred key: the cursor goes where it would have gone, announced.
        table.clear()
        table.prefer("gone")
        await loaded(pilot, table, 2)
        assert table.cursor_key in ("k000", "k001") and app.highlighted[-1] == table.cursor_key


def test_columns_hide_drop_and_size_to_their_cells() -> None:
    columns = [
        Column("name", "NAME", 10, flex=True, min_width=8),
        Column("status", "STATUS", 30, auto=True),
        Column("node", "NODE", 20, drop=1),
        Column("ns", "NS", 5),
    ]
    assert plan_columns(columns, 80, {"status": 12}) == [40, 12, 20, 5]
    assert plan_columns(columns, 40, {"status": 12}) == [21, 12, None, 5]  # NODE makes room first
    assert plan_columns(columns, 80, {"status": 50}, hidden=("ns",)) == [28, 30, 20, None]  # auto stops at 30
