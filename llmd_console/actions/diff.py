"""Diffs of objects as the operator reads them: YAML, without the fields the server owns
(status, managedFields, resourceVersion ...), bounded in lines."""

from __future__ import annotations

import copy
import difflib
from typing import Any

import yaml

from llmd_console.actions.plan import ObjectDiff

Obj = dict[str, Any]
MAX_LINES = 400
_SERVER_META = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink")
_SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


def comparable(obj: Obj | None) -> Obj | None:
    """``obj`` without what the server writes by itself, so a re-apply of the same manifest diffs empty."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for key in _SERVER_META:
        meta.pop(key, None)
    notes = meta.get("annotations") or {}
    for key in _SERVER_ANNOTATIONS:
        notes.pop(key, None)
    if "annotations" in meta and not notes:
        meta.pop("annotations")
    return out


def as_yaml(obj: Obj | None) -> list[str]:
    """The object as YAML lines (none for None)."""
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines()


def unified(before: Obj | None, after: Obj | None, label: str) -> tuple[str, ...]:
    """A unified diff of two objects' YAML, cut at :data:`MAX_LINES` with a note."""
    lines = list(
        difflib.unified_diff(as_yaml(before), as_yaml(after), f"live/{label}", f"applied/{label}", lineterm="", n=3)
    )
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES], f"... {len(lines) - MAX_LINES} more lines"]
    return tuple(lines)


def object_diff(label: str, live: Obj | None, proposed: Obj | None) -> ObjectDiff:
    """How ``live`` (None: absent) becomes ``proposed`` (None: deleted)."""
    before, after = comparable(live), comparable(proposed)
    lines = unified(before, after, label)
    if live is None:
        return ObjectDiff(label, "create", lines)
    if proposed is None:
        return ObjectDiff(label, "delete", lines)
    return ObjectDiff(label, "update" if lines else "unchanged", lines)
