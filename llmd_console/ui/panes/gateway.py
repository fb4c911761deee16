"""The request path, hop by hop, each with a status light and, when unhealthy, the
failing condition in words and the fix."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from llmd_console.doctor.findings import Finding
from llmd_console.doctor.summary import Summary
from llmd_console.models import Hop, RequestPath, Snapshot
from llmd_console.sanitize import one_line
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import register_pane
from llmd_console.views.gateway import PATH_KINDS, SYMPTOMS

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


def path_findings(paths: tuple[RequestPath, ...], findings: Sequence[Finding]) -> list[Finding]:
    """The doctor's request-path findings that no hop shows (a backendRef's group, a selector's
    near miss, a target port, the EPP Service's ports): the same rules as the doctor view."""
    shown = {hop.code for path in paths for hop in path.hops if hop.code}
    return [f for f in findings if f.area == "request path" and f.id not in shown]


def findings_lines(findings: Sequence[Finding]) -> list[RenderableType]:
    """The path's other findings, each with its fix, under the hops."""
    if not findings:
        return []
    lines: list[RenderableType] = [Text(""), Text("Doctor, on this path", style="bold underline")]
    for finding in findings[:20]:
        symbol, style = LIGHTS.get(finding.severity, LIGHTS["error"])
        lines.append(hanging(Text(f"{symbol} ", style=style), Text(one_line(finding.title, 300), style=style)))
        for command in finding.fix[:4]:
            lines.append(hanging(Text("    fix: ", style="bold"), Text(one_line(command, 600), style="cyan")))
    return lines


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
        self._doctor: tuple[Finding, ...] = ()  # all the doctor's findings of its last round
        self._drawing = Group()
        self._first_problem: tuple[str, str] | None = None  # (kind, name) of the hop scrolled to
        self._pending: tuple[str, int] | None = None  # a scroll asked for before the pane was laid out

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The doctor's findings on the path that no hop shows: which those are depends on the
        hops, so they follow a new path at once, not the doctor's next round."""
        return tuple(path_findings(self.paths, self._doctor))

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
        """Only the scroll container scrolls: neither the pane around it nor the path inside it; a
        scroll to the first problem waits for the path's height."""
        self.watch(self.query_one("#gateway-scroll", VerticalScroll), "virtual_size", self._laid_out, init=False)
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
        self._draw()

    def _draw(self) -> None:
        lines = draw_paths(self.paths, titled=self.snapshot.namespace is None).renderables
        extra = self.findings
        self._drawing = Group(*lines, *findings_lines(extra))
        self.body.update(self._drawing)
        self.border_subtitle = problems_title(len(self.snapshot.problems) + len(extra))
        problems = [h for p in self.paths for h in p.hops if h.problem]
        # The cause rather than its consequences (the Gateway's "0 attached routes" when the route is gone).
        causes = [h for h in problems if h.code not in SYMPTOMS] or problems
        first = (causes[0].kind, causes[0].name) if causes else None
        if first != self._first_problem:
            # Opened at the first problem: a new first failing hop is scrolled to the top.
            self._first_problem = first
            if first is not None:
                self.call_after_refresh(self.show_object, first[0], "", first[1])
            else:  # all healthy again: from the top
                self.query_one("#gateway-scroll", VerticalScroll).scroll_home(animate=False)

    def doctor_round(self, summary: Summary, findings: Sequence[Finding]) -> None:
        """The doctor's path findings that the hops do not show, drawn under the hops."""
        del summary
        before = self.findings
        self._doctor = tuple(findings)
        if self.findings != before:
            self._draw()

    def show_object(self, kind: str, namespace: str, name: str) -> None:
        """Scroll so that the hop of that object is at the top (``kind`` a hop's or an object's)."""
        hop_kind = {"Deployment": "EPP"}.get(kind, kind)
        stack = 0
        for path in self.paths:
            if namespace and path.title and not path.title.startswith(f"{namespace}/"):
                stack += 1
                continue
            hop = next((h for h in path.hops if h.kind == hop_kind and name in (h.name, "")), None)
            if hop is not None:
                self._scroll_to_line(f"{hop.kind} {hop.name}", stack)
                return
            stack += 1

    def _scroll_to_line(self, head: str, stack: int) -> None:
        """Scroll to the ``stack``-th stack's line that starts with ``head`` (after its light). Until
        the path just drawn is laid out (its height known), the scroll waits for it."""
        scroll = self.query_one("#gateway-scroll", VerticalScroll)
        self._pending = (head, stack)
        if not scroll.size.height or not self.body.content_region.width:
            return
        seen = -1
        lines = self.shown_text().splitlines()
        for row, line in enumerate(lines):
            if line.startswith("Stack "):
                seen += 1
            if line[2:].startswith(head) and seen <= stack:
                if row > scroll.max_scroll_y and scroll.max_scroll_y < len(lines) - scroll.size.height:
                    return  # not laid out yet: again when the scroll's content size changes
                scroll.scroll_to(y=row, animate=False)
                break
        self._pending = None

    def _laid_out(self) -> None:
        """The pane or its path changed size: a scroll asked for before can be done now."""
        if self._pending is not None:
            self.call_after_refresh(self._scroll_to_line, *self._pending)

    def on_resize(self) -> None:
        """Laid out again."""
        self._laid_out()
