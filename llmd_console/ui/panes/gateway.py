"""The request path, hop by hop, each with a status light and, when unhealthy, the
failing condition in words and the fix."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from llmd_console.models import Hop, RequestPath, Snapshot
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import register_pane
from llmd_console.views.gateway import PATH_KINDS

LIGHTS = {"ok": ("●", "green"), "warning": ("●", "yellow"), "error": ("●", "bold red"), "unknown": ("○", "dim")}


def hanging(gutter: Text, body: Text) -> Table:
    """One line of the path: ``gutter`` (light, rail, mark), then ``body``, which wraps under its
    own start (a hanging indent) rather than back to the pane's edge."""
    line = Table.grid(padding=0, expand=True)
    line.add_column(no_wrap=True, width=gutter.cell_len)
    line.add_column(ratio=1, overflow="fold")
    line.add_row(gutter, body)
    return line


def path_lines(hops: tuple[Hop, ...]) -> list[RenderableType]:
    """The hops as a vertical chain, each line with a hanging indent."""
    lines: list[RenderableType] = []
    for i, hop in enumerate(hops):
        symbol, style = LIGHTS[hop.light]
        head = Text()
        head.append(f"{hop.kind} ", style="bold")
        head.append(hop.name)
        lines.append(hanging(Text(f"{symbol} ", style=style), head))
        lines.extend(hanging(Text("│   ", style="dim"), Text(fact, style="dim")) for fact in hop.facts)
        if hop.problem:
            lines.append(hanging(Text("│   ✗ ", style=style), Text(hop.problem, style=style)))
        if hop.fix:
            lines.append(hanging(Text("│   fix: ", style="bold"), Text(hop.fix, style="cyan")))
        if i < len(hops) - 1:
            lines.append(Text("▼", style="dim"))
    return lines


def draw_path(hops: tuple[Hop, ...]) -> Group:
    """One stack's path."""
    return Group(*path_lines(hops))


def draw_paths(paths: tuple[RequestPath, ...], titled: bool) -> Group:
    """Every stack's path; each under its Gateway's namespace/name when ``titled`` or when
    there is more than one."""
    lines: list[RenderableType] = []
    for i, path in enumerate(paths):
        if i:
            lines.append(Text(""))
        if path.title and (titled or len(paths) > 1):
            lines.append(Text(f"Stack {path.title}", style="bold underline"))
        lines.extend(path_lines(path.hops))
    return Group(*lines)


def problems_title(problems: int) -> Content:
    """The border's count of problems, in the theme's warning colour (or "healthy", muted)."""
    if not problems:
        return Content("healthy")
    return Content.styled(f"{problems} problem{'s' if problems != 1 else ''}", "bold $warning")


@register_pane
class GatewayPane(Pane):
    """Gateway -> HTTPRoute -> InferencePool -> EPP -> model pods."""

    pane_id = "gateway"
    title = "Gateway path"
    summary = "Gateway, HTTPRoute, InferencePool, EPP and model pods, each with its conditions and fix"
    kinds = PATH_KINDS

    def __init__(self) -> None:
        super().__init__()
        self.body = Static("", id="gateway-path")
        self.paths: tuple[RequestPath, ...] = ()
        self._drawing = Group()

    @property
    def hops(self) -> tuple[Hop, ...]:
        """The hops of the first stack shown (the configured one, watching one namespace)."""
        return self.paths[0].hops if self.paths else ()

    def compose(self) -> ComposeResult:
        """Notice and the path, in one scroll container that the keyboard can focus and scroll."""
        yield self.notice
        with VerticalScroll(id="gateway-scroll"):
            yield self.body

    def on_mount(self) -> None:
        """Only the scroll container scrolls: neither the pane around it nor the path inside it."""
        self.styles.overflow_x = self.styles.overflow_y = "hidden"
        self.body.styles.height = "auto"
        self.body.styles.overflow_x = self.body.styles.overflow_y = "hidden"

    def shown_text(self) -> str:
        """The path as plain text, wrapped to the pane's width as it is drawn."""
        out = io.StringIO()
        width = self.body.content_region.width or 80
        Console(file=out, width=width, color_system=None, legacy_windows=False).print(self._drawing)
        return out.getvalue()

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Redraw when the path changed."""
        if not snapshot.touched(*PATH_KINDS):
            return
        self.show_notice(self.status_notice(snapshot))
        if snapshot.paths == self.paths and snapshot.changes is not None:
            return
        self.paths = snapshot.paths
        self._drawing = draw_paths(self.paths, titled=snapshot.namespace is None)
        self.body.update(self._drawing)
        self.border_subtitle = problems_title(len(snapshot.problems))
