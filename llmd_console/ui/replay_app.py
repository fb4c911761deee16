"""``llmd-console replay FILE``: the console's own panes on a recording, no cluster needed.

The app is the console with a :class:`~llmd_console.recording.player.ReplaySession` for its
session and the replay's clock for its own (ages and times read as they did when recorded);
the panes do not know they are replaying. A timer moves the player; keys pause, step, jump
between moments and change the speed; the slider shows where the replay is."""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container

from llmd_console.config import Config
from llmd_console.doctor.findings import Finding
from llmd_console.doctor.summary import summarize
from llmd_console.inference.request import Outcome
from llmd_console.models import LogChunk, LogTarget, StreamPhase, StreamState
from llmd_console.recording.player import Delivery, Player, ReplaySession, clock
from llmd_console.session import Target
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.footer import HintsFooter
from llmd_console.ui.messages import (
    LoadRequested,
    LogChunkArrived,
    LogsRequested,
    PodViewRequested,
    PromptSubmitted,
    SnapshotArrived,
)
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.prompt import PromptPane
from llmd_console.ui.replay_bar import ReplayBar

TICK_SECONDS = 0.1
STEP_SECONDS = 1.0
SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def _shows(target: LogTarget, chunk: LogChunk) -> bool:
    """Whether a recorded chunk belongs in a logs pane following ``target``: the same pod, the
    same instance (current or previous), and the container asked for, if one was."""
    return (
        chunk.target.key == target.key
        and chunk.target.previous == target.previous
        and (not target.container or chunk.container == target.container)
    )


