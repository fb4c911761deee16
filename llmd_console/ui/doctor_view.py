"""The doctor on screen: the problems strip (one line, in every layout and while a pane is
zoomed) and the doctor view (every finding by severity, its evidence quoted and its fix),
as a screen opened with ``!`` and as a pane a layout can hold.

Titles, quotes and commands come from the cluster: they are shown as text, never markup,
each bounded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from llmd_console.doctor.findings import Finding
from llmd_console.doctor.summary import Summary
from llmd_console.sanitize import one_line
from llmd_console.ui.footer import HintsFooter
from llmd_console.ui.quiet import QuietStatic

MARKS = {"error": ("✗", "bold red"), "warning": ("▲", "bold yellow"), "info": ("●", "cyan")}
STATE_STYLE = {"healthy": "green", "starting": "cyan", "waiting": "dim", "warning": "yellow", "error": "bold red"}
MAX_SHOWN = 100  # findings listed (the engine returns at most 200)
MAX_QUOTES = 4  # evidence quoted per finding
TITLE_CHARS, QUOTE_CHARS, FIX_CHARS = 300, 300, 600
LIST_QUOTE_CHARS = 200  # in the list; the detail below quotes each piece up to QUOTE_CHARS


def counts_text(summary: Summary) -> Text:
    """``2 errors 1 warning`` in their colours (empty when there is nothing)."""
    out = Text()
    for level in ("error", "warning", "info"):
        n = summary.counts.get(level, 0)
        if n:
            mark, style = MARKS[level]
            out.append(f"{mark} {n} {level}{'s' if n != 1 else ''} ", style=style)
    return out


def strip_text(summary: Summary, width: int = 0) -> Text:
    """The strip: the counts and the worst finding's title (or what is starting, or healthy);
    within ``width`` cells (0: any) the title is cut, not the hint that says where the fix is."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" doctor ", style="bold")
    hint = ""
    if summary.state in ("healthy", "waiting", "starting"):
        hint = "  (! for details)" if summary.state == "starting" else ""
    else:
        text.append_text(counts_text(summary))
        hint = "  (! for the fix)"
    headline = one_line(summary.headline, TITLE_CHARS)
    room = width - text.cell_len - len(hint)
    if width and hint and 8 < room < len(headline):
        headline = headline[: room - 1] + "…"
    text.append(headline, style=STATE_STYLE.get(summary.state, ""))
    text.append(hint, style="dim")
    return text


class ProblemsStrip(QuietStatic):
    """One line under the status bar: how many problems, and the worst."""

    DEFAULT_CSS = """
    ProblemsStrip {
        height: 1;
        background: $panel;
    }
    """

    _summary: Summary | None = None

    def draw(self, summary: Summary) -> None:
        """Show ``summary``."""
        self._summary = summary
        self.show(strip_text(summary, self.size.width))

    def on_resize(self) -> None:
        """The title is cut to the new width."""
        if self._summary is not None:
            self.show(strip_text(self._summary, self.size.width))


def _line(gutter: str, body: Text, gutter_style: str = "dim") -> Table:
    """``gutter`` then ``body``, which wraps under its own start (a hanging indent)."""
    grid = Table.grid(padding=0, expand=True)
    grid.add_column(no_wrap=True, width=len(gutter))
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row(Text(gutter, style=gutter_style), body)
    return grid


def finding_lines(finding: Finding, *, quotes: int = 1) -> RenderableType:
    """A finding as its title, its first ``quotes`` pieces of evidence and its fix commands."""
    mark, style = MARKS.get(finding.severity, ("?", ""))
    lines: list[RenderableType] = [
        _line(f"{mark} ", Text(one_line(finding.title, TITLE_CHARS), style=style), style),
    ]
    for quote in finding.evidence[:quotes]:
        if quote.text in finding.title:
            continue  # a hop's problem: the title already says it
        lines.append(_line("  ❝ ", Text(one_line(quote.text, LIST_QUOTE_CHARS), style="italic")))
    for command in finding.fix:
        lines.append(_line("  $ ", Text(one_line(command, FIX_CHARS), style="cyan"), "bold"))
    return Group(*lines)


def detail_text(finding: Finding | None) -> RenderableType:
    """The highlighted finding's evidence in full (up to ``MAX_QUOTES``) and what its keys do."""
    if finding is None:
        return Text("")
    lines: list[RenderableType] = []
    for quote in finding.evidence[:MAX_QUOTES]:
        said = Text(f"{one_line(quote.kind, 40)} {one_line(quote.name, 120)}: ", no_wrap=True, overflow="ellipsis")
        said.stylize("bold")
        said.append(one_line(quote.text, QUOTE_CHARS))
        lines.append(said)
    keys = Text("enter: go to it", style="dim")
    if finding.fix:
        keys.append("  c: copy the fix", style="dim")
    if finding.action:
        keys.append(f"  a: {one_line(finding.action, 40)} (with its preview)", style="dim")
    lines.append(keys)
    return Group(*lines)


@dataclass
class FindingChosen(Message):
    """The operator chose a finding in a doctor view: go to the object it is about."""

    finding: Finding


