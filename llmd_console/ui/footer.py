"""The footer: the keys that work here, as many as fit, dropping the least important
first and never cutting a hint in the middle of a word.

Importance: help and quit first (a newcomer's way in and out), then the focused pane's
keys in the order the pane declares them, then the other keys of the app, with the
command palette last. Each pane orders its ``BINDINGS`` most important first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

from llmd_console.ui.keys import key_label

FIRST = ("help", "quit")  # action names always offered first
SEPARATOR = "  "


@dataclass(frozen=True)
class Hint:
    """One key hint: ``key`` as typed and what it does, in a word or two."""

    key: str
    description: str

    @property
    def width(self) -> int:
        """Cells it takes on screen."""
        return len(self.key) + 1 + len(self.description)


def fit(hints: Sequence[Hint], width: int) -> list[Hint]:
    """The longest prefix of ``hints`` (most important first) that fits in ``width`` cells,
    separators included: the rest is dropped whole."""
    kept: list[Hint] = []
    used = 0
    for hint in hints:
        extra = hint.width + (len(SEPARATOR) if kept else 0)
        if used + extra > width:
            break
        kept.append(hint)
        used += extra
    return kept


class HintsFooter(Widget):
    """One line of key hints for what has focus, fitted to the terminal's width."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"hints--key", "hints--description"}

    def on_mount(self) -> None:
        """Redraw whenever the active keys change (focus moved, a binding was gated)."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        """Stop listening."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        del screen
        self.refresh()

    def hints(self) -> list[Hint]:
        """The shown, enabled keys of what has focus, most important first (one per action)."""
        by_action: dict[str, Hint] = {}
        palette = None
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.action in {"app.command_palette", "command_palette"}:
                palette = Hint(key_label(binding.key), "palette")
            elif binding.show and active.enabled and binding.action not in by_action:
                by_action[binding.action] = Hint(key_label(binding.key), binding.description)
        first = [by_action.pop(action) for action in FIRST if action in by_action]
        return first + list(by_action.values()) + ([palette] if palette is not None else [])

    def render(self) -> Text:
        """The hints that fit, left to right."""
        key_style = self.get_component_rich_style("hints--key")
        text_style = self.get_component_rich_style("hints--description")
        out = Text(no_wrap=True, overflow="crop")
        for i, hint in enumerate(fit(self.hints(), self.size.width - 2)):
            out.append(SEPARATOR if i else " ")
            out.append(hint.key, style=key_style)
            out.append(f" {hint.description}", style=text_style)
        return out
