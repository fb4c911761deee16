"""Field sets, as server-side apply tracks them (structured-merge-diff's ``fieldpath``).

A path is a tuple of elements: ``("f", name)`` a field of a map, ``("k", '{"name":"x"}')``
an item of an associative list by its key fields, ``("v", '"x"')`` a value of a set-like
list, ``("i", "0")`` an item of a list by index. Key and value texts are canonical JSON, so
paths hash and compare. A field set is a set of paths; it is stored in ``managedFields``
as ``FieldsV1`` (``{"f:spec": {"f:replicas": {}}}``, with ``"."`` marking a node that is
owned itself and has owned children, such as a list item).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.patching import MERGE_KEYS, MERGED_PRIMITIVE_LISTS

Element = tuple[str, str]
Path = tuple[Element, ...]
FieldSet = set[Path]

MAX_DEPTH = 64  # deeper FieldsV1 is refused rather than recursed into
# Metadata the server owns or that names the object: never in a manager's set.
SERVER_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
        "generateName",
    }
)


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _list_key(field: str, items: list[Any]) -> tuple[str, ...] | None:
    """The key fields of an associative list (None: atomic or set-like)."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    key = MERGE_KEYS.get(field)
    if field == "ports":  # (the API server keys ports by protocol too; it defaults to TCP)
        key = "containerPort" if "containerPort" in items[0] else "port"
    if key is None or not all(key in item for item in items):
        return None
    return (key,)


def item_element(keys: tuple[str, ...], item: dict[str, Any]) -> Element:
    """The ``k:`` element naming one item of an associative list."""
    return ("k", _canonical({k: item[k] for k in keys}))


def fields_of(obj: Any, prefix: Path = ()) -> FieldSet:
    """Every field ``obj`` sets, as the set a manager sending it would own."""
    out: FieldSet = set()
    if not isinstance(obj, dict):
        return out
    for name, value in obj.items():
        if value is None:
            continue
        path = (*prefix, ("f", str(name)))
        if isinstance(value, dict) and value:
            out |= fields_of(value, path)
        elif isinstance(value, list) and value:
            keys = _list_key(str(name), value)
            if keys is not None:
                for item in value:
                    item_path = (*path, item_element(keys, item))
                    out.add(item_path)
                    out |= fields_of(item, item_path)
            elif name in MERGED_PRIMITIVE_LISTS:
                out |= {(*path, ("v", _canonical(v))) for v in value}
            else:
                out.add(path)
        else:
            out.add(path)
    return out


def object_fields(obj: Any, *, status: bool, subresource: str = "") -> FieldSet:
    """The fields of a whole object a write owns: no apiVersion/kind or server metadata; the
    status only for a type without a status subresource (or a status write alone)."""
    if not isinstance(obj, dict):
        return set()
    if subresource == "status":
        return fields_of({"status": obj.get("status")})
    if subresource == "scale":
        return {(("f", "spec"), ("f", "replicas"))}
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind") and (status or k != "status")}
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        body["metadata"] = {k: v for k, v in metadata.items() if k not in SERVER_METADATA}
    return fields_of(body)


def leaves(fields: Iterable[Path]) -> FieldSet:
    """The paths of ``fields`` no other path of it extends."""
    paths = set(fields)
    parents = {p[:i] for p in paths for i in range(1, len(p))}
    return paths - parents


_MISSING = object()


def value_at(obj: Any, path: Path) -> Any:
    """The value at ``path`` in ``obj`` (a sentinel, :data:`MISSING`, when absent)."""
    cur = obj
    for kind, text in path:
        if kind == "f":
            if not isinstance(cur, dict) or text not in cur:
                return _MISSING
            cur = cur[text]
        elif kind == "k":
            want = json.loads(text)
            if not isinstance(cur, list):
                return _MISSING
            cur = next(
                (i for i in cur if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())), _MISSING
            )
            if cur is _MISSING:
                return _MISSING
        elif kind == "v":
            value = json.loads(text)
            if not isinstance(cur, list) or value not in cur:
                return _MISSING
            cur = value
        else:
            if not isinstance(cur, list) or not text.isdigit() or int(text) >= len(cur):
                return _MISSING
            cur = cur[int(text)]
    return cur


MISSING = _MISSING


def remove_at(obj: Any, path: Path) -> None:
    """Remove the field, list item or set value at ``path`` (in place; absent is fine)."""
    if not path:
        return
    parent = value_at(obj, path[:-1])
    kind, text = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(text, None)
    elif kind in ("k", "v", "i") and isinstance(parent, list):
        target = value_at(obj, path)
        if target is not _MISSING:
            for index, item in enumerate(parent):
                if item is target or (kind == "v" and item == target):
                    del parent[index]
                    break


def to_fields_v1(fields: Iterable[Path]) -> dict[str, Any]:
    """The ``FieldsV1`` JSON of a field set."""
    root: dict[str, Any] = {}
    paths = sorted(fields)
    for path in paths:
        node = root
        for kind, text in path:
            node = node.setdefault(f"{kind}:{text}", {})
    for path in paths:  # a node owned itself and with owned children carries "."
        node = root
        for kind, text in path:
            node = node[f"{kind}:{text}"]
        if node and "." not in node:
            node["."] = {}
    return _sorted(root)


def _sorted(node: dict[str, Any]) -> dict[str, Any]:
    return {k: _sorted(v) for k, v in sorted(node.items())}


def from_fields_v1(doc: Any, prefix: Path = (), depth: int = 0) -> FieldSet:
    """The field set a ``FieldsV1`` document describes; a 422 for one that is malformed."""
    if not isinstance(doc, dict) or depth > MAX_DEPTH:
        raise _bad_fields("must be a nested object of f:, k:, v: and i: keys")
    out: FieldSet = set()
    for key, child in doc.items():
        if key == ".":
            out.add(prefix)
            continue
        kind, sep, text = key.partition(":")
        if not sep or kind not in ("f", "k", "v", "i"):
            raise _bad_fields(f"unknown key {key[:64]!r}")
        if kind in ("k", "v"):
            try:
                json.loads(text)
            except ValueError as exc:
                raise _bad_fields(f"the {kind}: key {text[:64]!r} is not JSON") from exc
        path = (*prefix, (kind, _canonical(json.loads(text)) if kind in ("k", "v") else text))
        if child == {}:
            out.add(path)
        else:
            out |= from_fields_v1(child, path, depth + 1)
    return out


def _bad_fields(why: str) -> ApiError:
    return ApiError(
        422, f'metadata.managedFields.fieldsV1: Invalid value: "": {why}', "Invalid", {"kind": "ManagedFieldsEntry"}
    )


def path_string(path: Path) -> str:
    """A path as the API server prints it in conflicts: ``.spec.template.spec.containers[name="vllm"].image``."""
    out = []
    for kind, text in path:
        if kind == "f":
            out.append(f".{text}")
        elif kind == "k":
            parts = [f"{k}={_go_value(v)}" for k, v in json.loads(text).items()]
            out.append(f"[{','.join(parts)}]")
        elif kind == "v":
            out.append(f"[={_go_value(json.loads(text))}]")
        else:
            out.append(f"[{text}]")
    return "".join(out)


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return _canonical(value)
