"""LiveTable against Textual's DataTable, with the same pods, headless, in one process.

Prints, for each widget:
1. time to put 10,000 rows of 8 columns in the table and get them on screen (the rows
   arrive in random order; DataTable is sorted once afterwards, as the pods pane does);
2. 200 down-arrow presses: p50/p95 from the key event to the cursor having moved, and to
   the moved cursor being painted (the next repaint of the table);
3. 500 changed rows applied (DataTable: only the cells that differ, as the pods pane
   does): the time of the calls, and until the change is on screen;
4. memory held by the filled, rendered table (tracemalloc, in a separate pass).

Times are wall clock on this machine; nothing is asserted.

Run:  python benchmarks/live_table.py [--rows N] [--moves N] [--changes N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from llmd_console.ui.live_table import Cell, Column, LiveTable

SIZE = (160, 45)
# The pods pane's columns and widths.
TITLES = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "ROLE", "CHIPS", "NODE")
WIDTHS = (30, 5, 18, 8, 5, 7, 5, 24)
STATUSES = (("Running", "green"), ("Pending", "yellow"), ("CrashLoopBackOff", "bold red"))
Rows = dict[str, list[Cell]]


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def pod_cells(i: int, rng: random.Random, restarts: int = 0) -> list[Cell]:
    """One pod's row, like the pods pane draws it."""
    status, style = STATUSES[0] if rng.random() < 0.9 else rng.choice(STATUSES)
    return [
        f"ms-decode-{i:05d}-{rng.randrange(16**5):05x}",
        "1/1",
        Text(status, style=style),
        str(restarts),
        f"{rng.randrange(1, 59)}m",
        rng.choice(("decode", "prefill", "epp")),
        str(rng.choice((1, 4, 8))),
        f"gke-pool-{rng.randrange(1000):04d}",
    ]


def make_rows(count: int, seed: int = 7) -> Rows:
    """``count`` pods keyed namespace/name, in random order."""
    rng = random.Random(seed)
    rows = {f"llm-d/pod-{i:05d}": pod_cells(i, rng) for i in range(count)}
    keys = list(rows)
    rng.shuffle(keys)
    return {key: rows[key] for key in keys}


class Probe:
    """Timestamps of cursor moves and repaints, recorded by the widgets themselves."""

    def __init__(self) -> None:
        self.moved: float | None = None
        self.painted: float | None = None
        self.render_time = 0.0  # spent in the table's render_lines for that repaint

    def reset(self) -> None:
        self.moved = self.painted = None

    def rendered(self, started: float) -> None:
        """The table's lines were rendered; the first time after a move is its repaint."""
        if self.moved is not None and self.painted is None:
            self.painted = time.perf_counter()
            self.render_time = self.painted - started


class Timed:
    """Mixed into a table: records when its cursor moved and when it was next painted."""

    probe: Probe

    def action_cursor_down(self) -> None:
        super().action_cursor_down()  # type: ignore[misc]
        self.probe.moved = time.perf_counter()

    def render_lines(self, crop: Region) -> list[Strip]:
        started = time.perf_counter()
        strips: list[Strip] = super().render_lines(crop)  # type: ignore[misc]
        self.probe.rendered(started)
        return strips


class LiveProbe(Timed, LiveTable):
    """LiveTable that records when its cursor moved and when it was next painted."""

    def __init__(self, probe: Probe) -> None:
        # NAME takes the spare width, at least the pods pane's 30 cells; the rest are fixed.
        columns = [Column(title.lower(), title, width) for title, width in zip(TITLES, WIDTHS, strict=True)]
        columns[0] = Column("name", "NAME", 1, flex=True, min_width=WIDTHS[0])
        super().__init__(columns, id="table")
        self.probe = probe


class DataProbe(Timed, DataTable[Cell]):
    """DataTable that records when its cursor moved and when it was next painted."""

    def __init__(self, probe: Probe) -> None:
        super().__init__(cursor_type="row", id="table")
        self.probe = probe


class Bench(App[None]):
    """Just the table, filling the screen."""

    def __init__(self, table: Widget) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


class Subject:
    """How the benchmark drives one kind of table."""

    name = ""
    table: Widget

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    def fill(self, rows: Rows) -> None:
        raise NotImplementedError

    def change(self, before: Rows, after: Rows) -> None:
        raise NotImplementedError

    def line(self, y: int) -> str:
        return self.table.render_line(y).text

    def cursor_row(self) -> int:
        raise NotImplementedError

    def to_top(self) -> None:
        raise NotImplementedError


class LiveSubject(Subject):
    name = "LiveTable"

    def __init__(self, probe: Probe) -> None:
        super().__init__(probe)
        self.live = LiveProbe(probe)
        self.table = self.live

    def fill(self, rows: Rows) -> None:
        for key, cells in rows.items():
            self.live.upsert(key, cells)

    def change(self, before: Rows, after: Rows) -> None:
        for key, cells in after.items():
            self.live.upsert(key, cells)

    def cursor_row(self) -> int:
        return self.live.cursor_row

    def to_top(self) -> None:
        self.live.move_cursor(0)


