"""Live logs of the selected pod: follow/pause, tail size, previous container,
container choice, regex filter that highlights (or hides), timestamps, wrap, the
message-first view of vLLM lines, save; and for vLLM pods the startup tracker.
Memory is bounded by ``max_lines`` whatever the pod prints, and every line is made
inert before it is drawn."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.highlighter import Highlighter
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Log

from llmd_console.config import LogsConfig
from llmd_console.doctor.crashes import classify
from llmd_console.models import Container, LogChunk, LogTarget, Snapshot, StreamPhase, StreamState
from llmd_console.sanitize import inert, one_line
from llmd_console.ui.filter_box import FilterBox
from llmd_console.ui.messages import LogsRequested
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.quiet import QuietStatic
from llmd_console.ui.registry import PaneContext, register_pane
from llmd_console.views.common import human_age
from llmd_console.views.startup import StartupTracker, probe_budget
from llmd_console.views.vllm_lines import FOLD_MARK, fold

TAILS = (100, 500, 2000, 10000)
_LEVEL = re.compile(r"\b(ERROR|CRITICAL|FATAL|Traceback|WARNING|WARN)\b|\"level\":\"(error|warn)\"")
STATE_STYLE = {"done": "green", "running": "yellow", "failed": "bold red", "stopped": "bold red", "pending": "dim"}
# The level tag of a folded vLLM line (``E▏message``): its letter and bar take the level's colour.
_TAG = re.compile(rf"^([DIWEC]){FOLD_MARK}")
TAG_STYLE = {"D": "dim", "I": "dim", "W": "bold yellow", "E": "bold red", "C": "bold red"}
WRAP_INDENT = "  "  # continuation lines of a wrapped line hang under its start
STREAM_STYLE = {StreamPhase.LIVE: "green", StreamPhase.COMPLETE: "dim"}
KEPT_BYTES = 4 * 1024 * 1024  # of the lines already shown, handed to a recording that begins


class LineHighlighter(Highlighter):
    """Colours error and warning lines, and marks every match of the filter."""

    def __init__(self) -> None:
        self.pattern: re.Pattern[str] | None = None

    def highlight(self, text: Text) -> None:
        """Style one line in place."""
        plain = text.plain
        tag = _TAG.match(plain)
        level = _LEVEL.search(plain)
        if classify(plain) is not None:  # a known vLLM/TPU failure (the tracker names it)
            text.stylize("bold white on dark_red")
        elif tag:
            letter = tag.group(1)
            text.stylize(TAG_STYLE[letter], 0, 2)
            if letter in "WEC":
                text.stylize("yellow" if letter == "W" else "red", 2)
        elif level:
            word = (level.group(1) or level.group(2) or "").upper()
            text.stylize("red" if word.startswith(("ERR", "CRIT", "FAT", "TRACE")) else "yellow")
        self._mark_matches(text, plain)

    def _mark_matches(self, text: Text, plain: str) -> None:
        if self.pattern is not None:
            for match in self.pattern.finditer(plain):
                if match.end() > match.start():
                    text.stylize("bold reverse", match.start(), match.end())


class FollowingLog(Log):
    """A Log that stays at its end when it is made smaller while following (the startup tracker
    appearing above it, a resize), instead of leaving the newest lines below the fold."""

    rewrap: Callable[[], None] | None = None  # set by the pane while it wraps lines to the width
    _wrapped_at = 0

    def on_resize(self) -> None:
        """Wrap again to a new width; back to the end, if following."""
        width = self.scrollable_content_region.width
        if self.rewrap is not None and width != self._wrapped_at:
            self._wrapped_at = width
            self.rewrap()
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)


@register_pane
class LogsPane(Pane):
    """A pod's log, live. It renders the chunks its log stream delivers; the app runs the stream."""

    pane_id = "logs"
    title = "Logs"
    summary = "The selected pod's log, live, with the vLLM startup tracker"
    kinds = ("pods",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "follow", "Follow/pause", id="logs.follow", tooltip="Pause or resume the live log"),
        Binding("slash", "filter", "Filter", id="logs.filter", tooltip="Highlight lines matching a regex"),
        Binding("h", "hide", "Hide non-matching", id="logs.hide", tooltip="Toggle hiding lines the filter misses"),
        Binding("p", "previous", "Previous", id="logs.previous", tooltip="Log of the previous container instance"),
        Binding("c", "container", "Container", id="logs.container", tooltip="Next container of the pod"),
        Binding("t", "tail", "Tail size", id="logs.tail", tooltip="Cycle how many lines are fetched"),
        Binding("T", "timestamps", "Timestamps", id="logs.timestamps", tooltip="Show the kubelet's timestamps"),
        Binding("w", "wrap", "Wrap", id="logs.wrap", tooltip="Wrap long lines to the pane's width"),
        Binding(
            "m",
            "message_first",
            "Message first",
            id="logs.message_first",
            tooltip="Fold vLLM's (process) LEVEL time [file:line] prefix to a level tag",
        ),
        Binding("s", "save", "Save", id="logs.save", tooltip="Write the lines kept to a file"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="logs.clear_filter"),
    ]

    def __init__(self, config: LogsConfig, now: Callable[[], float] = time.time, time_scale: float = 1.0) -> None:
        super().__init__()
        self.config = config
        self.now = now
        self.time_scale = time_scale  # a simulated cluster's speed-up, for the probe budget
        self.header = QuietStatic("", id="logs-header")
        self.startup = QuietStatic("", id="startup-tracker")
        self.filter_input = FilterBox("regex to highlight (h: hide the rest)", "logs-filter")
        self.log_view = FollowingLog(max_lines=config.max_lines, highlight=True, id="log-view")
        self.highlighter = LineHighlighter()
        self.log_view.highlighter = self.highlighter
        self.lines: deque[tuple[float | None, str]] = deque(maxlen=config.max_lines)
        self.tracker = StartupTracker()
        self.target: LogTarget | None = None
        self.container = ""  # the container being read, as the stream says
        self.following = True
        self.hide = False
        self.timestamps = config.timestamps
        self.wrap = config.wrap
        self.message_first = config.message_first
        self.tail = config.tail
        self.stream_state = StreamState(StreamPhase.CONNECTING)
        self.received = 0
        self.skipped = 0  # lines a pod printed faster than they could be kept
        self._instance: tuple[str, int] | None = None  # (containerID, restarts) of the instance followed

    @classmethod
    def create(cls, context: PaneContext) -> LogsPane:
        """The pane, with the logs settings and the app's clock."""
        return cls(context.config.logs, now=context.now, time_scale=context.time_scale)

    def compose(self) -> ComposeResult:
        """Header, startup tracker, filter, the log."""
        yield self.notice
        yield self.header
        yield self.startup
        yield self.filter_input
        yield self.log_view

    def on_mount(self) -> None:
        """The probe budget counts down by itself."""
        self.log_view.rewrap = self._rewrite if self.wrap else None
        self.set_interval(1.0, self._draw_startup)
        self._draw_header()

    # ---- choosing what to read -----------------------------------------------------
    def pod_selected(self, key: str) -> None:
        """Follow the selected pod."""
        self.show_pod(key)

    def show_pod(self, key: str) -> None:
        """Switch to pod ``key`` (namespace/name)."""
        ns, _, pod = key.partition("/")
        if self.target is not None and self.target.key == key:
            return
        self._request(LogTarget(ns, pod, None, previous=False, tail=self.tail))

    def start_over(self) -> None:
        """Read the current target again from its start (a replay that went back in time)."""
        if self.target is not None:
            self._request(self.target)

    def _request(self, target: LogTarget) -> None:
        """Start over on ``target``: the app runs its stream and hands the chunks back."""
        self.target = target
        self.container = target.container or ""
        self.lines.clear()
        self.skipped = 0
        self.received = 0
        self._instance = None
        self.tracker.reset()
        self.log_view.clear()
        self.stream_state = StreamState(StreamPhase.CONNECTING)
        self._draw_header()
        self._draw_startup()
        self.problem = ""  # a new stream: an earlier one's failure is no longer the news
        self.post_message(LogsRequested(target))

    def kept(self, max_bytes: int = KEPT_BYTES) -> LogChunk | None:
        """What the pane holds now, as one chunk (the target, the container read, the newest
        lines kept up to ``max_bytes`` of text, the stream's state): a recording that begins
        mid-stream starts from it."""
        if self.target is None:
            return None
        lines: list[tuple[float | None, str]] = []
        for at, text in reversed(self.lines):
            max_bytes -= len(text.encode())
            if max_bytes < 0:
                break
            lines.append((at, text))
        lines.reverse()
        return LogChunk(self.target, self.container, tuple(lines), 0, self.stream_state)

    # ---- what the stream delivers ----------------------------------------------------------
    def log_chunk(self, chunk: LogChunk) -> None:
        """New lines and state from the stream of the current target (older targets' are dropped)."""
        if chunk.target != self.target:
            return
        self.container = chunk.container or self.container
        if chunk.state is not None:
            self.stream_state = chunk.state
            if chunk.state.phase is StreamPhase.NO_PREVIOUS and self.target is not None and self.target.previous:
                # The pod's restart count was not known yet, or is stale: say so, and read the current log.
                self.notify(one_line(chunk.state.message, 200), severity="information")
                self._request(replace(self.target, previous=False, container=self.container or None))
                return
        self.skipped += chunk.skipped
        self._append(list(chunk.lines))
        self._draw_header()

    def _append(self, batch: list[tuple[float | None, str]]) -> None:
        if not batch:
            return
        self.received += len(batch)
        vllm = self._is_vllm()
        for at, text in batch:
            self.lines.append((at, text))
            if vllm:
                self.tracker.feed(at, text)
        if self.following and self.log_view.is_attached:
            out = self._display(batch[-self.config.max_lines :])
            if out:
                self.log_view.write_lines(out)
                # Following means at the end, even if the first lines came before the view had a size.
                self.log_view.scroll_end(animate=False, immediate=True, x_axis=False)
        if vllm:
            self._draw_startup()

    # ---- drawing -------------------------------------------------------------------
    def _format(self, at: float | None, text: str) -> str:
        line = inert(text)
        if self.message_first:
            line = fold(line)
        if self.timestamps and at is not None:
            stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return f"{stamp} {line}"
        return line

    def _display(self, batch: Iterable[tuple[float | None, str]]) -> list[str]:
        """The screen lines for ``batch``: formatted, filtered, and wrapped when wrapping is on."""
        lines = [self._format(at, text) for at, text in batch if self._shown(text)]
        width = self.log_view.scrollable_content_region.width
        if not self.wrap or width <= len(WRAP_INDENT) + 8:
            return lines
        return [piece for line in lines for piece in wrap_line(line, width)]

    def _shown(self, text: str) -> bool:
        return not (self.hide and self.highlighter.pattern is not None and not self.highlighter.pattern.search(text))

    def _rewrite(self) -> None:
        self.log_view.clear()
        self.log_view.write_lines(self._display(self.lines))
        if self.following:
            self.log_view.scroll_end(animate=False, immediate=True, x_axis=False)

    def _is_vllm(self) -> bool:
        if self.target is None:
            return False
        pod = self.snapshot.pods.get(self.target.key)
        return bool(pod and pod.role in ("decode", "prefill"))

    def _draw_header(self) -> None:
        t = self.target
        text = Text()
        if t is None:
            text.append("select a pod to see its log", style="dim")
        else:
            text.append(f"{one_line(t.pod, 80)}", style="bold")
            text.append(f" [{one_line(self.container or '?', 40)}]")
            if t.previous:
                text.append(" previous instance", style="bold")
            text.append(
                f"  {'following' if self.following else 'PAUSED'}", style="green" if self.following else "bold yellow"
            )
            text.append(f"  tail {t.tail}  ", style="dim")
            text.append(
                one_line(self.stream_state.text, 160), style=STREAM_STYLE.get(self.stream_state.phase, "yellow")
            )
            if self.skipped:
                text.append(f"  {self.skipped:,} lines skipped (printed faster than kept)", style="yellow")
            if self.highlighter.pattern is not None:
                text.append(f"  /{one_line(self.highlighter.pattern.pattern, 40)}/", style="bold")
                text.append(" hiding others" if self.hide else " highlighted", style="dim")
        self.header.show(text)

    def _container(self) -> Container | None:
        """The container being read, as the latest snapshot has it."""
        if self.target is None:
            return None
        pod = self.snapshot.pods.get(self.target.key)
        return pod.container(self.container or None) if pod is not None else None

    def _draw_startup(self) -> None:
        """Two lines: the phases of the current container instance, then the probe budget while it
        starts, the failure, "server ready", or why it is not running."""
        if not self._is_vllm() or self.target is None:
            self.startup.display = False
            return
        self.startup.display = True
        now = self.now()
        container = self._container()
        running = container is not None and container.running_since is not None and not container.waiting
        if self.target.previous:
            running = False  # a previous instance's log: it has ended
        text = Text()
        text.append("startup ", style="bold")
        for label, seconds, state in self.tracker.durations(now, running=running):
            text.append(f"{label}", style=STATE_STYLE[state])
            if seconds is not None:
                text.append(f" {human_age(seconds)}", style=STATE_STYLE[state])
            text.append("  ")
        if self.time_scale != 1:
            text.append(f"(log times, sim x{self.time_scale:g})", style="dim")
        text.append("\n")
        budget = None if self.target.previous else probe_budget(container, now, self.time_scale)
        crash = self.tracker.crash
        if crash is not None:
            # A known failure: named, with the doctor's finding that carries its fix.
            text.append(f"✗ {crash.name}", style="bold white on red")
            text.append(f" (finding {crash.id}, ! for the fix): ", style="bold red")
            text.append(one_line(self.tracker.failure, 200), style="red")
        elif self.tracker.failure:
            text.append(f"✗ {one_line(self.tracker.failure, 200)}", style="bold red")
        elif budget is not None:
            style = "bold red" if budget.remaining < 0.2 * budget.total else "cyan"
            text.append(
                f"startup probe budget: {human_age(budget.remaining)} of {human_age(budget.total)} left", style=style
            )
            if budget.total != budget.spec_total:
                text.append(f" ({human_age(budget.spec_total)} in the pod spec)", style="dim")
        elif self.tracker.ready_at and running:
            text.append("server ready", style="bold green")
        elif container is not None and not running and not self.target.previous:
            text.append(self._not_running(container), style="yellow")
        self.startup.show(text)

    def _not_running(self, container: Container) -> str:
        """Why the container is not starting now, in kubectl's words."""
        pod = self.snapshot.pods.get(self.target.key) if self.target is not None else None
        why = container.waiting or (pod.status if pod is not None else "") or "not running"
        out = f"not running: {one_line(why, 60)}"
        if container.restarts:
            out += f" (restarts {container.restarts}"
            out += f", last exit {one_line(container.last_exit, 40)})" if container.last_exit else ")"
        return out

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Even when hidden, follow container restarts: the stream and the tracker keep running."""
        self.snapshot = snapshot
        self._notice_restart()
        super().show_snapshot(snapshot)

    def _notice_restart(self) -> None:
        """A new container instance (a new containerID or restart count) starts its startup over: the
        tracker reads again only the lines logged since it started, and the log is marked."""
        if self.target is None or self.target.previous:
            return
        container = self._container()
        if container is None or not container.instance:
            return
        instance = (container.instance, container.restarts)
        if instance == self._instance:
            return
        first = self._instance is None
        self._instance = instance
        if first:
            return
        self.tracker.restart(container.running_since, list(self.lines))
        why = container.last_exit or "restarted"
        marker = f"──── container restarted (restart {container.restarts}, last exit: {why}) ────"
        self._append([(None, marker)])

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Keep the header and the tracker current with the pod."""
        self.show_notice(self.status_notice(snapshot))
        if self.target is not None and (
            snapshot.changes is None or self.target.key in snapshot.changes.kinds.get("pods", ())
        ):
            self._draw_startup()

    # ---- actions -----------------------------------------------------------------------
    def action_follow(self) -> None:
        """Pause the display (lines keep arriving) or catch up and follow again."""
        self.following = not self.following
        self.log_view.auto_scroll = self.following
        if self.following:
            self._rewrite()
        self._draw_header()

    def has_filter(self) -> bool:
        """The filter box is open or holds a filter."""
        return bool(self.filter_input.display or self.filter_input.value)

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
        if self.highlighter.pattern is None:
            self.notify(
                f"{'hiding' if self.hide else 'showing'} lines a filter misses, once there is one: press / to filter"
            )
        self._rewrite()
        self._draw_header()

    def action_previous(self) -> None:
        """Toggle the previous container instance's log (at once a message when there is none)."""
        if self.target is None:
            self.notify("no pod selected", severity="warning")
            return
        container = self._container()
        if not self.target.previous and container is not None and container.restarts == 0:
            self.notify(
                f"{one_line(self.target.pod, 80)} [{one_line(container.name, 40)}] has not restarted: "
                "there is no previous container log",
                severity="information",
            )
            return
        self._request(replace(self.target, previous=not self.target.previous, container=self.container or None))

    def action_container(self) -> None:
        """Next container."""
        if self.target is None:
            self.notify("no pod selected", severity="warning")
            return
        pod = self.snapshot.pods.get(self.target.key)
        names = pod.container_names if pod is not None else ()
        if len(names) < 2:
            self.notify(f"{one_line(self.target.pod, 80)} has only one container", severity="information")
            return
        current = names.index(self.container) if self.container in names else -1
        self._request(replace(self.target, container=names[(current + 1) % len(names)]))

    def action_tail(self) -> None:
        """Cycle the tail size and refetch."""
        self.tail = TAILS[(TAILS.index(self.tail) + 1) % len(TAILS)] if self.tail in TAILS else TAILS[0]
        if self.target is not None:
            self._request(replace(self.target, tail=self.tail, container=self.container or None))

    def action_timestamps(self) -> None:
        """Toggle timestamps."""
        self.timestamps = not self.timestamps
        self._rewrite()

    def action_wrap(self) -> None:
        """Wrap long lines to the pane's width (continuations indented), or let them run off."""
        self.wrap = not self.wrap
        self.log_view.rewrap = self._rewrite if self.wrap else None
        self._rewrite()
        self.notify("wrapping long lines" if self.wrap else "long lines not wrapped", timeout=2)

    def action_message_first(self) -> None:
        """Fold vLLM's line prefix to a level tag, or show the lines as printed."""
        self.message_first = not self.message_first
        self._rewrite()
        self.notify(
            "vLLM lines message first (prefix folded)" if self.message_first else "vLLM lines as printed", timeout=2
        )

    def action_save(self) -> None:
        """Write the kept lines (raw, with timestamps) to a file."""
        if self.target is None:
            self.notify("no pod selected: no log to save", severity="warning")
            return
        directory = Path(self.config.save_dir).expanduser()
        stamp = datetime.fromtimestamp(self.now(), tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.target.pod}-{self.container}")
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


def wrap_line(line: str, width: int) -> list[str]:
    """``line`` cut into pieces of at most ``width`` cells, the continuations indented; breaks at
    the last space of a piece when there is one in its second half."""
    if len(line) <= width:
        return [line]
    out: list[str] = []
    rest, room = line, width
    while len(rest) > room:
        cut = rest.rfind(" ", room // 2, room + 1)
        cut = cut if cut > 0 else room
        out.append(rest[:cut] if not out else WRAP_INDENT + rest[:cut])
        rest = rest[cut:].lstrip(" ")
        room = width - len(WRAP_INDENT)
    if rest:
        out.append(rest if not out else WRAP_INDENT + rest)
    return out
