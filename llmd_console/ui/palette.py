"""The command palette's entries (a mixin of ``ConsoleApp``): the console's own (screenshot,
help, namespace), the cluster actions that need no selection (when offered), the fault picker,
every layout, every pane and every pane key, from the pane registry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.screen import Screen

from llmd_console.actions.safety import TAKE_OVER
from llmd_console.layouts import available
from llmd_console.ui.messages import ActionRequested
from llmd_console.ui.registry import PaneSpec, specs

if TYPE_CHECKING:
    from llmd_console.config import Config
    from llmd_console.ui.panes.base import Pane


class PaletteCommands(App[int]):
    """``get_system_commands`` for the console."""

    config: Config
    simulated: bool | None

    if TYPE_CHECKING:

        def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None: ...
        def action_help(self) -> None: ...
        def action_namespace(self) -> None: ...
        def action_action_log(self) -> None: ...
        def action_scenarios(self) -> None: ...
        def action_allowed(self, action: str) -> bool: ...
        def switch_layout(self, name: str) -> None: ...
        def focus_pane(self, name: str) -> None: ...
        def _pane(self, name: str) -> Pane | None: ...

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action in the command palette, from the pane registry."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":  # Textual's saves to ~/Downloads, which may not exist
                yield command
        yield SystemCommand(
            "Screenshot",
            f"Save the screen as SVG (and PNG) in {self.config.ui.screenshot_dir}",
            lambda: self.set_timer(0.1, self.action_screenshot),  # once the palette has closed
        )
        yield SystemCommand("Help", "Every key and action", self.action_help)
        yield SystemCommand("Switch namespace", "Watch another namespace", self.action_namespace)
        yield from self._action_commands()
        for name in available():
            yield SystemCommand(
                f"Layout: {name}", f"Arrange the panes as '{name}'", lambda n=name: self.switch_layout(n)
            )
        for pane_spec in specs():
            yield SystemCommand(
                f"Go to pane: {pane_spec.pane_id}", pane_spec.summary, lambda n=pane_spec.pane_id: self.focus_pane(n)
            )
            yield from self._pane_commands(pane_spec)

    def _action_commands(self) -> Iterable[SystemCommand]:
        """The cluster actions that need no selection, when offered."""
        pool = self.config.gke.accelerator_pool
        for action, title, help_ in (
            ("deploy", "Deploy Pattern 1", "Render and apply the Pattern 1 manifests from the config (previewed)"),
            (
                "deploy-take-over",
                TAKE_OVER,
                "Deploy Pattern 1 with force: fields another manager owns (Helm, kubectl) become the console's",
            ),
            ("undeploy", "Undeploy", "Remove the namespace's llm-d objects (the runbook's cleanup option 2)"),
            ("scale-to-zero", "Scale to zero", f"{pool} to 0 nodes and the model to 0 replicas: stop paying"),
            ("scale-back", "Scale back", f"{pool} and the model back to serving"),
            ("scale-pool", f"Resize node pool {pool}", "Through the GKE Container API (previewed with cost)"),
        ):
            if self.action_allowed(action):
                yield SystemCommand(title, help_, lambda a=action: self.post_message(ActionRequested(a)))
        yield SystemCommand("Action log", "The last action's progress, line by line", self.action_action_log)
        if self.simulated is not False:
            yield SystemCommand(
                "Fault scenarios", "Break the simulated cluster on cue, or heal it", self.action_scenarios
            )

    def _pane_commands(self, pane_spec: PaneSpec) -> Iterable[SystemCommand]:
        for b in pane_spec.bindings:
            if not b.show or (b.action in pane_spec.mutations and not self.action_allowed(b.action)):
                continue
            yield SystemCommand(
                f"{pane_spec.title.split(' ')[0]}: {b.description}",
                b.tooltip or b.description,
                lambda p=pane_spec.pane_id, a=b.action: self._pane_action(p, a),
            )

    def _pane_action(self, name: str, action: str) -> None:
        pane = self._pane(name)
        if pane is None:
            self.notify(f"the {name} pane is not in this layout", severity="information")
            return
        self.focus_pane(name)
        self.call_after_refresh(pane.run_action, action)