class DataSubject(Subject):
    name = "DataTable"

    def __init__(self, probe: Probe) -> None:
        super().__init__(probe)
        self.data = DataProbe(probe)
        self.table = self.data

    def fill(self, rows: Rows) -> None:
        for title, width in zip(TITLES, WIDTHS, strict=True):
            self.data.add_column(title, key=title, width=width)
        for key, cells in rows.items():
            self.data.add_row(*cells, key=key)
        # As the pods pane does; NAME order is key order here, as in the LiveTable.
        self.data.sort("NAME")

    def change(self, before: Rows, after: Rows) -> None:
        for key, cells in after.items():
            for title, old, new in zip(TITLES, before[key], cells, strict=True):
                if old != new:
                    self.data.update_cell(key, title, new)

    def cursor_row(self) -> int:
        return self.data.cursor_row

    def to_top(self) -> None:
        self.data.move_cursor(row=0)


async def until_shown(pilot: Pilot[None], subject: Subject, text: str, rows: int) -> None:
    """Let the app run until ``text`` is on the first row and the table is ``rows`` tall."""
    for _ in range(10_000):
        await pilot.pause()
        if text in subject.line(1) and subject.table.virtual_size.height >= rows:
            return
    raise RuntimeError(f"{subject.name} never showed {text!r}")


async def measure(make: Callable[[Probe], Subject], rows: Rows, moves: int, changes: int) -> dict[str, Any]:
    """Fill, move the cursor, change rows; the figures for one widget."""
    probe = Probe()
    subject = make(probe)
    first_name = str(rows[min(rows)][0])
    app = Bench(subject.table)
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        subject.table.focus()
        await pilot.pause()
        gc.collect()

        start = time.perf_counter()
        subject.fill(rows)
        result["fill_calls"] = time.perf_counter() - start
        await until_shown(pilot, subject, first_name, len(rows))
        result["fill_to_screen"] = time.perf_counter() - start

        moved, painted, render = [], [], []
        for _ in range(moves):
            # Start each press from an idle app, so one frame's leftovers do not delay the next key.
            await pilot.pause()
            before = subject.cursor_row()
            probe.reset()
            sent = time.perf_counter()
            # Straight to the app, as a terminal's key would come (pilot.press also waits for idle).
            app.post_message(events.Key("down", None))
            while probe.painted is None:
                await asyncio.sleep(0.0005)
            assert probe.moved is not None and subject.cursor_row() == before + 1
            moved.append(probe.moved - sent)
            painted.append(probe.painted - sent)
            render.append(probe.render_time)
        result["moved"], result["painted"], result["render"] = moved, painted, render

        rng = random.Random(11)
        keys = rng.sample(sorted(rows), changes)
        after = {}
        for key in keys:
            cells = list(rows[key])
            cells[2] = Text("CrashLoopBackOff", style="bold red")
            cells[3] = str(int(str(cells[3])) + 1)
            after[key] = cells
        # The first sorted row changes too, so the change is visible at the top.
        top = min(rows)
        after[top] = [*rows[top][:3], "99", *rows[top][4:]]
        subject.to_top()
        await pilot.pause()
        gc.collect()
        start = time.perf_counter()
        subject.change(rows, after)
        result["change_calls"] = time.perf_counter() - start
        for _ in range(10_000):
            await pilot.pause()
            if " 99" in subject.line(1):
                break
        else:
            raise RuntimeError(f"{subject.name} never showed the changed rows")
        result["change_to_screen"] = time.perf_counter() - start
    return result


async def memory(make: Callable[[Probe], Subject], rows: Rows) -> float:
    """MiB still allocated after filling and rendering the table (beyond the rows' own data)."""
    subject = make(Probe())
    app = Bench(subject.table)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        subject.fill(rows)
        await until_shown(pilot, subject, str(rows[min(rows)][0]), len(rows))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    return (after - before) / 2**20


def report(name: str, figures: dict[str, Any], mib: float, rows: int, changes: int) -> None:
    ms = 1000.0

    def p50_p95(values: Sequence[float]) -> str:
        return f"p50 {percentile(values, 50) * ms:.2f} ms, p95 {percentile(values, 95) * ms:.2f} ms"

    print(f"{name}:")
    print(f"  {rows} rows: calls {figures['fill_calls']:.3f} s, on screen after {figures['fill_to_screen']:.3f} s")
    print(f"  {len(figures['moved'])} cursor moves (down arrow):")
    print(f"    key -> cursor moved     {p50_p95(figures['moved'])}")
    print(f"    key -> repainted        {p50_p95(figures['painted'])} (includes waiting for Textual's next frame)")
    print(f"    the table's render_lines {p50_p95(figures['render'])} (for that repaint)")
    print(
        f"  {changes} changed rows: calls {figures['change_calls'] * ms:.1f} ms, "
        f"on screen after {figures['change_to_screen'] * ms:.1f} ms"
    )
    print(f"  memory held by the filled table: {mib:.1f} MiB")


def main() -> None:
    """Measure both widgets and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--changes", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    rows = make_rows(args.rows)
    # A first app run in this process pays for imports and CSS parsing; keep it out of the figures.
    asyncio.run(measure(LiveSubject, make_rows(100), 5, 5))
    print(f"{args.rows} pods x {len(TITLES)} columns, terminal {SIZE[0]}x{SIZE[1]}, headless")
    for make in (LiveSubject, DataSubject):
        figures = asyncio.run(measure(make, rows, args.moves, args.changes))
        mib = asyncio.run(memory(make, rows))
        report(make.name, figures, mib, args.rows, args.changes)


if __name__ == "__main__":
    main()