class ReplayApp(ConsoleApp):
    """The console on a recording."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *ConsoleApp.BINDINGS,  # the help screen lists the app's keys from here
        Binding("space", "toggle_pause", "Pause", id="replay.pause", tooltip="Pause or resume the replay"),
        Binding("full_stop", "step(1)", "Step", id="replay.step", tooltip="Pause, and one second forward"),
        Binding("comma", "step(-1)", "Back", show=False, id="replay.back", tooltip="Pause, and one second back"),
        # > and < are . and , shifted: the steps' big brothers (] is the demo tour's).
        Binding("greater_than_sign", "moment(1)", "Next moment", id="replay.next", tooltip="The next moment"),
        Binding("less_than_sign", "moment(-1)", "Prev moment", show=False, id="replay.prev", tooltip="The one before"),
        Binding("right_curly_bracket", "finding(1)", "Next finding", show=False, id="replay.next_finding"),
        Binding("left_curly_bracket", "finding(-1)", "Prev finding", show=False, id="replay.prev_finding"),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False, id="replay.faster"),
        Binding("minus", "speed(-1)", "Slower", show=False, id="replay.slower"),
        Binding("0", "seek(0)", "Start", show=False, id="replay.start", tooltip="Back to the start"),
    ]

    def __init__(self, config: Config, player: Player, *, speed: float = 1.0, layout: str | None = None) -> None:
        """Replay ``player`` at ``speed`` (read-only: there is no cluster to act on)."""
        header = player.header
        config = dataclasses.replace(config, ui=dataclasses.replace(config.ui, read_only=True))
        super().__init__(
            config,
            Target(None, header.context or None, header.namespace or "all"),
            layout=layout,
            now=lambda: player.now,
            session_factory=functools.partial(ReplaySession, player=player),
        )
        self.player = player
        self.replay_bar = ReplayBar(player, id="replay-bar")
        self.replay_bar.speed = speed
        self.findings: tuple[Finding, ...] = ()  # as they were at the replay's position
        self._log_target: LogTarget | None = None
        self._last_tick = time.monotonic()

    @property
    def replay(self) -> ReplaySession:
        """The session, as the replay's."""
        assert isinstance(self.session, ReplaySession)
        return self.session

    def compose(self) -> ComposeResult:
        """Status bar, the problems strip, the layout, the slider, the footer."""
        yield self.status_bar
        yield self.doctor_setup(live=False)  # drawn from the recorded findings, not from rules run here
        yield Container(id="main")
        yield self.replay_bar
        yield self.tour_bar
        yield self.action_bar
        yield HintsFooter(id="footer")

    def _run_session(self) -> None:
        """No cluster and no metrics to scrape: the timer moves the replay."""
        self._session_worker()
        self._deliver(self.player.everything_at(self.player.position))
        self._last_tick = time.monotonic()
        self.set_interval(TICK_SECONDS, self._advance)

    # ---- moving ----------------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        bar = self.replay_bar
        if not bar.paused:
            self._deliver(self.player.move_to(self.player.position + elapsed * bar.speed))
            if self.player.position >= self.player.duration:
                bar.paused = True
                self._reached_end()
        bar.draw()
        self._draw_status()

    def _draw_status(self) -> None:
        """The status bar, beginning with REPLAY and the recorded time."""
        self.status_bar.badge = Text(f" REPLAY {clock(self.player.now)} ", style="bold black on cyan")
        super()._draw_status()

    def _reached_end(self) -> None:
        early = self.player.ends_early()
        if early:
            self.replay_bar.note = early
            for pane in self.visible_panes():
                pane.report_problem(early)
            self.notify(early, severity="warning", timeout=20)
        else:
            self.notify(f"end of the recording ({clock(self.player.now)})", timeout=5)

    def jump(self, t: float) -> None:
        """Go to ``t`` seconds into the recording (the panes redraw)."""
        self._deliver(self.player.move_to(t))
        self.replay_bar.draw()
        self._draw_status()

    def _deliver(self, delivery: Delivery) -> None:
        self.replay.show(delivery)
        if delivery.jumped:
            for pane in self.visible_panes():
                if isinstance(pane, LogsPane):
                    pane.start_over()  # its lines are those of another time
        if delivery.metrics is not None:
            self.metrics_delivered(*delivery.metrics)
        if delivery.findings is not None:
            self.findings = delivery.findings
        if delivery.findings is not None and delivery.snapshot is None:
            self._draw_findings()  # with a snapshot: once the panes have it (on_snapshot_arrived)
        target = self._log_target
        for chunk in delivery.logs:
            if target is not None and _shows(target, chunk):
                self.post_message(LogChunkArrived(dataclasses.replace(chunk, target=target)))
        for note in delivery.notes:
            self.notify(note, timeout=6)
        for outcome in delivery.prompts:
            self._show_prompt(outcome)

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        """The panes draw the snapshot, then the findings over it (as the live doctor does after
        each snapshot: the gateway pane shows the findings its hops do not)."""
        super().on_snapshot_arrived(message)
        self._draw_findings()

    def _draw_findings(self) -> None:
        """The strip and the panes that show findings, as the recorded findings and the snapshot
        at the replay's position say."""
        self.doctor_summary = summarize(self.session.snapshot, list(self.findings))
        self.doctor_draw()

    def _show_prompt(self, outcome: Outcome) -> None:
        """A recorded prompt's result, in the prompt pane as it was answered."""
        state = self.prompting.state
        pane = self._pane("prompt")
        if state is None or not isinstance(pane, PromptPane):
            return
        state.parts.clear()
        state.shown_chars = 0
        state.request = dataclasses.replace(state.request, model=outcome.request.model)
        pane.input.load_text(outcome.request.prompt)
        state.finish(outcome)
        pane.finished()

    def on_logs_requested(self, message: LogsRequested) -> None:
        """The logs pane follows a pod: what was recorded of its log so far, then as the replay goes."""
        message.prevent_default()  # not the console's stream: there is no cluster
        target = self._log_target = message.target
        recorded = [c for c in self.player.logs_of(target.key, self.player.position) if _shows(target, c)]
        state = StreamState(StreamPhase.LIVE, "replay" if recorded else "replay: no log was recorded for this pod")
        self.post_message(LogChunkArrived(LogChunk(target, self._container_of(target, recorded), state=state)))
        for chunk in recorded:
            self.post_message(LogChunkArrived(dataclasses.replace(chunk, target=target)))

    def _container_of(self, target: LogTarget, recorded: list[LogChunk]) -> str:
        """The container the pane reads: the one asked for, else the one the recording read
        (its latest), else the pod's first as the snapshot has it."""
        if target.container:
            return target.container
        named = [c.container for c in recorded if c.container]
        if named:
            return named[-1]
        pod = self.session.snapshot.pods.get(target.key)
        first = pod.container(None) if pod is not None else None
        return first.name if first is not None else ""

    # ---- keys ----------------------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        """Pause, or play on (from the start when at the end)."""
        bar = self.replay_bar
        if bar.paused and self.player.position >= self.player.duration:
            self.jump(0.0)
            bar.note = ""
        bar.paused = not bar.paused
        bar.draw()

    def action_step(self, direction: int) -> None:
        """Pause and move one step."""
        self.replay_bar.paused = True
        self.jump(self.player.position + direction * STEP_SECONDS)

    def action_moment(self, direction: int, findings_only: bool = False) -> None:
        """Jump to the next (or previous) moment, and say what it is."""
        moment = self.player.next_moment(self.player.position, forward=direction > 0, findings_only=findings_only)
        if moment is None:
            what = "finding" if findings_only else "moment"
            self.notify(f"no {what} {'after' if direction > 0 else 'before'} this one", timeout=3)
            return
        self.replay_bar.paused = True
        self.jump(moment.t)
        if not moment.finding:  # the problems strip shows the findings as they are there
            self.notify(f"{clock(self.player.now)}  {moment.text}", timeout=6)

    def action_finding(self, direction: int) -> None:
        """Jump to the next (or previous) time a finding appeared or cleared."""
        self.action_moment(direction, findings_only=True)

    def action_speed(self, direction: int) -> None:
        """The next speed up or down."""
        bar = self.replay_bar
        faster = [s for s in SPEEDS if s > bar.speed]
        slower = [s for s in SPEEDS if s < bar.speed]
        if direction > 0 and faster:
            bar.speed = faster[0]
        elif direction < 0 and slower:
            bar.speed = slower[-1]
        bar.draw()

    def action_seek(self, fraction: float) -> None:
        """Jump to a fraction of the recording (the slider's clicks)."""
        self.jump(fraction * self.player.duration)

    def action_namespace(self) -> None:
        """A replay shows the namespace recorded."""
        self.notify("a replay shows the namespace that was recorded", timeout=4)

    def on_pod_view_requested(self, message: PodViewRequested) -> None:
        """Describe and YAML read the live object: there is none in a replay."""
        message.prevent_default()
        self.notify("a replay has the pods' rows and events, not the objects to describe", timeout=5)

    def on_prompt_submitted(self, message: PromptSubmitted) -> None:
        """No gateway to send to in a replay."""
        message.prevent_default()
        self.notify("a replay has no cluster to send prompts to", timeout=5)

    def on_load_requested(self, message: LoadRequested) -> None:
        """No gateway to load in a replay."""
        message.prevent_default()
        self.notify("a replay has no cluster to load", timeout=5)

    def action_scenarios(self) -> None:
        """Fault scenarios change a cluster: a replay has none."""
        self.notify("a replay has no cluster to inject faults into", timeout=4)

    def action_toggle_recording(self) -> None:
        """Recording a replay would only copy the file."""
        self.notify("this is a replay: the recording is the file itself", timeout=4)
