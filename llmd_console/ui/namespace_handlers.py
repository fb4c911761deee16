"""Switching namespaces (a mixin of ``ConsoleApp``): a picker of those that exist and ``all``,
then the session rewatches, the prompt looks for its gateway and the permissions are asked again."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from textual.app import App

from llmd_console.session import ALL_NAMESPACES

if TYPE_CHECKING:
    from llmd_console.config import Config
    from llmd_console.session import Session

MAX_NAMESPACES = 5000  # listed in the namespace picker; more can still be typed


class NamespaceHandlers(App[int]):
    """The namespace key and its picker."""

    config: Config
    session: Session
    selected_pod: str | None
    layout_name: str
    _client_ready: asyncio.Event

    if TYPE_CHECKING:

        @property
        def namespace(self) -> str: ...
        def connect_prompt(self) -> None: ...
        def check_permissions(self) -> None: ...
        def relayout(self, name: str) -> None: ...

    def action_namespace(self) -> None:
        """Pick a namespace from those that exist (or 'all'), then rewatch."""
        from llmd_console.ui.dialogs import NamespacePicker  # noqa: PLC0415

        picker = NamespacePicker(self.namespace, self._namespace_names, _valid_namespace, ALL_NAMESPACES)
        self.push_screen(picker, self._namespace_chosen)

    async def _namespace_names(self) -> list[str]:
        """The namespaces of the cluster (one list call; its error is the picker's to show)."""
        if self.session.client is None:
            wait = self.config.cluster.request_timeout_seconds
            try:
                await asyncio.wait_for(self._client_ready.wait(), wait)
            except TimeoutError:
                raise RuntimeError(f"not connected to the cluster after {wait:g}s") from None
        client = self.session.client
        assert client is not None
        data = await client.get("/api/v1/namespaces", limit=MAX_NAMESPACES)
        items = data.get("items") or []
        return [str((i.get("metadata") or {}).get("name", "")) for i in items if isinstance(i, dict)]

    def _namespace_chosen(self, value: str | None) -> None:
        if not value or value == self.namespace:
            return
        self.session.switch_namespace(value)
        self.connect_prompt()
        self.check_permissions()
        self.selected_pod = None
        self.relayout(self.layout_name)
        self.notify(f"namespace: {value}", timeout=2)


def _valid_namespace(value: str) -> str | None:
    """An error message, or None when ``value`` is a namespace name (or 'all')."""
    if value == ALL_NAMESPACES or (re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value or "") and len(value) <= 63):
        return None
    return "a namespace is lowercase letters, digits and '-', at most 63 characters"
