"""The console app: the composition root that connects to the cluster, keeps the
state, and hands it to the panes of the current layout."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.cluster.watch import Batch, WatchHub
from llmd_console.config import Config
from llmd_console.layouts import PANES, Layout, LayoutError, available, choose, load_layout
from llmd_console.state import ClusterState
from llmd_console.ui import layout as layout_builder
from llmd_console.ui.dialogs import AskScreen
from llmd_console.ui.help import HelpScreen
from llmd_console.ui.messages import KubeBatchArrived, PodSelected
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.nodes import NodesPane
from llmd_console.ui.panes.placeholder import PlaceholderPane
from llmd_console.ui.panes.pods import PodsPane
from llmd_console.ui.status import StatusBar

PANE_KEYS = PANES
ALL_NAMESPACES = "all"


@dataclass(frozen=True)
class Target:
    """Which cluster to open."""

    kubeconfig: str | None
    context: str | None
    namespace: str | None


class ConsoleApp(App[int]):
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
        Binding("1", "focus_pane(1)", "Pane 1", show=False, id="pane1"),
        Binding("2", "focus_pane(2)", "Pane 2", show=False, id="pane2"),
        Binding("3", "focus_pane(3)", "Pane 3", show=False, id="pane3"),
        Binding("4", "focus_pane(4)", "Pane 4", show=False, id="pane4"),
        Binding("5", "focus_pane(5)", "Pane 5", show=False, id="pane5"),
        Binding("6", "focus_pane(6)", "Pane 6", show=False, id="pane6"),
        Binding("l", "show_logs", "Logs", id="logs", tooltip="Show the selected pod's log"),
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
    ) -> None:
        super().__init__()
        self.config = config
        self.target = target
        self.requested_layout = layout or config.ui.layout
        self.demo = demo
        self.time_scale = time_scale
        self.now = now
        self.read_only = config.ui.read_only
        self.state = ClusterState()
        self.kube: KubeClient | None = None
        self.namespace = target.namespace or config.cluster.namespace
        self.context_name = target.context or config.cluster.context or ""
        self.connection = "connecting"
        self.last_live: float | None = None
        self.layout_name = ""
        self.panes: dict[str, Pane] = {}
        self.status_bar = StatusBar(id="status-bar")
        self.wait_ready = wait_ready
        self.hub: WatchHub | None = None
        self.config_warnings: list[str] = []
        if config.ui.theme in self.available_themes:
            self.theme = config.ui.theme
        elif config.ui.theme:
            self.config_warnings.append(
                f"ui.theme: unknown theme {config.ui.theme!r}; known: {', '.join(sorted(self.available_themes))}"
            )

    # ---- building the screen ------------------------------------------------------
    def _make_panes(self) -> dict[str, Pane]:
        c = self.config
        return {
            "nodes": NodesPane(c.prices),
            "pods": PodsPane(now=self.now),
            "logs": LogsPane(c.logs, lambda: self.kube, now=self.now, time_scale=self.time_scale),
            "gateway": GatewayPane(c.resources, self.namespace),
            "metrics": PlaceholderPane("metrics"),
            "prompt": PlaceholderPane("prompt"),
        }

    def compose(self) -> ComposeResult:
        """Status bar, the layout, the footer."""
        yield self.status_bar
        yield Container(id="main")
        yield Footer()

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
        self.set_interval(1.0, self._tick)
        self.set_interval(5.0, self._tick_ages)
        self.call_after_refresh(self._start_watching)

    def relayout(self, name: str) -> None:
        """Switch to layout ``name`` as soon as the app is idle."""
        self.call_next(self._apply_layout, name)

    async def _apply_layout(self, name: str) -> None:
        try:
            spec = load_layout(name)
        except LayoutError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            if self.layout_name:
                return
            spec = load_layout("default") if name != "default" else Layout(rows=[], tabs=list(PANE_KEYS))
        self.layout_name = spec.name or name
        main = self.query_one("#main", Container)
        await main.remove_children()
        self.panes = self._make_panes()
        await main.mount(layout_builder.build(spec, {k: self.panes[k] for k in spec.panes()}))
        self.focus_pane(spec.panes()[0])
        self.call_after_refresh(self._catch_up)
        self._draw_status()

    def _catch_up(self) -> None:
        for pane in self.visible_panes():
            pane.cluster_changed(self.state, None)
        pods = self.panes.get("pods")
        if isinstance(pods, PodsPane) and pods.selected and "logs" in self.panes:
            logs = self.panes["logs"]
            if isinstance(logs, LogsPane):
                logs.show_pod(pods.selected)

    def visible_panes(self) -> list[Pane]:
        """Panes that are mounted now."""
        return [p for p in self.panes.values() if p.is_mounted]

    # ---- the cluster -------------------------------------------------------------------
    def _start_watching(self) -> None:
        self._watch()

    @work(group="kube", exclusive=True, exit_on_error=False, description="connect and watch the cluster")
    async def _watch(self) -> None:
        """Connect (reading the kubeconfig like kubectl) and keep every kind in sync."""
        if self.wait_ready is not None:
            # The in-process simulator starts alongside the first frame.
            await asyncio.to_thread(self.wait_ready.wait, 60)
        if self.kube is None:
            try:
                self.kube = await KubeClient.connect(
                    self.target.kubeconfig,
                    self.target.context or self.config.cluster.context,
                    None,
                    self.config.cluster.request_timeout_seconds,
                )
            except Exception as exc:  # KubeError, OSError, and the kubeconfig loader's own types
                self.connection = f"no connection: {exc}"
                for pane in self.visible_panes():
                    pane.show_notice(f"not connected: {exc}")
                self._draw_status()
                self.notify(f"cannot use the kubeconfig: {exc}", severity="error", timeout=15)
                return
            self.context_name = self.kube.context
            if self.target.namespace is None and self.config.cluster.namespace == "":
                self.namespace = self.kube.namespace
        ns = None if self.namespace == ALL_NAMESPACES else self.namespace
        kinds = [KINDS[k] for k in KINDS]
        hub = WatchHub(
            self.kube,
            kinds,
            ns,
            self._deliver,
            batch_ms=self.config.refresh.batch_ms,
            reconnect_max=self.config.refresh.reconnect_max_seconds,
        )
        self.hub = hub
        await hub.run()

    def _deliver(self, batch: Batch) -> None:
        self.post_message(KubeBatchArrived(batch))

    def on_kube_batch_arrived(self, message: KubeBatchArrived) -> None:
        """Apply a batch and let the panes redraw what changed."""
        self.apply_batch(message.batch)

    def apply_batch(self, batch: Batch) -> None:
        """Apply ``batch`` to the state and the visible panes."""
        changes = self.state.apply(batch)
        for pane in self.panes.values():
            if pane.is_mounted:
                pane.cluster_changed(self.state, changes)
        self._update_connection()

    def _update_connection(self) -> None:
        states = self.state.states
        if not states:
            return
        reconnecting = [s for s in states.values() if s.status == "reconnecting"]
        if reconnecting:
            self.connection = "disconnected, retrying"
        elif any(s.status == "loading" for s in states.values()):
            self.connection = "connecting"
        else:
            self.connection = "connected"
            self.last_live = self.now()
        self._draw_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One funnel for worker failures: say so in the status bar and once as a toast."""
        if event.state == WorkerState.ERROR and event.worker.group == "kube":
            self.connection = f"watch stopped: {event.worker.error}"
            self._draw_status()
            self.notify(f"the cluster watch stopped: {event.worker.error}", severity="error", timeout=15)

    def on_pod_selected(self, message: PodSelected) -> None:
        """The logs follow the selected pod."""
        logs = self.panes.get("logs")
        if isinstance(logs, LogsPane) and logs.is_mounted:
            logs.show_pod(message.key)

    # ---- periodic ------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.connection == "connected":
            self.last_live = self.now()
        self._draw_status()

    def _tick_ages(self) -> None:
        pods = self.panes.get("pods")
        if isinstance(pods, PodsPane) and pods.is_on_screen:
            pods.tick_ages()

    def _draw_status(self) -> None:
        age = None
        if self.connection != "connected" and self.last_live is not None:
            age = self.now() - self.last_live
        self.status_bar.draw(
            context=self.context_name or "(current context)",
            namespace=self.namespace,
            connection=self.connection,
            read_only=self.read_only,
            data_age=age,
            layout=self.layout_name,
            demo=self.demo,
        )

    def on_resize(self) -> None:
        """``auto`` layouts follow the terminal size."""
        if self.requested_layout == "auto" and self.layout_name:
            wanted = choose("auto", self.size.width, self.size.height)
            if wanted != self.layout_name:
                self.relayout(wanted)

    # ---- actions -----------------------------------------------------------------------
    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.help_sections()))

    def _all_bindings(self) -> list[Binding]:
        groups: list[Iterable[BindingType]] = [self.BINDINGS, PodsPane.BINDINGS, LogsPane.BINDINGS]
        return [b for group in groups for b in group if isinstance(b, Binding)]

    def help_sections(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """(section, [(key, description, action id)]) for the help screen."""

        def rows(bindings: Iterable[BindingType]) -> list[tuple[str, str, str]]:
            out = []
            for b in bindings:
                if isinstance(b, Binding):
                    key = self.config.keys.get(b.id, b.key) if b.id else b.key
                    out.append((key, b.tooltip or b.description, b.id or ""))
            return out

        sections = [("Everywhere", rows(self.BINDINGS))]
        for cls in (PodsPane, LogsPane):
            sections.append((f"{cls.title} pane", rows(cls.BINDINGS)))
        sections.append(("Tables", [("up/down, pgup/pgdn", "move the cursor", ""), ("tab", "next pane", "")]))
        return sections

    def action_next_layout(self) -> None:
        """Cycle through the layouts."""
        names = available()
        current = names.index(self.layout_name) if self.layout_name in names else -1
        self.requested_layout = names[(current + 1) % len(names)]
        self.relayout(self.requested_layout)

    def switch_layout(self, name: str) -> None:
        """Open layout ``name`` (also from the command palette)."""
        self.requested_layout = name
        self.relayout(name)

    def action_focus_pane(self, index: int) -> None:
        """Focus the n-th pane of the layout (in the compact layout: bring it to the front)."""
        try:
            spec = load_layout(self.layout_name)
        except LayoutError:
            return
        names = spec.panes()
        if not 1 <= index <= len(names):
            return
        self.focus_pane(names[index - 1])

    def focus_pane(self, name: str) -> None:
        """Bring pane ``name`` forward and focus its first focusable widget."""
        tabs = self.query(layout_builder.PaneTabs)
        if tabs:
            tabs.first().show(name)
            pane = self.panes.get(name)
            if pane is not None:
                self.call_after_refresh(pane.became_visible, self.state)
        pane = self.panes.get(name)
        if pane is not None and pane.is_mounted:
            focusable = [w for w in pane.query("*") if w.can_focus and w.display]
            if focusable:
                self.call_after_refresh(focusable[0].focus)

    def action_show_logs(self) -> None:
        """Jump to the logs pane."""
        self.focus_pane("logs")

    def action_namespace(self) -> None:
        """Ask for a namespace, then rewatch."""
        self.push_screen(AskScreen("Namespace (or 'all')", self.namespace, _valid_namespace), self._namespace_chosen)

    def _namespace_chosen(self, value: str | None) -> None:
        if not value or value == self.namespace:
            return
        self.namespace = value
        self.state = ClusterState()
        self.relayout(self.layout_name)
        self._start_watching()
        self.notify(f"namespace: {value}", timeout=2)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action in the command palette."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key and action", self.action_help)
        yield SystemCommand("Switch namespace", "Watch another namespace", self.action_namespace)
        for name in available():
            yield SystemCommand(
                f"Layout: {name}", f"Arrange the panes as '{name}'", lambda n=name: self.switch_layout(n)
            )
        for name in PANE_KEYS:
            yield SystemCommand(f"Go to pane: {name}", f"Focus the {name} pane", lambda n=name: self.focus_pane(n))
        for pane, bindings in (("logs", LogsPane.BINDINGS), ("pods", PodsPane.BINDINGS)):
            for b in bindings:
                if isinstance(b, Binding) and b.show:
                    yield SystemCommand(
                        f"{pane.capitalize()}: {b.description}",
                        b.tooltip or b.description,
                        lambda p=pane, a=b.action: self._pane_action(p, a),
                    )

    def _pane_action(self, name: str, action: str) -> None:
        pane = self.panes.get(name)
        if pane is not None and pane.is_mounted:
            self.focus_pane(name)
            self.call_after_refresh(pane.run_action, action)

    async def on_unmount(self) -> None:
        """Close the connection."""
        if self.kube is not None:
            await self.kube.close()


def _valid_namespace(value: str) -> str | None:
    """An error message, or None when ``value`` is a namespace name (or 'all')."""
    import re  # noqa: PLC0415

    if value == ALL_NAMESPACES or (re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value or "") and len(value) <= 63):
        return None
    return "a namespace is lowercase letters, digits and '-', at most 63 characters"