class DoctorView(Vertical):
    """Findings worst first (symptoms after their causes), each with its first piece of evidence
    and its fix; below, the highlighted one's evidence in full. Enter goes to the object,
    ``c`` copies the fix (OSC 52), ``a`` offers the console action that applies it."""

    DEFAULT_CSS = """
    DoctorView { height: 1fr; }
    DoctorView > #doctor-head { height: 1; }
    DoctorView > OptionList, DoctorView > OptionList:focus { height: 1fr; border: none; padding: 0; }
    DoctorView > #doctor-detail { height: auto; max-height: 6; border-top: hkey $primary 30%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "jump", "Go to", id="doctor-jump", tooltip="Go to the object the finding is about"),
        Binding("c", "copy_fix", "Copy fix", id="doctor-copy", tooltip="Copy the fix commands (OSC 52)"),
        Binding("a", "fix_action", "Action", id="doctor-action", tooltip="Offer the console action that fixes it"),
    ]

    def __init__(self, *, id: str | None = None, title: str = "") -> None:
        super().__init__(id=id)
        self.title = title  # said before the counts (the screen has no border to say it)
        self.findings: tuple[Finding, ...] = ()  # as listed now
        self._latest: tuple[Finding, ...] = ()  # as last evaluated (listed once mounted)
        self.summary: Summary | None = None
        self.head = QuietStatic("", id="doctor-head")
        self.options = OptionList(id="doctor-list")
        self.detail = Static("", id="doctor-detail")

    def compose(self) -> ComposeResult:
        """Head, list, detail."""
        yield self.head
        yield self.options
        yield self.detail

    def on_mount(self) -> None:
        """Draw what is known."""
        self._draw()

    @property
    def highlighted(self) -> Finding | None:
        """The finding under the cursor."""
        index = self.options.highlighted
        return self.findings[index] if index is not None and 0 <= index < len(self.findings) else None

    def show_findings(self, summary: Summary, findings: Sequence[Finding]) -> None:
        """Redraw with ``findings`` (the cursor stays on the same finding when it is still there)."""
        self.summary = summary
        self._latest = tuple(findings)
        if self.is_mounted:
            self._draw()

    def _draw(self) -> None:
        summary, findings = self.summary, self._latest
        if summary is None:
            return
        shown = findings[:MAX_SHOWN]
        head = Text(no_wrap=True, overflow="ellipsis")
        if self.title:
            head.append(f"{self.title}  ", style="bold")
        head.append_text(counts_text(summary) if findings else Text())
        if summary.state in ("healthy", "starting", "waiting"):
            head.append(one_line(summary.headline, TITLE_CHARS), style=STATE_STYLE[summary.state])
        elif len(findings) > MAX_SHOWN:
            head.append(f"(the first {MAX_SHOWN} shown)", style="dim")
        self.head.show(head)
        if shown == self.findings and self.options.option_count == len(shown):
            self._draw_detail()
            return
        keep = self.highlighted
        self.findings = shown
        self.options.clear_options()
        self.options.add_options([Option(finding_lines(f)) for f in shown])
        if shown:
            at = next((i for i, f in enumerate(shown) if keep is not None and _same(f, keep)), 0)
            self.options.highlighted = at
        self._draw_detail()

    def _draw_detail(self) -> None:
        self.detail.update(detail_text(self.highlighted))
        self.detail.display = self.highlighted is not None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """The detail follows the cursor."""
        event.stop()
        self._draw_detail()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter (or a click) on a finding: go to its object."""
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        """Go to the object the highlighted finding is about."""
        finding = self.highlighted
        if finding is None:
            self.notify("no finding selected", severity="information")
            return
        self.post_message(FindingChosen(finding))

    def action_copy_fix(self) -> None:
        """Copy the highlighted finding's fix commands to the clipboard (OSC 52: works over SSH)."""
        finding = self.highlighted
        if finding is None or not finding.fix:
            self.notify("this finding has no fix command to copy", severity="information")
            return
        self.app.copy_to_clipboard("\n".join(finding.fix) + "\n")
        n = len(finding.fix)
        self.notify(f"copied {n} fix command{'s' if n != 1 else ''} to the clipboard (OSC 52)", timeout=4)

    def action_fix_action(self) -> None:
        """Ask the console for the action that applies the fix (it shows the preview first)."""
        from llmd_console.ui.messages import ActionRequested  # noqa: PLC0415

        finding = self.highlighted
        if finding is None or not finding.action:
            self.notify("the console has no action for this finding: copy its fix (c)", severity="information")
            return
        subject = finding.subject
        if finding.action == "scale-node-pool" or subject is None:
            # The pool is the action's default target (the configured accelerator pool).
            self.post_message(ActionRequested(finding.action))
            return
        self.post_message(ActionRequested(finding.action, subject.kind, subject.namespace, subject.name))


def _same(a: Finding, b: Finding) -> bool:
    return a.id == b.id and a.subject == b.subject


class DoctorScreen(Screen[None]):
    """The doctor view on the whole screen (``!`` or Escape closes it)."""

    DEFAULT_CSS = """
    DoctorScreen #doctor-head { background: $panel; }
    DoctorScreen > #doctor-footer { height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,exclamation_mark", "close", "Close", id="doctor-close"),
    ]

    def __init__(self, summary: Summary, findings: Sequence[Finding]) -> None:
        super().__init__(id="doctor-screen")
        self.view = DoctorView(id="doctor-view", title=" Doctor: what is wrong, the evidence and the fix")
        self.view.show_findings(summary, findings)

    def compose(self) -> ComposeResult:
        """The view and the keys."""
        yield self.view
        yield HintsFooter(id="doctor-footer")

    def on_mount(self) -> None:
        """The list takes the keys."""
        self.view.options.focus()

    def action_close(self) -> None:
        """Back to the layout."""
        self.dismiss(None)
