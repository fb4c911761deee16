"""A pod described or as YAML, fetched when asked for and shown in a scrollable screen
(Escape closes it; ``/`` finds text, ``n`` the next match)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from llmd_console.cluster.kube import KubeError
from llmd_console.sanitize import inert, one_line
from llmd_console.views.describe import describe_pod, to_yaml

if TYPE_CHECKING:
    from llmd_console.cluster.kube import KubeClient

View = Literal["describe", "yaml"]
MAX_EVENTS_LISTED = 500  # events asked for; describe shows the newest


class ObjectUnavailable(Exception):
    """The object could not be read; the message says why, in words."""


def _why(exc: KubeError, what: str) -> str:
    if exc.status == 404:
        return f"{what} no longer exists"
    if exc.status == 403:
        return f"not allowed to read {what}: {exc.message}"
    if exc.status == 0:
        return f"cannot reach the API server to read {what}: {exc.message}"
    return f"the API server refused to return {what} ({exc.status} {exc.reason}): {exc.message}"


async def pod_text(client: KubeClient, key: str, view: View, now: float) -> tuple[str, str]:
    """(title, text) of pod ``key`` (namespace/name): ``kubectl describe`` with its events,
    or its YAML; raises :class:`ObjectUnavailable` with the reason in words."""
    namespace, _, name = key.partition("/")
    what = f"pod {name} in {namespace}"
    try:
        pod = await client.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
        if view == "yaml":
            return f"pod {name} (YAML)", to_yaml(pod)
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        selector = f"involvedObject.kind=Pod,involvedObject.name={name},involvedObject.namespace={namespace}"
        events = await client.get(
            f"/api/v1/namespaces/{namespace}/events",
            fieldSelector=selector + (f",involvedObject.uid={uid}" if uid else ""),
            limit=MAX_EVENTS_LISTED,
        )
    except KubeError as exc:
        raise ObjectUnavailable(_why(exc, what)) from None
    items = [e for e in events.get("items") or [] if isinstance(e, dict)]
    return f"pod {name} (describe)", describe_pod(pod, items, now)


class ObjectScreen(ModalScreen[None]):
    """Text about an object: scrollable, searchable, closed with Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="object.close"),
        Binding("slash", "find", "Find", id="object.find", tooltip="Find text (a regex)"),
        Binding("n", "next_match", "Next match", id="object.next", tooltip="Go to the next match"),
    ]
    AUTO_FOCUS = "#object-body"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = [inert(line) for line in text.splitlines()]
        self.pattern: re.Pattern[str] | None = None
        self.matches: list[int] = []
        self.at = -1

    def compose(self) -> ComposeResult:
        """The text in a scroll view, a find box under it."""
        with Vertical(id="object-box") as box:
            box.border_title = one_line(self.title_text, 120)
            box.border_subtitle = "esc close · / find · n next"
            with VerticalScroll(id="object-body"):
                yield Static(self._text(), id="object-text")
            find = Input(placeholder="find (regex)", id="object-find")
            find.display = False
            yield find

    def _text(self) -> Text:
        text = Text("\n".join(self.lines), no_wrap=True)
        if self.pattern is not None:
            text.highlight_regex(self.pattern, "reverse")
        if 0 <= self.at < len(self.matches):
            start = sum(len(line) + 1 for line in self.lines[: self.matches[self.at]])
            text.stylize("bold reverse yellow", start, start + len(self.lines[self.matches[self.at]]))
        return text

    def action_close(self) -> None:
        """Close the find box if open, else the screen."""
        find = self.query_one("#object-find", Input)
        if find.display:
            find.display = False
            self.query_one("#object-body").focus()
            return
        self.dismiss(None)

    def action_find(self) -> None:
        """Open the find box."""
        find = self.query_one("#object-find", Input)
        find.display = True
        find.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Find the text; go to its first match."""
        event.stop()
        event.input.display = False
        self.query_one("#object-body").focus()
        try:
            self.pattern = re.compile(event.value, re.IGNORECASE) if event.value else None
        except re.error:
            self.pattern = re.compile(re.escape(event.value), re.IGNORECASE)
        self.matches = [i for i, line in enumerate(self.lines) if self.pattern and self.pattern.search(line)]
        self.at = -1
        if self.pattern is not None and not self.matches:
            self.notify(f"no match for {event.value}", severity="warning")
        self.action_next_match()

    def action_next_match(self) -> None:
        """Scroll to the next match (wrapping around)."""
        if not self.matches:
            if self.pattern is None:
                self.notify("nothing to find yet: press / first", severity="information")
            self.query_one("#object-text", Static).update(self._text())
            return
        self.at = (self.at + 1) % len(self.matches)
        self.query_one("#object-text", Static).update(self._text())
        body = self.query_one("#object-body", VerticalScroll)
        body.scroll_to(y=max(0, self.matches[self.at] - 3), animate=False)
        box = self.query_one("#object-box")
        box.border_subtitle = f"match {self.at + 1} of {len(self.matches)} · esc close · / find · n next"
