"""The console app: the composition root. It receives a session, renders its snapshots
and connection, runs the log stream the logs pane asks for, and routes the operator's
mutations through one plan -> confirm -> execute -> audit path."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.css.scalar import Scalar
from textual.events import Key, Resize
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from llmd_console.actions.safety import OneAtATime
from llmd_console.config import Config
from llmd_console.layouts import Layout, LayoutError, available, choose, load_layout
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.readings import Feed
from llmd_console.models import Connection, LogChunk, Phase, Snapshot, StreamPhase, StreamState
from llmd_console.session import ALL_NAMESPACES, Session, Target
from llmd_console.ui import layout as layout_builder
from llmd_console.ui.action_bar import ActionBar
from llmd_console.ui.action_handlers import APP_MUTATIONS, ActionHandlers
from llmd_console.ui.doctor_handlers import DoctorHandlers
from llmd_console.ui.footer import HintsFooter
from llmd_console.ui.messages import (
    ConnectionChanged,
    LogChunkArrived,
    LogsRequested,
    PodSelected,
    PodViewRequested,
    SnapshotArrived,
)
from llmd_console.ui.namespace_handlers import NamespaceHandlers
from llmd_console.ui.palette import PaletteCommands
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.panes.load_view import LoadState
from llmd_console.ui.panes.prompt import PromptPane
from llmd_console.ui.presenter import PresenterHandlers, TourBar
from llmd_console.ui.prompt_handlers import PromptHandlers
from llmd_console.ui.prompting import Prompting
from llmd_console.ui.record_handlers import RecordHandlers
from llmd_console.ui.registry import PaneContext, pane_ids, spec, specs
from llmd_console.ui.status import StatusBar
from llmd_console.ui.themes import THEMES
from llmd_console.ui.toasts import DialogToasts

if TYPE_CHECKING:
    from llmd_console.actions.audit import AuditLog
    from llmd_console.config import GkeConfig
    from llmd_console.inference.request import Outcome
    from llmd_console.tour import Tour
    from llmd_console.ui.help import HelpRow

# Modules needed only once the operator acts (a log stream, a dialog, a mutation) are
# imported there: the first frame should not wait for them.

__all__ = ["ALL_NAMESPACES", "ConsoleApp", "Target"]
# Which pane owns a worker group: its failures are shown there.
GROUP_PANES = {"logs": "logs", "metrics": "metrics", "prompt": "prompt", "prompt-endpoint": "prompt", "load": "prompt"}


class ConsoleApp(
    PaletteCommands,
    NamespaceHandlers,
    ActionHandlers,
    PresenterHandlers,
    DoctorHandlers,
    PromptHandlers,
    RecordHandlers,
):
    """llmd-console."""

    TITLE = "llmd-console"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it
    ENABLE_COMMAND_PALETTE = True
    AUTO_FOCUS = None  # focus goes to the first pane's table once the layout is up
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave the console"),
        Binding("question_mark", "help", "Help", id="help", tooltip="Every key and action"),
        Binding("v", "next_layout", "Layout", id="layout", tooltip="Switch to the next layout"),
        Binding("n", "namespace", "Namespace", id="namespace", tooltip="Switch namespace ('all' for every one)"),
        *(Binding(str(i), f"focus_pane({i})", f"Pane {i}", show=False, id=f"pane{i}") for i in range(1, 10)),
        Binding("l", "show_logs", "Logs", id="logs", tooltip="Show the selected pod's log"),
        Binding("z", "zoom", "Zoom", id="zoom", tooltip="The focused pane alone on the screen (z again: back)"),
        Binding("D", "deploy", "Deploy", id="deploy", tooltip="Deploy Pattern 1 from the config (previewed first)"),
        Binding("U", "undeploy", "Undeploy", show=False, id="undeploy", tooltip="Remove the namespace's llm-d objects"),
        Binding("a", "action_log", "Action log", show=False, id="action_log", tooltip="The last action's progress"),
        Binding("F", "scenarios", "Faults", show=False, id="scenarios", tooltip="Fault scenarios (simulated cluster)"),
        # ctrl+n too, with priority: a text field keeps "]" for itself.
        Binding(
            "right_square_bracket,ctrl+n",
            "tour_next",
            "Next",
            show=False,
            priority=True,
            id="tour_next",
            tooltip="The tour's next step",
        ),
        Binding("W", "toggle_recording", "Record", show=False, id="record", tooltip="Start or stop recording"),
        Binding(
            "ctrl+s", "screenshot", "Screenshot", show=False, id="screenshot", tooltip="Save the screen (SVG, PNG)"
        ),
    ]

    def __init__(
        self,
        config: Config,
        target: Target,
        *,
        layout: str | None = None,
        demo: bool = False,
        time_scale: float = 1.0,
        now: Callable[[], float] = time.time,
        wait_ready: threading.Event | None = None,
        audit: AuditLog | None = None,
        gke: Callable[[], GkeConfig] | None = None,
        tour: Tour | None = None,
        session_factory: Callable[..., Session] = Session,
    ) -> None:
        """``gke`` gives the Container API settings when they are known only once running (the demo's simulator);
        ``session_factory`` makes the session (a replay's comes from a recording)."""
        super().__init__()
        self.config = config
        self.requested_layout = layout or config.ui.layout
        self.demo = demo
        self.time_scale = time_scale
        self.now = now
        self.read_only = config.ui.read_only
        self._audit = audit
        self._gke_config = gke
        self._gke_client = None
        self._action_guard = OneAtATime()
        self.permissions = {}
        self.action_bar = ActionBar(id="action-bar")
        self.tour, self.tour_at, self.tour_bar = tour, 0, TourBar(id="tour-bar")
        self.simulated: bool | None = True if demo else None
        self.scenario: str | None = None
        self.session = session_factory(
            config,
            target,
            on_snapshot=self._snapshot_made,
            on_connection=self._connection_moved,
            wait_ready=wait_ready,
            now=now,
        )
        self.layout_name = ""
        # A zoomed pane's width and height in the layout, given back when it is zoomed out.
        self._zoomed_from: tuple[Scalar | None, Scalar | None] = (None, None)
        self.panes: dict[str, Pane] = {}
        self.selected_pod: str | None = None
        self.alerts: tuple[Alert, ...] = ()  # llm-d's alerts, pending or firing, after the last metrics round
        self.status_bar = StatusBar(id="status-bar")
        self.config_warnings: list[str] = []
        self._failures: dict[str, str] = {}  # worker group -> the failure last reported
        self._client_ready = asyncio.Event()
        self.prompting = Prompting(config, lambda: self.session.client, lambda: self._pane("prompt"), self._load_moved)
        self.prompting.on_outcome = self._prompt_answered
        for theme in THEMES:
            self.register_theme(theme)
        if config.ui.theme in self.available_themes:
            self.theme = config.ui.theme
        elif config.ui.theme:
            self.config_warnings.append(
                f"ui.theme: unknown theme {config.ui.theme!r}; known: {', '.join(sorted(self.available_themes))}"
            )

    def _snapshot_made(self, snapshot: Snapshot) -> None:
        self.post_message(SnapshotArrived(snapshot))

    def _connection_moved(self, connection: Connection) -> None:
        self.post_message(ConnectionChanged(connection))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast whose text is always plain: notifications carry names, errors and paths
        from the cluster, the config and the command line, and ``[/]`` in any of them must
        be shown, not parsed (widgets' ``notify`` passes ``markup=True`` by default)."""
        del markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    @property
    def audit(self) -> AuditLog:
        """Where mutations are recorded (the XDG state dir unless the app was given one)."""
        if self._audit is None:
            from llmd_console.actions.audit import AuditLog  # noqa: PLC0415

            self._audit = AuditLog()
        return self._audit

    # ---- what the session knows -----------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The latest snapshot."""
        return self.session.snapshot

    @property
    def connection(self) -> Connection:
        """The session's connection."""
        return self.session.connection

    @property
    def namespace(self) -> str:
        """The namespace watched (``all`` for every one)."""
        return self.session.namespace

    # ---- building the screen ----------------------------------------------------------------
    def _make_panes(self, names: Iterable[str]) -> dict[str, Pane]:
        context = PaneContext(self.config, self.now, self.time_scale, self.namespace)
        return {name: spec(name).factory(context) for name in names}

    def compose(self) -> ComposeResult:
        """Status bar, the problems strip, the layout, the footer."""
        yield self.status_bar
        yield self.doctor_setup()
        yield Container(id="main")
        yield self.tour_bar
        yield self.action_bar
        yield HintsFooter(id="footer")

    async def on_mount(self) -> None:
        """Lay out, then connect once the first frame is up."""
        if self.config.keys:
            known = {b.id for b in self._all_bindings() if b.id}
            unknown = sorted(set(self.config.keys) - known)
            if unknown:
                self.config_warnings.append(f"keys: unknown action id(s) {', '.join(unknown)}; see the help screen")
            self.set_keymap({k: v for k, v in self.config.keys.items() if k in known})
        for warning in self.config_warnings:
            self.notify(warning, title="config", severity="warning", timeout=15)
        name = choose(self.requested_layout, self.size.width, self.size.height)
        await self._apply_layout(name)
        self.set_interval(1.0, self._draw_status)
        self.set_interval(5.0, self._tick)
        self.tour_bar.draw(None, 0, "")
        DialogToasts(self).watch()  # a dialog opens clear of old toasts
        if self.tour is not None:
            self.call_after_refresh(self.start_tour, self.tour)
        self.call_after_refresh(self._run_session)

    def relayout(self, name: str) -> None:
        """Switch to layout ``name`` as soon as the app is idle."""
        self.call_next(self._apply_layout, name)

    async def _apply_layout(self, name: str) -> None:
        try:
            spec_ = load_layout(name, pane_ids())
        except LayoutError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            if self.layout_name:
                return
            spec_ = load_layout("default", pane_ids()) if name != "default" else Layout(tabs=list(pane_ids()))
        self.layout_name = spec_.name or name
        focused = self._focused_pane()
        main = self.query_one("#main", Container)
        await main.remove_children()
        self.panes = self._make_panes(spec_.panes())
        await main.mount(layout_builder.build(spec_, self.panes))
        # The operator keeps their place: the pane they were in, if the new layout has it.
        self.focus_pane(focused if focused in self.panes else spec_.panes()[0])
        self.call_after_refresh(self._catch_up)
        self._draw_status()

    def _focused_pane(self) -> str | None:
        """The id of the pane holding the focus, if any."""
        node = self.focused
        while node is not None and not isinstance(node, Pane):
            node = node.parent  # type: ignore[assignment]
        return node.pane_id if isinstance(node, Pane) else None

    def _catch_up(self) -> None:
        """New panes take the selected pod first (so the pods pane does not pick another one), then
        draw everything the latest snapshot knows; the logs pane resumes the selected pod."""
        if self.selected_pod is not None:
            for pane in self.visible_panes():
                pane.pod_selected(self.selected_pod)
        prompt = self._pane("prompt")
        if isinstance(prompt, PromptPane):
            self.prompting.adopt(prompt)
        everything = dataclasses.replace(self.snapshot, changes=None)  # not just what its batch changed
        for pane in self.visible_panes():
            pane.show_snapshot(everything)

    def visible_panes(self) -> list[Pane]:
        """Panes that are mounted now."""
        return [p for p in self.panes.values() if p.is_mounted]

    def _load_moved(self, load: LoadState) -> None:
        """A load run moved: the metrics pane draws it beside the servers' figures."""
        pane = self._pane("metrics")
        if pane is not None:
            pane.load_round(load)

    def _pane(self, name: str) -> Pane | None:
        pane = self.panes.get(name)
        return pane if pane is not None and pane.is_mounted else None

    # ---- the session -------------------------------------------------------------------------------
    def _run_session(self) -> None:
        self._session_worker()
        self._metrics_worker()

    @work(group="metrics", exclusive=True, exit_on_error=False, description="metrics scrape")
    async def _metrics_worker(self) -> None:
        """Scrape the model servers and the EPP once connected, handing each round to the metrics pane."""
        await self._client_ready.wait()
        client = self.session.client
        assert client is not None
        from llmd_console.metrics.runner import run_metrics  # noqa: PLC0415 - after the first frame

        await run_metrics(
            self.config,
            client,
            lambda: self.session.snapshot,
            self.metrics_delivered,
            time_scale=self.time_scale,
            now=self.now,
        )

    def metrics_delivered(self, feed: Feed, alerts: tuple[Alert, ...]) -> None:
        """A metrics round: the metrics pane draws it, the status bar counts the firing alerts."""
        self.record_metrics(feed, alerts)
        self.alerts = alerts
        pane = self._pane("metrics")
        if pane is not None:
            pane.metrics_round(feed, alerts)
        self._draw_status()
        self.doctor_metrics(feed, alerts)

    @work(group="kube", exclusive=True, exit_on_error=False, description="connect and watch the cluster")
    async def _session_worker(self) -> None:
        """Connect (reading the kubeconfig like kubectl) and keep every kind in sync."""
        await self.session.run()

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        """Hand the snapshot to every pane (hidden ones only remember it)."""
        for pane in self.panes.values():
            if pane.is_mounted:
                pane.show_snapshot(message.snapshot)
        self._follow_model_pod(message.snapshot)
        self.doctor_snapshot(message.snapshot)
        if self.prompt_gateway_moved(self.session.state.raw("gateways")):
            # Prompts would reach what is no longer the gateway: look again, and what they said
            # of the old path is no evidence now.
            self.doctor_forget_prompts()
            self.connect_prompt()

    def _follow_model_pod(self, snapshot: Snapshot) -> None:
        """A layout without the pods pane (the demo's) has nothing to choose a pod for the logs and
        the startup tracker: they follow the model server, and its replacement when it is replaced."""
        if "pods" in self.panes or "logs" not in self.panes:
            return
        chosen = snapshot.pods.get(self.selected_pod or "")
        if chosen is not None and not chosen.terminating:
            return
        models = sorted(
            (p for p in snapshot.pods.values() if p.role in ("decode", "prefill") and not p.terminating),
            key=lambda p: (-(p.created or 0.0), p.key),  # the newest: a replacement is the one starting
        )
        if models:
            self.selected_pod = models[0].key
            for pane in self.visible_panes():
                pane.pod_selected(models[0].key)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        """Redraw the status bar; say it once when the connection fails for good."""
        connection = message.connection
        if self.session.client is not None and not self._client_ready.is_set():
            self._client_ready.set()
            self.connect_prompt()
            self.check_permissions()
        if connection.phase is Phase.FAILED:
            for pane in self.visible_panes():
                pane.show_notice(f"not connected: {connection.reason}")
            self.notify(f"no connection: {connection.reason}", severity="error", timeout=15)
        self._draw_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One funnel for worker failures: the owning pane says so, and one toast."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        group = event.worker.group
        text = f"{event.worker.description or group} stopped: {type(error).__name__}: {error}"
        pane = self._pane(GROUP_PANES.get(group, ""))
        if pane is not None:
            pane.report_problem(text[:300])
        if group == "kube":
            self.session.stopped(text)  # the status bar says the data is no longer followed
        if self._failures.get(group) != text:  # one toast per failure, not one per retry
            self._failures[group] = text
            self.notify(text[:500], severity="error", timeout=15)
        self._draw_status()

    # ---- logs ------------------------------------------------------------------------------------
    def on_pod_selected(self, message: PodSelected) -> None:
        """The logs follow the selected pod."""
        self.selected_pod = message.key
        for pane in self.visible_panes():
            # Not back to the pane that chose it: by the time this arrives its cursor may have moved on.
            if pane is not message.origin:
                pane.pod_selected(message.key)

    def on_logs_requested(self, message: LogsRequested) -> None:
        """Stream the requested log (any stream before it is cancelled)."""
        self._stream_logs(message)

    @work(group="logs", exclusive=True, exit_on_error=False, description="pod log stream")
    async def _stream_logs(self, message: LogsRequested) -> None:
        target = message.target
        deliver = self._deliver_log
        if self.session.client is None:
            deliver(LogChunk(target, "", state=StreamState(StreamPhase.WAITING, "waiting for the cluster connection")))
            await self._client_ready.wait()
        client = self.session.client
        assert client is not None
        from llmd_console.cluster.logs import LogStream  # noqa: PLC0415

        stream = LogStream(
            client,
            target,
            deliver,
            lambda: self.session.snapshot.pods.get(target.key),
            max_lines=self.config.logs.max_lines,
            max_line_bytes=self.config.logs.max_line_bytes,
        )
        await stream.run()

    def _deliver_log(self, chunk: LogChunk) -> None:
        self.post_message(LogChunkArrived(chunk))

    def on_log_chunk_arrived(self, message: LogChunkArrived) -> None:
        """Lines for the logs pane (none once the app is closing: its widgets are going away)."""
        if self._exit:
            return
        self.record_log(message.chunk)
        for pane in self.visible_panes():
            pane.log_chunk(message.chunk)

    # ---- reading one object -------------------------------------------------------------------------
    def on_pod_view_requested(self, message: PodViewRequested) -> None:
        """Fetch the pod (and its events) now, then show it."""
        self._show_pod(message)

    @work(group="objects", exclusive=True, exit_on_error=False, description="read a pod")
    async def _show_pod(self, message: PodViewRequested) -> None:
        from llmd_console.ui.describe import ObjectScreen, ObjectUnavailable, pod_text  # noqa: PLC0415

        client = self.session.client
        if client is None:
            self.notify("not connected to a cluster yet: nothing to read", severity="warning")
            return
        try:
            title, text = await pod_text(client, message.key, message.view, self.now())
        except ObjectUnavailable as exc:
            self.notify(str(exc), severity="error")
            return
        await self.push_screen(ObjectScreen(title, text))

    def mutating_keys(self) -> dict[str, tuple[str, str]]:
        """Keys of mutating actions (as remapped) -> (what they do, the action's name)."""
        where = [("", b, APP_MUTATIONS) for b in self.app_bindings()]
        where += [(f"{s.title}: ", b, s.mutations) for s in specs() for b in s.bindings]
        out = {}
        for prefix, b, mutations in where:
            if b.action in mutations:
                key = self.config.keys.get(b.id, b.key) if b.id else b.key
                for one in key.split(","):
                    out[one.strip()] = (f"{prefix}{b.description}", b.action)
        return out

    def on_key(self, event: Key) -> None:
        """A mutating key that is not offered (read-only mode, or forbidden by RBAC) is refused
        out loud: its binding is hidden and inactive, so nothing else would say why."""
        found = self.mutating_keys().get(event.key)
        if found is None or self.action_allowed(found[1]):
            return
        what, action = found
        if self.read_only:
            self.notify(f"read-only: '{what}' is disabled (started with --read-only)", severity="warning")
        else:
            self.notify(f"'{what}' is not offered: {self.why_not(action)}", severity="warning")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The app's own mutating keys are hidden when not offered."""
        return self.action_allowed(action) if action in APP_MUTATIONS else True

    def _prompt_answered(self, outcome: Outcome) -> None:
        """A prompt's result: a recording keeps it, and the doctor weighs it."""
        self.record_prompt(outcome)
        endpoint = self.prompting.endpoint
        self.doctor_prompt(outcome, endpoint.how if endpoint else "the gateway")

    # ---- periodic -------------------------------------------------------------------------------------
    def _tick(self) -> None:
        """Every few seconds: panes with ages redraw them; a prompt pane with nowhere to send, or
        no model to ask for, looks again (the Gateway may have its address by now)."""
        for pane in self.visible_panes():
            if pane.is_on_screen:
                pane.tick()
        self.doctor_soon()  # time-based rules (idle accelerators), and panes made since
        if self._client_ready.is_set() and self.prompting.wants_endpoint():
            self.connect_prompt()
        self.poll_scenario()

    def _draw_status(self) -> None:
        connection = self.connection
        age = None
        if connection.phase is not Phase.CONNECTED and connection.last_live is not None:
            age = self.now() - connection.last_live
        self.status_bar.draw(
            context=connection.context or "(current context)",
            namespace=self.namespace,
            connection=connection,
            read_only=self.read_only,
            data_age=age,
            layout=self.layout_name,
            demo=self.demo,
            now=self.now(),
            alerts=self.alerts,
            scenario=self.scenario,
        )
        self.action_bar.redraw()  # a running action's elapsed time; a finished one's message fades

    def on_resize(self, event: Resize) -> None:
        """``auto`` layouts follow the terminal size (the event's: ``self.size`` may not have
        caught up when this runs)."""
        if self.requested_layout == "auto" and self.layout_name:
            wanted = choose("auto", event.size.width, event.size.height)
            if wanted != self.layout_name:
                self.relayout(wanted)

    # ---- keys, help, palette ------------------------------------------------------------------------------
    def action_help(self) -> None:
        """Show every key."""
        from llmd_console.ui.help import HelpScreen  # noqa: PLC0415

        self.push_screen(HelpScreen(self.help_rows()))

    def action_help_quit(self) -> None:
        """ctrl+c with no text selected: say which key quits. Textual's own toast says it in
        markup, which this app's toasts show as typed."""
        from llmd_console.ui.keys import key_label  # noqa: PLC0415

        key = key_label(self.config.keys.get("quit", "q"))
        self.notify(f"{key} (or ctrl+q) quits the console; ctrl+c copies selected text", title="Quit?")

    def app_bindings(self) -> list[Binding]:
        """The app's own keys, its mixins' included (the doctor's ``!``), once each, in class order."""
        seen: dict[str, Binding] = {}
        for cls in reversed(type(self).__mro__):
            for b in cls.__dict__.get("BINDINGS", ()):
                if isinstance(b, Binding):
                    seen[b.id or b.key] = b
        return list(seen.values())

    def _all_bindings(self) -> list[Binding]:
        return self.app_bindings() + [b for s in specs() for b in s.bindings]

    def help_rows(self) -> list[HelpRow]:
        """Every key as typed, what it does, where it works and its action id, from the pane registry."""
        from llmd_console.ui.help import help_rows  # noqa: PLC0415

        layout = [(name, spec(name).title) for name in self.panes]
        return help_rows(
            self.app_bindings(),
            specs(),
            layout=layout,
            keymap=self.config.keys,
            read_only=self.read_only,
            app_mutations=APP_MUTATIONS,
        )

    def action_next_layout(self) -> None:
        """Cycle through the layouts."""
        names = available()
        # From the layout last asked for, not the one on screen: a broken one is stepped over.
        at = self.requested_layout if self.requested_layout in names else self.layout_name
        current = names.index(at) if at in names else -1
        self.requested_layout = names[(current + 1) % len(names)]
        self.relayout(self.requested_layout)

    def switch_layout(self, name: str) -> None:
        """Open layout ``name`` (also from the command palette)."""
        self.requested_layout = name
        self.relayout(name)

    def action_focus_pane(self, index: int) -> None:
        """Focus the n-th pane of the layout (in the compact layout: bring it to the front)."""
        names = list(self.panes)
        if not 1 <= index <= len(names):
            self.notify(f"this layout has {len(names)} panes", severity="information")
            return
        self.focus_pane(names[index - 1])

    def focus_pane(self, name: str) -> None:
        """Bring pane ``name`` forward and focus its first focusable widget."""
        tabs = self.query(layout_builder.PaneTabs)
        pane = self.panes.get(name)
        if tabs:
            tabs.first().show(name)
            if pane is not None:
                self.call_after_refresh(pane.became_visible)
        if pane is not None and pane.is_mounted:
            # A pane with nothing to focus inside (a placeholder) takes the focus itself.
            focusable = [w for w in pane.query("*") if w.can_focus and w.display] or ([pane] if pane.can_focus else [])
            if focusable:
                self.call_after_refresh(focusable[0].focus)

    def action_zoom(self) -> None:
        """Toggle the focused pane filling the screen (every other pane keeps updating)."""
        screen = self.screen
        zoomed = screen.maximized
        if zoomed is not None:
            screen.minimize()
            # Back to the layout's share of the row (see below).
            zoomed.styles.width, zoomed.styles.height = self._zoomed_from
            return
        focused = screen.focused
        pane = next((w for w in (focused, *focused.ancestors) if isinstance(w, Pane)), None) if focused else None
        if pane is None:
            self.notify("focus a pane first (Tab or its number)", severity="information")
            return
        # A pane's size in the layout is an inline fr share of its row, which would also size it
        # when maximized (to three screens wide): it takes the whole screen while zoomed.
        self._zoomed_from = (pane.styles.width, pane.styles.height)
        pane.styles.width = pane.styles.height = "1fr"
        screen.maximize(pane, container=False)

    def action_show_logs(self) -> None:
        """Jump to the logs pane."""
        if "logs" not in self.panes:
            self.notify("this layout has no logs pane", severity="information")
            return
        self.focus_pane("logs")

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save the screen in ``ui.screenshot_dir`` (SVG, and PNG where a converter exists)."""
        del filename, path  # the configured directory and a dated name, always
        self._save_screenshot(self.export_screenshot())

    @work(group="screenshot", exclusive=False, exit_on_error=False, description="save a screenshot")
    async def _save_screenshot(self, svg: str) -> None:
        from llmd_console.ui.screenshot import ScreenshotError, save_screenshot  # noqa: PLC0415

        try:
            said = await save_screenshot(svg, Path(self.config.ui.screenshot_dir))
        except ScreenshotError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.notify(said, timeout=8)

    async def on_unmount(self) -> None:
        """Finish a recording; close the connections."""
        self.stop_recording("the console quit")
        await self.prompting.close()
        await self.session.close()
