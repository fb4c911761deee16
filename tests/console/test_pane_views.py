"""Pilot tests of the logs pane's keys, the gateway path's drawing and the chips drawing,
against the simulated Pattern 1 cluster (and a GPU one for the chips)."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot

from llmd_console.models import StreamPhase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.panes.gateway import GatewayPane, draw_path
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.nodes import NodesPane, draw_chips
from tests.console.conftest import CONSOLE_SPEED, make_app, until

FOLD = "\u258f"


def notices(app: ConsoleApp) -> list[str]:
    """The messages of the notifications shown."""
    return [n.message for n in app._notifications]


def ready_decode(app: ConsoleApp) -> bool:
    return any(row.role == "decode" and row.ready == "1/1" for row in app.snapshot.pods.values())


def key_of(app: ConsoleApp, role: str) -> str:
    return next(k for k, row in app.snapshot.pods.items() if row.role == role)


# ---- logs --------------------------------------------------------------------------------------
async def open_log(pilot: Pilot[Any], role: str) -> LogsPane:
    """Once the world is Ready, the logs pane on the pod of ``role``, its log read and drawn."""
    app = pilot.app
    assert isinstance(app, ConsoleApp)
    await until(pilot, lambda: ready_decode(app), what="a Ready decode pod")
    logs = app.query_one(LogsPane)
    logs.show_pod(key_of(app, role))
    await until(pilot, lambda: logs.stream_state.phase is StreamPhase.LIVE and logs.lines, what="a live log")
    if role == "decode":
        await until(pilot, lambda: any("Application startup complete" in t for _, t in logs.lines), what="startup")
    await until(pilot, lambda: logs.log_view.line_count >= len(logs.lines), what="lines drawn")
    logs.log_view.focus()
    return logs


async def test_keys_that_cannot_act_say_why_at_once(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        logs = await open_log(pilot, "epp")
        await pilot.press("p")
        # No stream is opened for a previous instance that does not exist: the answer is immediate.
        assert any("has not restarted: there is no previous container log" in m for m in notices(app))
        assert logs.target is not None and not logs.target.previous
        assert logs.stream_state.phase is StreamPhase.LIVE
        await pilot.press("c")
        assert any("has only one container" in m for m in notices(app))
        # Had the pod's restart count been stale, the API's answer is said and the current log read again.
        assert logs.target is not None
        logs._request(replace(logs.target, previous=True))
        await until(pilot, lambda: any("no previous log" in m for m in notices(app)), what="the API's answer")
        await until(pilot, lambda: logs.target is not None and not logs.target.previous, what="the current log")
        await until(pilot, lambda: logs.stream_state.phase is StreamPhase.LIVE, what="the live log again")


async def test_vllm_lines_message_first_and_the_fold_toggle(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="oncall")
    async with app.run_test(size=(160, 45)) as pilot:
        logs = await open_log(pilot, "decode")
        shown = list(logs.log_view.lines)
        assert any(line.startswith(f"I{FOLD}vLLM API server version") for line in shown)
        assert any(line == f"I{FOLD}Application startup complete." for line in shown)
        assert not any("(EngineCore_DP0 pid=" in line or "(APIServer pid=" in line for line in shown)
        await pilot.press("m")
        shown = list(logs.log_view.lines)
        assert any(line.startswith("(APIServer pid=1) INFO ") for line in shown)
        assert not any(FOLD in line for line in shown)
        await pilot.press("m")
        assert any(line.startswith(f"I{FOLD}") for line in logs.log_view.lines)


def test_the_level_stays_visible_as_a_coloured_tag() -> None:
    from llmd_console.ui.panes.logs import LineHighlighter

    highlighter = LineHighlighter()
    error = Text(f"E{FOLD}EngineCore failed to start.")
    highlighter.highlight(error)
    assert any("red" in str(span.style) for span in error.spans)
    info = Text(f"I{FOLD}Loading weights took 5.45 seconds")
    highlighter.highlight(info)
    assert all("red" not in str(span.style) and "yellow" not in str(span.style) for span in info.spans)


async def test_wrap_toggle_hangs_continuations_at_80_columns(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig)  # auto: compact at 80x24
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.layout_name == "compact", what="the compact layout")
        await pilot.press("2")
        logs = await open_log(pilot, "decode")
        width = logs.log_view.scrollable_content_region.width
        assert any(len(line) > width for line in logs.log_view.lines)  # long lines run off the pane
        await pilot.press("w")
        wrapped = list(logs.log_view.lines)
        assert all(len(line) <= width for line in wrapped)
        continuations = [line for line in wrapped if line.startswith("  ")]
        assert continuations and len(wrapped) == len(logs.lines) + len(continuations)
        # Nothing is lost: a long line's pieces, put back together, are the line.
        long = next(logs._format(at, t) for at, t in logs.lines if len(logs._format(at, t)) > width)
        first = next(i for i, line in enumerate(wrapped) if line != long and long.startswith(line))
        pieces = [wrapped[first]]
        for line in wrapped[first + 1 :]:
            if not line.startswith("  "):
                break
            pieces.append(line)
        assert "".join(pieces).replace(" ", "") == long.replace(" ", "")
        await pilot.press("w")
        assert logs.log_view.line_count == len([1 for _, t in logs.lines if logs._shown(t)])


# ---- gateway path -------------------------------------------------------------------------------
def plain_lines(renderable: object, width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(renderable)
    return out.getvalue().splitlines()


async def test_gateway_path_hanging_indents_one_scrollbar_problems_in_warning(
    world: tuple[SimCluster, Path],
) -> None:
    sim, kubeconfig = world
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.layout_name == "compact" and ready_decode(app), what="compact, Ready")
        await pilot.press("3")
        pane = app.query_one(GatewayPane)
        await until(pilot, lambda: [h.light for h in pane.hops] == ["ok"] * 5, what="a healthy path")
        # Wrapped lines continue under their own start, never at the pane's edge.
        lines = plain_lines(draw_path(pane.hops), 50)
        assert len(lines) > sum(2 + len(h.facts) for h in pane.hops)  # some lines did wrap at 50
        assert all(line[:1] in ("●", "○", "│", "▼", " ") for line in lines)
        assert all(line.startswith("    ") for line in lines if line[:1] == " " and line.strip())
        # The path is taller than the pane: one scrollbar, which the keyboard reaches and scrolls.
        scroller = pane.query_one("#gateway-scroll")
        await until(pilot, lambda: scroller.max_scroll_y > 0, what="a path taller than the pane")
        await pilot.pause()
        assert [w for w in (pane, *pane.query("*")) if w.show_vertical_scrollbar] == [scroller]
        assert not [w for w in (pane, *pane.query("*")) if w.show_horizontal_scrollbar]
        assert app.focused is scroller
        await pilot.press("pagedown")
        await until(pilot, lambda: scroller.scroll_y > 0, what="the path scrolled by the keyboard")
        assert str(pane.border_subtitle) == "healthy"
        # Problems are counted in the theme's warning colour.
        faults = sim.faults
        assert faults is not None
        sim.call(lambda: faults.set("httproute-missing"))
        try:
            await until(pilot, lambda: any(h.light == "error" for h in pane.hops), what="a broken path")
            subtitle = pane._border_subtitle
            assert subtitle is not None and "problem" in subtitle.plain
            assert any("$warning" in str(span.style) for span in subtitle.spans)
        finally:
            sim.call(faults.clear)
        await until(pilot, lambda: str(pane.border_subtitle) == "healthy", limit=30, what="healthy again")


# ---- chips ----------------------------------------------------------------------------------------
def chip_styles(text: Text, label: str) -> list[str]:
    """The styles of the chip boxes whose text is ``label`` (e.g. " 0 A ")."""
    plain = text.plain
    out = []
    start = plain.find(label)
    while start >= 0:
        out += [str(s.style) for s in text.spans if s.start <= start and s.end >= start + len(label)]
        start = plain.find(label, start + 1)
    return out


async def test_tpu_chips_in_the_topology_grid_with_owner_and_unhealthy(world: tuple[SimCluster, Path]) -> None:
    sim, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: ready_decode(app), what="a Ready decode pod")
        nodes = app.query_one(NodesPane)
        await until(pilot, lambda: nodes.selected in app.snapshot.slices, what="the TPU node selected")
        node = nodes.selected
        assert node is not None
        chips = app.snapshot.slices[node]
        assert (chips.columns, chips.rows, chips.topology) == (2, 2, "2x2")
        decode = app.snapshot.pods[key_of(app, "decode")]
        drawing = draw_chips(chips, 60)
        lines = drawing.plain.splitlines()
        assert lines[0].startswith("TPU 2x2 tpu-v6e-slice  4 allocated, 0 free")
        assert "  0 A   1 A " in lines[1] and "  2 A   3 A " in lines[2]  # the 2x2 grid
        assert f"decode {decode.name[:10]}" in lines[1]  # the legend: role and pod
        styles = chip_styles(drawing, " 0 A ")
        assert styles and all("red" not in s for s in styles)  # allocated is not the error colour
        assert str(nodes.chips.render()).splitlines()[1].startswith("  0 A   1 A")

        def set_allocatable(chips: str) -> None:
            current = sim.ctx.store.get("nodes", "", node)
            assert current is not None
            draft = copy.deepcopy(current)
            draft["status"]["allocatable"]["google.com/tpu"] = chips
            sim.ctx.store.update(sim.ctx.rt("nodes"), draft, status_only=True)

        sim.call(lambda: set_allocatable("3"))  # the device plugin took an unhealthy chip out
        try:
            await until(pilot, lambda: app.snapshot.slices[node].unhealthy == 1, what="an unhealthy chip")
            drawing = draw_chips(app.snapshot.slices[node], 60)
            assert "3 allocated, 0 free, 1 unhealthy" in drawing.plain
            unhealthy = chip_styles(drawing, " 3 ✗ ")
            allocated = chip_styles(drawing, " 0 A ")
            assert unhealthy and allocated and set(unhealthy).isdisjoint(allocated)
            await until(pilot, lambda: "1 unhealthy" in str(nodes.chips.render()), what="the pane redrawn")
        finally:
            sim.call(lambda: set_allocatable("4"))


@pytest.fixture(scope="module")
def gpu_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=3, accelerator="gpu")) as cluster:
        yield cluster.write_kubeconfig(tmp_path_factory.mktemp("gpu") / "kubeconfig")


async def test_gpu_chips_are_drawn_too(gpu_world: Path) -> None:
    app = make_app(gpu_world, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        nodes = app.query_one(NodesPane)
        await until(pilot, lambda: any(s.kind == "GPU" and any(s.owners) for s in app.snapshot.slices.values()))
        chips = next(s for s in app.snapshot.slices.values() if s.kind == "GPU")
        drawing = draw_chips(chips, 60).plain
        assert drawing.startswith(f"GPU {chips.columns}x{chips.rows} nvidia-h100-80gb")
        assert " allocated, " in drawing and " decode " in drawing and " A " in drawing
        await until(pilot, lambda: str(nodes.chips.render()).startswith("GPU"), what="the GPU node drawn")
