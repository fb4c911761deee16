"""The action bar: one line above the footer while a cluster action runs (what it is waiting
for, how long it has run), then its outcome for a while; the whole progress of the last action
is kept for the action log (``a``)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rich.text import Text

from llmd_console.sanitize import one_line
from llmd_console.ui.quiet import QuietStatic

MAX_LINES = 500  # progress lines kept for the action log
SHOW_DONE = 20.0  # seconds an outcome stays on the bar (a failure: until the next action)


class ActionBar(QuietStatic):
    """What the running (or last) action is doing."""

    def __init__(self, now: Callable[[], float] = time.monotonic, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self.title = ""
        self.state = ""  # preparing | running | done | failed | cancelled | refused | ""
        self._before = ("", "")  # the state and detail a preparation covers for a moment
        self._preparation: object = None  # the preparation under way
        self.detail = ""
        self.started = 0.0
        self.ended = 0.0
        self.lines: deque[str] = deque(maxlen=MAX_LINES)

    @property
    def running(self) -> bool:
        """An action is under way."""
        return self.state == "running"

    def preparing(self, what: str) -> object:
        """A key was pressed and its plan is read from the cluster (the API's permission, a node
        pool, the dry runs): said at once, until its dialog opens or it is refused. Returns the
        token that ends this preparation (not a later one's)."""
        if self.state != "preparing":
            self._before = (self.state, self.detail)
        self.state, self.detail = "preparing", what
        self._preparation = token = object()
        self.redraw()
        return token

    def prepared(self, token: object) -> None:
        """The preparation ``token`` ended (a dialog opened, or it was refused, or a later key
        replaced it): the bar is as it was, unless a later preparation is under way."""
        if self.state == "preparing" and token is self._preparation:
            self.state, self.detail = self._before
            self.redraw()

    def begin(self, title: str) -> None:
        """A confirmed action starts."""
        self.title, self.state, self.detail = title, "running", "starting"
        self.started = self._now()
        self.lines.clear()
        self.note(f"{title}: started")
        self.redraw()

    def progress(self, detail: str) -> None:
        """What the action is doing or waiting for now."""
        self.detail = detail
        self.note(detail)
        self.redraw()

    def end(self, state: str, message: str) -> None:
        """The action ended; its message stays on the bar for a while."""
        self.state, self.detail = state, message
        self.ended = self._now()
        self.note(f"{state}: {message}")
        self.redraw()

    def note(self, line: str) -> None:
        """One line for the action log, with the seconds since the action started."""
        self.lines.append(f"+{self._now() - self.started:6.1f}s  {one_line(line, 2000)}")

    def redraw(self) -> None:
        """Draw (every second while running: the elapsed time moves)."""
        if not self.state or (self.state == "done" and self._now() - self.ended > SHOW_DONE):
            self.remove_class("-shown")
            return
        self.add_class("-shown")
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.state == "preparing":
            text.append(" … ", style="bold black on cyan")
            text.append(f" {one_line(self.detail, 300)}", style="dim")
            self.show(text)
            return
        if self.state == "running":
            text.append(" ▶ ", style="bold black on cyan")
            text.append(f" {one_line(self.title, 100)} ", style="bold")
            text.append(f"{self._now() - self.started:.0f}s ", style="dim")
            text.append(one_line(self.detail, 300))
        else:
            mark, style = {"done": ("✓", "bold green"), "cancelled": ("·", "dim")}.get(self.state, ("✗", "bold red"))
            text.append(f" {mark} {one_line(self.detail, 400)}", style=style)
        text.append("   a: action log", style="dim")
        self.show(text)
