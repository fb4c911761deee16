"""The replay's time slider: one line with the play state, the speed, the recorded time, the
slider with the moments marked, the position and the length."""

from __future__ import annotations

from rich.text import Text
from textual import events

from llmd_console.recording.player import Player, clock
from llmd_console.ui.quiet import QuietStatic


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class ReplayBar(QuietStatic):
    """The slider; a click on it jumps there."""

    DEFAULT_CSS = """
    ReplayBar {
        height: 1;
        width: 1fr;
        background: $boost;
    }
    """

    def __init__(self, player: Player, *, id: str | None = None) -> None:
        """Draws ``player``'s position."""
        super().__init__("", id=id)
        self.player = player
        self.paused = False
        self.speed = 1.0
        self.note = ""  # how the replay ended, when it ended early
        self.slider_span = (0, 0)  # the slider's first column and width, for clicks

    def draw(self) -> None:
        """Redraw from the player's position."""
        p = self.player
        width = self.size.width or 80
        left = Text(no_wrap=True)
        left.append(" ⏸ " if self.paused else " ▶ ", style="bold")
        left.append(f"x{self.speed:g} ", style="bold")
        left.append(clock(p.now), style="bold cyan")
        right = Text(f" {_span(p.position)}/{_span(p.duration)} ", no_wrap=True)
        if self.note:
            right.append(f" {self.note} ", style="bold black on yellow")
        elif width >= 100:
            right.append(" space pause  ,. step  <> moment  {} finding  +- speed ", style="dim")
        slider = max(10, width - left.cell_len - right.cell_len - 2)
        self.slider_span = (left.cell_len + 1, slider)
        cells = ["─"] * slider
        scale = (slider - 1) / p.duration if p.duration > 0 else 0.0
        for moment in p.moments:
            # Clamped: a moment may sit past the last record's time (findings noted as the file ends).
            at = min(slider - 1, max(0, round(moment.t * scale)))
            cells[at] = "◆" if moment.finding else "┃"
        at = round(p.position * scale)
        text = left + Text(" ")
        text.append("".join(cells[:at]), style="cyan")
        text.append("●", style="bold cyan")
        text.append("".join(cells[at + 1 :]), style="dim")
        self.show(text + Text(" ") + right)

    def fraction_at(self, x: int) -> float | None:
        """Where on the recording column ``x`` of the bar is (None: off the slider)."""
        start, width = self.slider_span
        if width <= 1 or not start <= x < start + width:
            return None
        return (x - start) / (width - 1)

    def on_click(self, event: events.Click) -> None:
        """A click on the slider asks the app to jump there."""
        fraction = self.fraction_at(event.x)
        if fraction is not None:
            self.app.call_later(self.app.run_action, f"seek({fraction:.4f})")
