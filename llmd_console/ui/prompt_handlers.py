"""The app's handlers for the prompt pane's messages (a mixin of ``ConsoleApp``, so that the app
module stays about the screen and the session)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.app import App

from llmd_console.inference.request import PromptRequest
from llmd_console.models import Obj
from llmd_console.ui.messages import LoadRequested, PromptCancelRequested, PromptOptionsRequested, PromptSubmitted
from llmd_console.ui.prompt_options import PromptOptions

if TYPE_CHECKING:
    from llmd_console.ui.prompting import Prompting

ALL_NAMESPACES = "all"


class PromptHandlers(App[int]):
    """Sending, cancelling and the options dialog of the prompt pane."""

    prompting: Prompting

    def prompt_namespace(self) -> str | None:
        """Where the gateway is looked for: the namespace watched, or the configured one for 'all'."""
        namespace: str = getattr(self, "namespace", ALL_NAMESPACES)
        return None if namespace == ALL_NAMESPACES else namespace

    def connect_prompt(self) -> None:
        """Find where prompts go (again: a new connection or namespace)."""
        if self._exit:
            return  # closing: a worker started now would never run (and its coroutine never be awaited)
        self.run_worker(
            self.prompting.connect(self.prompt_namespace()),
            group="prompt-endpoint",
            exclusive=True,
            exit_on_error=False,
            description="find the gateway",
        )

    def prompt_gateway_moved(self, gateways: Mapping[str, Obj]) -> bool:
        """Whether the Gateway prompts go to (among ``gateways``, by key) has another address
        now, or lost it: the endpoint must be looked for again."""
        if self.prompting.endpoint is None:
            return False
        config = self.prompting.config
        namespace = self.prompt_namespace() or config.cluster.namespace
        return self.prompting.gateway_moved(gateways.get(f"{namespace}/{config.resources.gateway}"))

    def on_prompt_submitted(self, message: PromptSubmitted) -> None:
        """Send the pane's request; Escape cancels this worker."""
        self.run_worker(
            self.prompting.run(message.request),
            group="prompt",
            exclusive=True,
            exit_on_error=False,
            description="prompt request",
        )

    def on_load_requested(self, message: LoadRequested) -> None:
        """Start a load run; Escape (or ctrl+l) stops this worker."""
        self.run_worker(
            self.prompting.load(message.plan, message.request, message.label),
            group="load",
            exclusive=True,
            exit_on_error=False,
            description="load run",
        )

    def on_prompt_cancel_requested(self, message: PromptCancelRequested) -> None:
        """Stop the request (or the load run) in flight: its connections close."""
        self.workers.cancel_group(self, "load" if message.load else "prompt")

    def on_prompt_options_requested(self, message: PromptOptionsRequested) -> None:
        """The options dialog; what it returns becomes the pane's settings."""

        def chosen(request: PromptRequest | None) -> None:
            pane = self.prompting.pane()
            if pane is not None:
                pane.set_request(request)

        self.push_screen(PromptOptions(message.request, message.models), chosen)
