"""Decoding request bodies into plain JSON values, with bounds.

Everything the simulator stores, serves and copies must be JSON: dicts with string
keys, lists, strings, finite numbers, booleans and null. YAML can say more
(timestamps, ``!!binary``, ``!!set``, ``.nan``, non-string keys, aliases) and JSON
parsers accept ``NaN``, ``Infinity`` and numbers that overflow to infinity; none of
that may reach the store, where it would break every later JSON response.

The API server decodes with sigs.k8s.io/json, which bounds nesting at 10,000 levels;
the simulator's bound is lower (:data:`MAX_DEPTH`) because Python copies and
serialises nested values recursively. The node bound keeps YAML alias expansion
("billion laughs") from turning a small body into an unbounded object.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml

MAX_DEPTH = 100
MAX_NODES = 1_000_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class DecodeError(ValueError):
    """A body that is not a bounded JSON value."""


def _no_constant(name: str) -> Any:
    raise DecodeError(f"invalid character '{name[0]}' looking for beginning of value")


def _type_name(value: Any) -> str:
    kinds = {bytes: "binary data (!!binary)", set: "a set (!!set)"}
    for kind, text in kinds.items():
        if isinstance(value, kind):
            return text
    if type(value).__name__ in ("datetime", "date"):
        return "a timestamp"
    return type(value).__name__


def replace_surrogates(text: str) -> str:
    """Lone surrogates become U+FFFD, as Go's JSON decoder does."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def plain(value: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """A fresh copy of ``value`` made only of JSON types; raises :class:`DecodeError` otherwise.

    Iterative, so neither depth nor aliasing can exhaust the stack; shared (aliased)
    sub-values are copied each time they are reached and count against ``max_nodes``.
    """
    nodes = 0

    def leaf(v: Any, where: str) -> Any:
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, int):
            if not INT64_MIN <= v <= INT64_MAX:
                raise DecodeError(f"{where}: the number {v} does not fit in 64 bits")
            return v
        if isinstance(v, float):
            if not math.isfinite(v):
                raise DecodeError(f"{where}: {v} is not a JSON number")
            return v
        if isinstance(v, str):
            return replace_surrogates(v)
        raise DecodeError(f"{where}: {_type_name(v)} is not a JSON value")

    def container(v: Any) -> Any:
        return {} if isinstance(v, dict) else []

    if not isinstance(value, (dict, list)):
        return leaf(value, "body")
    root = container(value)
    # (source, destination, depth, path)
    stack: list[tuple[Any, Any, int, str]] = [(value, root, 1, "")]
    while stack:
        src, dst, depth, path = stack.pop()
        if depth > max_depth:
            raise DecodeError(f"the object is nested more than {max_depth} levels deep (at {path or '/'})")
        items = src.items() if isinstance(src, dict) else enumerate(src)
        for key, child in items:
            nodes += 1
            if nodes > max_nodes:
                raise DecodeError(f"the object has more than {max_nodes} values")
            if isinstance(src, dict) and not isinstance(key, str):
                raise DecodeError(f"{path or '/'}: the key {key!r} is not a string")
            where = f"{path}/{key}"
            if isinstance(child, (dict, list)):
                sub = container(child)
                stack.append((child, sub, depth + 1, where))
            else:
                sub = leaf(child, where)
            if isinstance(dst, dict):
                dst[replace_surrogates(str(key))] = sub
            else:
                dst.append(sub)
    return root


def loads_json(text: str | bytes) -> Any:
    """Parse JSON into plain values (no NaN/Infinity, bounded depth and size)."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError as exc:
        raise DecodeError(f"the object is nested more than {MAX_DEPTH} levels deep") from exc
    except DecodeError:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise DecodeError(str(exc)) from exc
    return plain(value)


def loads_yaml(text: str) -> Any:
    """Parse one YAML document into plain values; raises :class:`DecodeError` for YAML-only types."""
    try:
        value = yaml.safe_load(text)
    except RecursionError as exc:
        raise DecodeError(f"the object is nested more than {MAX_DEPTH} levels deep") from exc
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # ValueError/TypeError/OverflowError: constructors refusing e.g. a bad timestamp or
        # an unhashable key.
        raise DecodeError(str(exc)) from exc
    return plain(value)
