"""Layouts: which panes are on screen and how they share it, read from YAML.

A layout is either ``rows`` of panes with relative sizes, or ``tabs``: one pane at
a time with quick switching (for 80x24). Built-in layouts live in the top-level
``layouts/`` directory; user layouts in ``~/.config/llmd-console/layouts/`` win.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from llmd_console.config import config_dir
from llmd_console.yamlschema import SchemaError, load_file

PaneName = str  # a pane id from the UI's pane registry; checked by load_layout
BUILTIN = ("default", "oncall", "demo", "compact")
# The smallest terminal the default layout is meant for; below it "auto" picks compact.
AUTO_MIN = (160, 45)


@dataclass(frozen=True)
class Slot:
    """One pane in a row, with its share of the row's width."""

    pane: PaneName
    width: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 12:
            raise ValueError(f"width of pane {self.pane!r} must be between 1 and 12")


@dataclass(frozen=True)
class Row:
    """A row of panes, with its share of the screen's height."""

    panes: list[Slot]
    height: int = 1

    def __post_init__(self) -> None:
        if not self.panes:
            raise ValueError("a row needs at least one pane")
        if not 1 <= self.height <= 12:
            raise ValueError("row height must be between 1 and 12")


@dataclass(frozen=True)
class Layout:
    """A pane arrangement."""

    description: str = ""
    rows: list[Row] = field(default_factory=list)
    tabs: list[PaneName] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        if bool(self.rows) == bool(self.tabs):
            raise ValueError("a layout has either 'rows' or 'tabs', not both and not neither")
        seen = self.panes()
        duplicates = {p for p in seen if seen.count(p) > 1}
        if duplicates:
            raise ValueError(f"pane {sorted(duplicates)[0]!r} appears more than once")

    def panes(self) -> list[PaneName]:
        """Panes in reading order."""
        if self.tabs:
            return list(self.tabs)
        return [slot.pane for row in self.rows for slot in row.panes]


class LayoutError(Exception):
    """A layout that cannot be used; the message says which file and why."""


def search_path() -> list[Path]:
    """Directories searched for ``NAME.yaml``, first match wins."""
    here = Path(__file__).resolve().parent
    return [
        config_dir() / "layouts",
        here.parent / "layouts",  # a source checkout or editable install
        Path(sys.prefix) / "share" / "llmd-console" / "layouts",  # a wheel install
    ]


def available() -> list[str]:
    """Names of every layout that can be loaded."""
    names = set(BUILTIN)
    for directory in search_path():
        if directory.is_dir():
            names.update(p.stem for p in directory.glob("*.yaml"))
    return sorted(names)


def load_layout(name: str, panes: Collection[str]) -> Layout:
    """Find and parse layout ``name``; every pane it names must be one of ``panes``."""
    if not name or "/" in name or name.startswith("."):
        raise LayoutError(f"invalid layout name {name!r}")
    for directory in search_path():
        path = directory / f"{name}.yaml"
        if path.is_file():
            try:
                layout = load_file(Layout, path)
            except SchemaError as exc:
                raise LayoutError(str(exc)) from None
            _check_panes(layout, panes, path)
            return Layout(layout.description, layout.rows, layout.tabs, name)
    raise LayoutError(f"no layout named {name!r} (available: {', '.join(available())})")


def choose(name: str, width: int, height: int) -> str:
    """The layout to open: ``auto`` means default on a big terminal, compact on a small one."""
    if name != "auto":
        return name
    return "default" if width >= AUTO_MIN[0] and height >= AUTO_MIN[1] else "compact"


def _check_panes(layout: Layout, known: Collection[str], path: Path) -> None:
    """Refuse a pane id the registry does not know, naming the file, line and place."""
    places = [(f"tabs[{i}]", p) for i, p in enumerate(layout.tabs)] + [
        (f"rows[{r}].panes[{c}].pane", slot.pane)
        for r, row in enumerate(layout.rows)
        for c, slot in enumerate(row.panes)
    ]
    for where, pane in places:
        if pane not in known:
            expected = ", ".join(repr(k) for k in known)
            raise LayoutError(f"{path}:{_line_of(path, pane)}: {where}: expected one of {expected}, got {pane!r}")


def _line_of(path: Path, value: str) -> int:
    """The first line where the scalar ``value`` appears in the YAML file (1 if it cannot be found)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return 1
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.ScalarNode) and node.value == value:
            return int(node.start_mark.line) + 1
        if isinstance(node, yaml.SequenceNode):
            todo.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            todo.extend(v for pair in reversed(node.value) for v in reversed(pair))
    return 1
