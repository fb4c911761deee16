"""Load YAML into typed dataclasses, with errors that name the file, line and field.

Each dataclass field may carry ``metadata={"doc": ...}``; unknown keys are errors
(with a did-you-mean), so a typo in a config file is caught instead of ignored.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml

T = TypeVar("T")
# Bounds on the work one file can cause: its size, and the nodes built from it (aliases
# can make a small file name the same subtree millions of times).
MAX_BYTES = 1024 * 1024
MAX_NODES = 20_000


class SchemaError(Exception):
    """A YAML document that does not fit its schema; ``str()`` names file, line and field."""

    def __init__(self, source: str, line: int | None, path: str, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {path or '(top level)'}: {problem}" if path else f"{where}: {problem}")
        self.source, self.line, self.path, self.problem = source, line, path, problem


def _line(node: yaml.Node | None) -> int | None:
    mark = getattr(node, "start_mark", None)  # None for the empty document's stand-in
    return int(mark.line) + 1 if mark is not None else None


def _type_name(tp: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if tp in names:
        return names[tp]
    origin = get_origin(tp)
    if origin in (list, tuple):
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return str(tp)


class _Loader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = 0

    def fail(self, node: yaml.Node | None, path: str, problem: str) -> SchemaError:
        return SchemaError(self.source, _line(node), path, problem)

    def build(self, tp: Any, node: yaml.Node | None, path: str) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, path, f"more than {MAX_NODES:,} values (aliases repeating a subtree?)")
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = get_args(tp)
            if type(None) in options and (node is None or _is_null(node)):
                return None
            inner = [o for o in options if o is not type(None)]
            if len(inner) == 1:
                return self.build(inner[0], node, path)
            errors = []
            for option in inner:
                try:
                    return self.build(option, node, path)
                except SchemaError as exc:
                    errors.append(exc.problem)
            raise self.fail(node, path, " or ".join(errors))
        if node is None:
            raise self.fail(node, path, "is required")
        if dataclasses.is_dataclass(tp):
            return self.dataclass(tp, node, path)
        if origin is dict:
            return self.mapping(tp, node, path)
        if origin in (list, tuple):
            return self.sequence(tp, node, path)
        if origin is typing.Literal:
            value = self.scalar(str, node, path)
            if value not in get_args(tp):
                raise self.fail(node, path, f"expected {_type_name(tp)}, got {value!r}")
            return value
        return self.scalar(tp, node, path)

    def scalar(self, tp: Any, node: yaml.Node, path: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(
                node,
                path,
                f"expected {_type_name(tp)}, got a {'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}",
            )
        if tp is str and node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # a plain 2001-13-45 is text to a string field, not a bad date
        try:
            value = yaml.safe_load(yaml.serialize(node))
        except Exception as exc:
            # An explicit tag that does not fit (!!int abc), a bad date, a 5,000-digit integer...
            problem = str(getattr(exc, "problem", None) or exc).splitlines()[0][:120]
            raise self.fail(node, path, f"expected {_type_name(tp)}, got {node.value[:80]!r} ({problem})") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(node, path, f"expected a finite number, got {node.value[:80]!r}")
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return node.value  # keep what was written ("2x2", 1.10)
        if not isinstance(value, tp) or (tp is not bool and isinstance(value, bool)):
            raise self.fail(node, path, f"expected {_type_name(tp)}, got {node.value!r}")
        return value

    def mapping(self, tp: Any, node: yaml.Node, path: str) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, "expected a mapping")
        key_tp, value_tp = get_args(tp)
        out = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_tp, key_node, path)
            out[key] = self.build(value_tp, value_node, f"{path}.{key}" if path else str(key))
        return out

    def sequence(self, tp: Any, node: yaml.Node, path: str) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, "expected a list")
        args = get_args(tp)
        item_tp = args[0]
        items = [self.build(item_tp, item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        return tuple(items) if get_origin(tp) is tuple else items

    def dataclass(self, tp: Any, node: yaml.Node, path: str) -> Any:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, "expected a mapping")
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
        given: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            name = key.replace("-", "_")
            if name not in fields:
                close = difflib.get_close_matches(name, list(fields), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(fields)})"
                raise self.fail(key_node, f"{path}.{key}" if path else key, f"unknown field{hint}")
            given[name] = value_node
        kwargs = {}
        for name, field in fields.items():
            sub = f"{path}.{name}" if path else name
            if name in given:
                kwargs[name] = self.build(hints[name], given[name], sub)
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise self.fail(node, sub, "is required")
        try:
            return tp(**kwargs)
        except ValueError as exc:  # a dataclass's own __post_init__ check
            raise self.fail(node, path, str(exc)) from None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def load_text(tp: type[T], text: str, source: str) -> T:
    """Parse ``text`` (named ``source`` in errors) into ``tp``."""
    if len(text) > MAX_BYTES:
        raise SchemaError(source, None, "", f"larger than {MAX_BYTES // 1024} KiB; not a config file?")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError(source, line, "", f"not valid YAML: {problem}") from None
    except RecursionError:
        raise SchemaError(source, None, "", "nested too deeply") from None
    if root is None or _is_null(root):
        root = yaml.MappingNode("tag:yaml.org,2002:map", [])
    try:
        return typing.cast("T", _Loader(source).build(tp, root, ""))
    except RecursionError:
        raise SchemaError(source, None, "", "nested too deeply") from None


def load_file(tp: type[T], path: Path) -> T:
    """Read and parse a YAML file into ``tp``."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SchemaError(str(path), None, "", f"larger than {MAX_BYTES // 1024} KiB; not a config file?")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SchemaError(str(path), None, "", "not UTF-8 text") from None
    return load_text(tp, text, str(path))
