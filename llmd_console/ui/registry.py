"""The pane registry: each pane declares its id, title, keys and mutating actions once,
and the layouts, the help screen, the command palette and key remapping are built
from here. Adding a pane is one module under ``ui/panes/`` and one ``@register_pane``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from textual.binding import Binding

from llmd_console.config import Config

if TYPE_CHECKING:
    from llmd_console.ui.panes.base import Pane

P = TypeVar("P", bound="type[Pane]")


@dataclass(frozen=True)
class PaneContext:
    """What a pane is made from: the app's settings, never a client."""

    config: Config
    now: Callable[[], float]
    time_scale: float  # a simulated cluster's speed-up over the wall clock
    namespace: str


@dataclass(frozen=True)
class PaneSpec:
    """One pane, as the registry knows it."""

    pane_id: str
    title: str
    summary: str  # one line for the help screen and the palette
    factory: Callable[[PaneContext], Pane]
    bindings: tuple[Binding, ...]
    mutations: frozenset[str]  # action names that change the cluster (gated by read-only)


_REGISTRY: dict[str, PaneSpec] = {}


def register(spec: PaneSpec) -> None:
    """Add a pane; an id registered twice is a programming error."""
    if spec.pane_id in _REGISTRY:
        raise ValueError(f"pane {spec.pane_id!r} is registered twice")
    _REGISTRY[spec.pane_id] = spec


def register_pane(cls: P) -> P:
    """Class decorator: register a pane from its class attributes."""
    register(
        PaneSpec(
            pane_id=cls.pane_id,
            title=cls.title,
            summary=cls.summary,
            factory=cls.create,
            bindings=tuple(b for b in cls.BINDINGS if isinstance(b, Binding)),
            mutations=cls.MUTATIONS,
        )
    )
    return cls


def specs() -> tuple[PaneSpec, ...]:
    """Every registered pane, in registration order (the order of ``ui/panes/__init__.py``)."""
    import llmd_console.ui.panes  # noqa: F401, PLC0415 - importing the package registers its panes

    return tuple(_REGISTRY.values())


def spec(pane_id: str) -> PaneSpec:
    """One pane's declaration."""
    specs()
    return _REGISTRY[pane_id]


def pane_ids() -> tuple[str, ...]:
    """The ids layouts may use."""
    return tuple(s.pane_id for s in specs())
