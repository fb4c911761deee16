"""Live logs of the selected pod: follow/pause, tail size, previous container,
container choice, regex filter that highlights (or hides), timestamps, save; and
for vLLM pods the startup tracker. Memory is bounded by ``max_lines`` whatever the
pod prints, and every line is made inert before it is drawn."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.highlighter import Highlighter
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Log, Static

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import LogsConfig
from llmd_console.sanitize import inert, one_line
from llmd_console.state import Changes, ClusterState
from llmd_console.ui.filter_box import FilterBox
from llmd_console.ui.panes.base import Pane
from llmd_console.views.common import human_age
from llmd_console.views.startup import StartupTracker, probe_budget, split_timestamp

if TYPE_CHECKING:
    from textual.worker import Worker

TAILS = (100, 500, 2000, 10000)
FLUSH_SECONDS = 0.05
_LEVEL = re.compile(r"\b(ERROR|CRITICAL|FATAL|Traceback|WARNING|WARN)\b|\"level\":\"(error|warn)\"")
STATE_STYLE = {"done": "green", "running": "yellow", "failed": "bold red", "pending": "dim"}


def _rfc3339(at: float) -> str:
    """Second-precision RFC 3339, as ``sinceTime`` takes it (lines at or before ``at`` are skipped)."""
    return datetime.fromtimestamp(int(at), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Seen:
    """Where a log stream got to, so a reconnect resumes without repeating lines.

    ``sinceTime`` has second precision, so a resumed stream starts with lines already
    shown: skip those at or before the last timestamp, counting lines that share it."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.at_last = 0  # lines shown with timestamp == last
        self._skip_until: tuple[float, int] | None = None

    def resume_from(self) -> str | None:
        """``sinceTime`` for the next request (None: the first one, which uses the tail)."""
        if self.last is None:
            return None
        self._skip_until = (self.last, self.at_last)
        return _rfc3339(self.last)

    def repeated(self, at: float | None) -> bool:
        """Record a line; True if it was shown before the reconnect."""
        if at is None:
            return False
        if self._skip_until is not None:
            last, count = self._skip_until
            if at < last:
                return True
            if at == last and count > 0:
                self._skip_until = (last, count - 1)
                return True
            self._skip_until = None
        if at == self.last:
            self.at_last += 1
        else:
            self.last, self.at_last = at, 1
        return False


class LineHighlighter(Highlighter):
    """Colours error and warning lines, and marks every match of the filter."""

    def __init__(self) -> None:
        self.pattern: re.Pattern[str] | None = None

    def highlight(self, text: Text) -> None:
        """Style one line in place."""
        plain = text.plain
        level = _LEVEL.search(plain)
        if level:
            word = (level.group(1) or level.group(2) or "").upper()
            text.stylize("red" if word.startswith(("ERR", "CRIT", "FAT", "TRACE")) else "yellow")
        if self.pattern is not None:
            for match in self.pattern.finditer(plain):
                if match.end() > match.start():
                    text.stylize("bold reverse", match.start(), match.end())


@dataclass(frozen=True)
class Target:
    """Whose log is shown."""

    namespace: str
    pod: str
    container: str
    previous: bool
    tail: int


