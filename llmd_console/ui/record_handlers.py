"""Recording what the console receives (a mixin of ``ConsoleApp``): started by ``--record FILE``
or the record key, fed by the session (as its observer) and by the app (log chunks, metric
rounds, prompt results, findings), stopped by the key again, by its
size limit, or on exit."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App

from llmd_console.recording.format import DEFAULT_LIMIT_BYTES

if TYPE_CHECKING:
    from llmd_console.config import Config
    from llmd_console.doctor.findings import Finding
    from llmd_console.inference.request import Outcome
    from llmd_console.metrics.alerts import Alert
    from llmd_console.metrics.readings import Feed
    from llmd_console.models import LogChunk
    from llmd_console.recording.recorder import Recorder
    from llmd_console.session import Session
    from llmd_console.ui.panes.base import Pane
    from llmd_console.ui.status import StatusBar


class RecordHandlers(App[int]):
    """Start, feed and stop the recorder."""

    config: Config
    session: Session
    demo: bool
    status_bar: StatusBar
    panes: dict[str, Pane]
    recorder: Recorder | None = None
    record_limit_bytes: int = DEFAULT_LIMIT_BYTES

    def start_recording(self, path: Path, limit_bytes: int | None = None) -> str:
        """Record into ``path`` from now on: "" when started, else why not (the file cannot be
        written). What the console already knows is written first, as one relist."""
        from llmd_console.recording.recorder import Recorder  # noqa: PLC0415 - only when recording

        self.stop_recording()
        session = self.session
        try:
            recorder = Recorder(
                path,
                context=session.connection.context or (session.target.context or ""),
                namespace=session.watched_namespace,
                source="demo" if self.demo else "console",
                limit_bytes=limit_bytes or self.record_limit_bytes,
                now=getattr(self, "now", time.time),
            )
        except OSError as exc:
            return f"cannot record into {path}: {exc.strerror or exc}"
        state = session.state
        recorder.start_state({k: state.raw(k) for k in state.kinds}, state.snapshot.kinds, session.watched_namespace)
        recorder.connection(session.connection)
        self._record_kept_log(recorder)
        if recorder.stopped:
            return f"recording into {path} stopped at once: {recorder.stopped}"
        recorder.on_stop = self._recording_stopped
        self.recorder = recorder
        session.observer = recorder
        self.status_bar.badge = Text(" ● REC ", style="bold white on red")
        self._redraw_status()
        return ""

    def _record_kept_log(self, recorder: Recorder) -> None:
        """The log the logs pane already shows (its container and lines): the stream only sends
        what is new, so without this a recording begun on a quiet pod has no log, nor its
        container's name."""
        from llmd_console.ui.panes.logs import LogsPane  # noqa: PLC0415 - the app has loaded it by now

        pane = self.panes.get("logs")  # none yet when recording from the start (--record)
        chunk = pane.kept() if isinstance(pane, LogsPane) else None
        if chunk is not None:
            recorder.log(chunk)

    def stop_recording(self, reason: str = "stopped") -> Path | None:
        """Finish the file (if recording); returns its path."""
        recorder = self.recorder
        if recorder is None:
            return None
        self.recorder = None
        self.status_bar.badge = None
        self._redraw_status()
        if self.session.observer is recorder:
            self.session.observer = None
        recorder.close(reason)
        return recorder.path

    def _redraw_status(self) -> None:
        if self.status_bar.is_mounted and not self._exit:  # not while the app is closing
            self._draw_status()

    def _draw_status(self) -> None:
        """Redraw the status bar (the app's own does)."""

    def _recording_stopped(self, reason: str) -> None:
        """The recorder stopped by itself (its size limit): say so once."""
        path = self.stop_recording(reason)
        if path is not None:
            self.notify(f"recording stopped: {reason}; {path} is complete up to here", severity="warning", timeout=15)

    def action_toggle_recording(self) -> None:
        """Start recording (into a dated file in ``ui.screenshot_dir``), or stop."""
        if self.recorder is not None:
            path = self.stop_recording()
            self.notify(f"recording saved: {path}", timeout=8)
            return
        # Where the console's other captures (screenshots) go.
        directory = Path(self.config.ui.screenshot_dir).expanduser().absolute()  # the toast says where, wholly
        path = directory / time.strftime("llmd-console-%Y%m%d-%H%M%S.rec.gz")
        error = self.start_recording(path)
        if error:
            self.notify(error, severity="error", timeout=10)
        else:
            self.notify(f"recording into {path} (the same key stops)", timeout=8)

    # ---- what the app receives ------------------------------------------------------------------
    def record_log(self, chunk: LogChunk) -> None:
        """A log chunk the logs pane received."""
        if self.recorder is not None:
            self.recorder.log(chunk)

    def record_metrics(self, feed: Feed, alerts: Sequence[Alert]) -> None:
        """A metrics round."""
        if self.recorder is not None:
            self.recorder.metrics(feed, alerts)

    def record_findings(self, findings: Sequence[Finding]) -> None:
        """The doctor's findings (written when they changed)."""
        if self.recorder is not None:
            self.recorder.findings(findings)

    def record_mark(self, text: str) -> None:
        """A moment worth jumping to (a fault switched on or off), in words."""
        if self.recorder is not None:
            self.recorder.mark(text)

    def record_prompt(self, outcome: Outcome) -> None:
        """A prompt's result."""
        if self.recorder is not None:
            self.recorder.prompt(outcome)
