"""The request path, hop by hop, each with a status light and, when unhealthy, the
failing condition in words and the fix."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from llmd_console.models import Hop, RequestPath, Snapshot
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import register_pane
from llmd_console.views.gateway import PATH_KINDS

LIGHTS = {"ok": ("●", "green"), "warning": ("●", "yellow"), "error": ("●", "bold red"), "unknown": ("○", "dim")}


def draw_path(hops: tuple[Hop, ...]) -> Text:
    """The hops as a vertical chain."""
    out = Text()
    for i, hop in enumerate(hops):
        symbol, style = LIGHTS[hop.light]
        out.append(f"{symbol} ", style=style)
        out.append(f"{hop.kind} ", style="bold")
        out.append(f"{hop.name}\n")
        for fact in hop.facts:
            out.append(f"│   {fact}\n", style="dim")
        if hop.problem:
            out.append("│   ✗ ", style=style)
            out.append(f"{hop.problem}\n", style=style)
        if hop.fix:
            out.append("│   fix: ", style="bold")
            out.append(f"{hop.fix}\n", style="cyan")
        if i < len(hops) - 1:
            out.append("▼\n", style="dim")
    return out


def draw_paths(paths: tuple[RequestPath, ...], titled: bool) -> Text:
    """Every stack's path; each under its Gateway's namespace/name when ``titled`` or when
    there is more than one."""
    out = Text()
    for i, path in enumerate(paths):
        if i:
            out.append("\n")
        if path.title and (titled or len(paths) > 1):
            out.append(f"Stack {path.title}\n", style="bold underline")
        out.append_text(draw_path(path.hops))
    return out


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

    @property
    def hops(self) -> tuple[Hop, ...]:
        """The hops of the first stack shown (the configured one, watching one namespace)."""
        return self.paths[0].hops if self.paths else ()

    def compose(self) -> ComposeResult:
        """Notice and the path."""
        yield self.notice
        with VerticalScroll():
            yield self.body

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Redraw when the path changed."""
        if not snapshot.touched(*PATH_KINDS):
            return
        self.show_notice(self.status_notice(snapshot))
        if snapshot.paths == self.paths and snapshot.changes is not None:
            return
        self.paths = snapshot.paths
        self.body.update(draw_paths(self.paths, titled=snapshot.namespace is None))
        bad = snapshot.problems
        self.border_subtitle = "healthy" if not bad else f"{len(bad)} problem(s)"