class LogsPane(Pane):
    """A pod's log, live."""

    pane_id = "logs"
    title = "Logs"
    kinds = ("pods",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "follow", "Follow/pause", id="logs.follow", tooltip="Pause or resume the live log"),
        Binding("slash", "filter", "Filter", id="logs.filter", tooltip="Highlight lines matching a regex"),
        Binding("h", "hide", "Hide non-matching", id="logs.hide", tooltip="Toggle hiding lines the filter misses"),
        Binding("p", "previous", "Previous", id="logs.previous", tooltip="Log of the previous container instance"),
        Binding("c", "container", "Container", id="logs.container", tooltip="Next container of the pod"),
        Binding("t", "tail", "Tail size", id="logs.tail", tooltip="Cycle how many lines are fetched"),
        Binding("T", "timestamps", "Timestamps", id="logs.timestamps", tooltip="Show the kubelet's timestamps"),
        Binding("s", "save", "Save", id="logs.save", tooltip="Write the lines kept to a file"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="logs.clear_filter"),
    ]

    def __init__(
        self,
        config: LogsConfig,
        client: Callable[[], KubeClient | None],
        now: Callable[[], float] = time.time,
        time_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.config = config
        self.client = client
        self.now = now
        self.time_scale = time_scale  # a simulated cluster's speed-up, for the probe budget
        self.header = Static("", id="logs-header")
        self.startup = Static("", id="startup-tracker")
        self.filter_input = FilterBox("regex to highlight (h: hide the rest)", "logs-filter")
        self.log_view = Log(max_lines=config.max_lines, highlight=True, id="log-view")
        self.highlighter = LineHighlighter()
        self.log_view.highlighter = self.highlighter
        self.lines: deque[tuple[float | None, str]] = deque(maxlen=config.max_lines)
        self._pending: list[tuple[float | None, str]] = []
        self.tracker = StartupTracker()
        self.target: Target | None = None
        self.following = True
        self.hide = False
        self.timestamps = config.timestamps
        self.tail = config.tail
        self.previous = False
        self.container: str | None = None
        self.stream_state = "no pod selected"
        self._worker: Worker[None] | None = None
        self.received = 0
        self.skipped = 0  # lines a pod printed faster than they could be kept
        self._instance: str | None = None  # containerID of the instance being followed

    def compose(self) -> ComposeResult:
        """Header, startup tracker, filter, the log."""
        yield self.notice
        yield self.header
        yield self.startup
        yield self.filter_input
        yield self.log_view

    def on_mount(self) -> None:
        """Flush new lines in batches."""
        self.set_interval(FLUSH_SECONDS, self._flush)
        self.set_interval(1.0, self._draw_startup)
        self._draw_header()

    # ---- following a pod -------------------------------------------------------
    def show_pod(self, key: str) -> None:
        """Switch to pod ``key`` (namespace/name)."""
        ns, _, pod = key.partition("/")
        if self.target is not None and (self.target.namespace, self.target.pod) == (ns, pod):
            return
        self.container = None
        self.previous = False
        self._restart(ns, pod)

    def _containers(self, ns: str, pod: str) -> list[str]:
        obj = (self._state.of("pods").get(f"{ns}/{pod}") if self._state else None) or {}
        return [str(c.get("name", "")) for c in (obj.get("spec") or {}).get("containers") or []]

    def _restart(self, ns: str, pod: str) -> None:
        containers = self._containers(ns, pod)
        if self.container not in containers:
            self.container = containers[0] if containers else None
        self.target = Target(ns, pod, self.container or "", self.previous, self.tail)
        self.lines.clear()
        self._pending.clear()
        self.skipped = 0
        self._instance = None
        self.tracker.reset()
        self.log_view.clear()
        self.stream_state = "connecting"
        self._draw_header()
        self._worker = self._stream(self.target)

    @work(group="logs", exclusive=True, exit_on_error=False, description="stream pod log")
    async def _stream(self, target: Target) -> None:
        """Follow the log; reconnect when the stream ends while the container lives on."""
        backoff = 0.5
        seen = _Seen()
        while True:
            client = self.client()
            if client is None:
                self.stream_state = "waiting for the cluster"
                await asyncio.sleep(0.5)
                continue
            try:
                self.stream_state = "previous container" if target.previous else "live"
                async for raw in client.logs(
                    target.namespace,
                    target.pod,
                    target.container or None,
                    tail=target.tail,
                    previous=target.previous,
                    follow=not target.previous,
                    since_time=seen.resume_from(),
                ):
                    at, text = split_timestamp(raw)
                    if seen.repeated(at):
                        continue  # already shown before the reconnect
                    self._pending.append((at, text))
                    backoff = 0.5
                if target.previous:
                    self.stream_state = "previous container (complete)"
                    return
                self.stream_state = "stream ended; reconnecting"
            except KubeError as exc:
                self.stream_state = one_line(exc.message or str(exc), 200)
                if exc.status in (400, 404):
                    # Not started yet, gone, or no previous container: try again a little later.
                    await asyncio.sleep(1.0)
                    if (
                        exc.status == 404
                        and self._state
                        and f"{target.namespace}/{target.pod}" not in self._state.of("pods")
                    ):
                        self.stream_state = "pod is gone"
                        return
                    continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    # ---- drawing -------------------------------------------------------------------
    def _format(self, at: float | None, text: str) -> str:
        line = inert(text)
        if self.timestamps and at is not None:
            stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return f"{stamp} {line}"
        return line

    def _shown(self, text: str) -> bool:
        return not (self.hide and self.highlighter.pattern is not None and not self.highlighter.pattern.search(text))

    def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self.received += len(batch)
        if len(batch) > self.config.max_lines:
            # Only the newest max_lines could be kept anyway: skip the rest, and say so.
            self.skipped += len(batch) - self.config.max_lines
            batch = batch[-self.config.max_lines :]
        vllm = self._is_vllm()
        for at, text in batch:
            self.lines.append((at, text))
            if vllm:
                self.tracker.feed(at, text)
        if self.following:
            out = [self._format(at, text) for at, text in batch if self._shown(text)]
            if out:
                self.log_view.write_lines(out[-self.config.max_lines :])
                # Following means at the end, even if the first lines came before the view had a size.
                self.log_view.scroll_end(animate=False, immediate=True, x_axis=False)
        self._draw_header()
        if vllm:
            self._draw_startup()

    def _rewrite(self) -> None:
        self.log_view.clear()
        self.log_view.write_lines([self._format(at, text) for at, text in self.lines if self._shown(text)])
        if self.following:
            self.log_view.scroll_end(animate=False, immediate=True, x_axis=False)

    def _is_vllm(self) -> bool:
        if self._state is None or self.target is None:
            return False
        row = self._state.pod_rows.get(f"{self.target.namespace}/{self.target.pod}")
        return bool(row and row.role in ("decode", "prefill"))

    def _draw_header(self) -> None:
        t = self.target
        text = Text()
        if t is None:
            text.append("select a pod to see its log", style="dim")
        else:
            text.append(f"{one_line(t.pod, 80)}", style="bold")
            text.append(f" [{one_line(t.container, 40)}]")
            text.append(
                f"  {'following' if self.following else 'PAUSED'}", style="green" if self.following else "bold yellow"
            )
            text.append(f"  tail {t.tail or self.tail}  {self.stream_state}", style="dim")
            if self.skipped:
                text.append(f"  {self.skipped:,} lines skipped (printed faster than kept)", style="yellow")
            if self.highlighter.pattern is not None:
                text.append(f"  /{one_line(self.highlighter.pattern.pattern, 40)}/", style="bold")
                text.append(" hiding others" if self.hide else " highlighted", style="dim")
        self.header.update(text)

    def _draw_startup(self) -> None:
        """Two lines, always: the phases, then the probe budget, the failure, or "ready"."""
        if not self._is_vllm() or self.target is None or self._state is None:
            self.startup.display = False
            return
        self.startup.display = True
        now = self.now()
        text = Text("startup ", style="bold")
        for label, seconds, state in self.tracker.durations(now):
            text.append(f"{label}", style=STATE_STYLE[state])
            if seconds is not None:
                text.append(f" {human_age(seconds * self.time_scale)}", style=STATE_STYLE[state])
            text.append("  ")
        text.append("\n")
        pod = self._state.of("pods").get(f"{self.target.namespace}/{self.target.pod}") or {}
        budget = probe_budget(pod, self.target.container, now, self.time_scale)
        if self.tracker.failure:
            text.append(f"✗ {one_line(self.tracker.failure, 200)}", style="bold red")
        elif budget is not None:
            style = "bold red" if budget.remaining < 0.2 * budget.total else "cyan"
            text.append(
                f"startup probe budget: {human_age(budget.remaining)} of {human_age(budget.total)} left", style=style
            )
        elif self.tracker.ready_at:
            text.append("server ready", style="bold green")
        self.startup.update(text)

    def cluster_changed(self, state: ClusterState, changes: Changes | None) -> None:
        """Even when hidden, follow container restarts: the stream and the tracker keep running."""
        self._notice_restart(state)
        super().cluster_changed(state, changes)

    def _notice_restart(self, state: ClusterState) -> None:
        """A new container instance starts its startup over: reset the tracker and mark the log."""
        if self.target is None or self.target.previous:
            return
        pod = state.of("pods").get(f"{self.target.namespace}/{self.target.pod}") or {}
        status = next(
            (
                s
                for s in (pod.get("status") or {}).get("containerStatuses") or []
                if s.get("name") == self.target.container
            ),
            None,
        )
        instance = str((status or {}).get("containerID") or "")
        if not instance or instance == self._instance:
            return
        first = self._instance is None
        self._instance = instance
        if first:
            return
        self.tracker.reset()
        last = ((status or {}).get("lastState") or {}).get("terminated") or {}
        why = one_line(str(last.get("reason") or "restarted"), 40)
        marker = f"──── container restarted (restart {(status or {}).get('restartCount', '?')}, last exit: {why}) ────"
        self._pending.append((None, marker))

    def refresh_from(self, state: ClusterState, changes: Changes | None) -> None:
        """Keep the pod list fresh for container choices and the tracker."""
        self.show_notice(self.status_notice(state))
        if self.target is not None and changes is not None:
            key = f"{self.target.namespace}/{self.target.pod}"
            if key in changes.kinds.get("pods", set()):
                self._draw_startup()

    # ---- actions -----------------------------------------------------------------------
    def action_follow(self) -> None:
        """Pause the display (lines keep arriving) or catch up and follow again."""
        self.following = not self.following
        self.log_view.auto_scroll = self.following
        if self.following:
            self._rewrite()
        self._draw_header()

    def action_filter(self) -> None:
        """Open the filter box."""
        self.filter_input.open()

    def action_clear_filter(self) -> None:
        """No filter."""
        self.filter_input.close()
        self._set_pattern("")
        self.log_view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the filter."""
        event.stop()
        self._set_pattern(event.value)
        if not event.value:
            self.filter_input.hide()
        self.log_view.focus()

    def _set_pattern(self, text: str) -> None:
        self.highlighter.pattern, error = self.filter_input.compile(text)
        if error:
            self.notify(f"not a valid regex ({error}); matching it as plain text", severity="warning")
        self._rewrite()
        self._draw_header()

    def action_hide(self) -> None:
        """Toggle hiding the lines the filter does not match."""
        self.hide = not self.hide
        self._rewrite()
        self._draw_header()

    def action_previous(self) -> None:
        """Toggle the previous container instance's log."""
        if self.target is None:
            return
        self.previous = not self.previous
        self._restart(self.target.namespace, self.target.pod)

    def action_container(self) -> None:
        """Next container."""
        if self.target is None:
            return
        containers = self._containers(self.target.namespace, self.target.pod)
        if len(containers) > 1 and self.container in containers:
            self.container = containers[(containers.index(self.container) + 1) % len(containers)]
            self._restart(self.target.namespace, self.target.pod)

    def action_tail(self) -> None:
        """Cycle the tail size and refetch."""
        self.tail = TAILS[(TAILS.index(self.tail) + 1) % len(TAILS)] if self.tail in TAILS else TAILS[0]
        if self.target is not None:
            self._restart(self.target.namespace, self.target.pod)

    def action_timestamps(self) -> None:
        """Toggle timestamps."""
        self.timestamps = not self.timestamps
        self._rewrite()

    def action_save(self) -> None:
        """Write the kept lines (raw, with timestamps) to a file."""
        if self.target is None:
            return
        directory = Path(self.config.save_dir).expanduser()
        stamp = datetime.fromtimestamp(self.now(), tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.target.pod}-{self.target.container}")
        path = directory / f"{safe}-{stamp}.log"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as out:
                for at, text in self.lines:
                    when = datetime.fromtimestamp(at, tz=UTC).isoformat() if at is not None else "-"
                    out.write(f"{when} {text}\n")
        except OSError as exc:
            self.notify(f"could not save the log to {path}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"saved {len(self.lines)} lines to {path}")
