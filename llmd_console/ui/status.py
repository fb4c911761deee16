"""The status bar: context, namespace, connection, read-only flag, data age, layout."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from rich.text import Text

from llmd_console.metrics.alerts import Alert
from llmd_console.models import Connection, Phase
from llmd_console.sanitize import one_line
from llmd_console.ui.quiet import QuietStatic
from llmd_console.views.common import human_age

PHASE_STYLE = {Phase.CONNECTED: "green", Phase.CONNECTING: "yellow"}


def connection_words(connection: Connection, now: float) -> str:
    """The connection in one phrase: what is wrong, since when, when the next try is, and why."""
    if connection.phase is Phase.RECONNECTING:
        since = time.strftime("%H:%M:%S", time.localtime(connection.since)) if connection.since else "?"
        words = f"API server unreachable since {since}"
        if connection.retry_at is not None:
            left = math.ceil(connection.retry_at - now)
            words += f", retrying in {left}s" if left > 0 else ", retrying now"
        else:
            words += ", retrying"
        return words + (f" ({connection.reason})" if connection.reason else "")
    if connection.reason and connection.phase is not Phase.CONNECTED:
        return f"{connection.label}: {connection.reason}"
    return connection.label


class StatusBar(QuietStatic):
    """One line at the top of the screen."""

    badge: Text | None = None  # shown first, set by the app: REC while recording, REPLAY and its time

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
        now: float,
        alerts: Sequence[Alert] = (),
        scenario: str | None = None,
    ) -> None:
        """Redraw with the given facts."""
        text = Text(no_wrap=True, overflow="ellipsis")
        narrow = self.size.width and self.size.width < 120
        if self.badge is not None:
            text.append_text(self.badge)
        if demo:
            text.append(" DEMO ", style="bold black on yellow")
            if not narrow and not scenario:
                text.append(" simulated cluster ", style="yellow")
        if scenario:
            text.append(f" fault: {one_line(scenario, 40)} ", style="bold white on dark_red")
        text.append(" ctx ", style="dim")
        text.append(one_line(context, 60) or "-", style="bold")
        text.append("  ns ", style="dim")
        text.append(one_line(namespace, 30 if narrow else 60), style="bold")
        words = connection_words(connection, now)
        text.append(f"  ● {one_line(words, 160)}", style=PHASE_STYLE.get(connection.phase, "bold red"))
        if connection.forbidden:
            text.append(f"  forbidden: {one_line(', '.join(sorted(connection.forbidden)), 40)}", style="yellow")
        firing = [a for a in alerts if a.firing]
        if firing:
            worst = "critical" if any(a.severity == "critical" for a in firing) else "warning"
            text.append(
                f"  ▲ {len(firing)} alert{'s' if len(firing) > 1 else ''}: {one_line(firing[0].summary, 60)}",
                style="bold red" if worst == "critical" else "bold yellow",
            )
        if read_only:
            text.append("  READ-ONLY", style="bold magenta")
        if data_age is not None:
            text.append(f"  data {human_age(data_age)} old", style="dim" if data_age < 30 else "yellow")
        if not narrow:
            text.append(f"  layout {layout}", style="dim")
        self.show(text)
