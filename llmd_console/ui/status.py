"""The status bar: context, namespace, connection, read-only flag, data age, layout."""

from __future__ import annotations

from rich.text import Text

from llmd_console.models import Connection, Phase
from llmd_console.sanitize import one_line
from llmd_console.ui.quiet import QuietStatic
from llmd_console.views.common import human_age

PHASE_STYLE = {Phase.CONNECTED: "green", Phase.CONNECTING: "yellow"}


class StatusBar(QuietStatic):
    """One line at the top of the screen."""

    def draw(
        self,
        *,
        context: str,
        namespace: str,
        connection: Connection,
        read_only: bool,
        data_age: float | None,
        layout: str,
        demo: bool,
    ) -> None:
        """Redraw with the given facts."""
        text = Text(no_wrap=True, overflow="ellipsis")
        narrow = self.size.width and self.size.width < 120
        if demo:
            text.append(" DEMO ", style="bold black on yellow")
            if not narrow:
                text.append(" simulated cluster ", style="yellow")
        text.append(" ctx ", style="dim")
        text.append(one_line(context, 60) or "-", style="bold")
        text.append("  ns ", style="dim")
        text.append(one_line(namespace, 30 if narrow else 60), style="bold")
        words = connection.label
        if connection.phase is Phase.RECONNECTING:
            words = "disconnected, retrying"
        if connection.reason and connection.phase is not Phase.CONNECTED:
            words += f": {connection.reason}"
        text.append(f"  ● {one_line(words, 80)}", style=PHASE_STYLE.get(connection.phase, "bold red"))
        if connection.forbidden:
            text.append(f"  forbidden: {one_line(', '.join(sorted(connection.forbidden)), 40)}", style="yellow")
        if read_only:
            text.append("  READ-ONLY", style="bold magenta")
        if data_age is not None:
            text.append(f"  data {human_age(data_age)} old", style="dim" if data_age < 30 else "yellow")
        if not narrow:
            text.append(f"  layout {layout}", style="dim")
        self.show(text)
