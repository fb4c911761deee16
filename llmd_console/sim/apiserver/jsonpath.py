"""The subset of Kubernetes JSONPath that CRD printer columns use.

Supports ``.a.b``, ``[*]``, ``[N]`` and filters ``[?(@.field=="value")]``.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'\.([A-Za-z0-9_\-]+)|\[(\*|\d+)\]|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*==\s*["\']([^"\']*)["\']\)\]')


def evaluate(obj: Any, path: str) -> list[Any]:
    """All values ``path`` selects in ``obj`` (possibly none)."""
    current = [obj]
    pos = 0
    path = path.strip()
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise ValueError(f"unsupported JSONPath {path!r} at {pos}")
        pos = match.end()
        field, index, filt_field, filt_value = match.groups()
        nxt: list[Any] = []
        for item in current:
            if field is not None:
                if isinstance(item, dict) and field in item:
                    nxt.append(item[field])
            elif index is not None:
                if isinstance(item, list):
                    if index == "*":
                        nxt.extend(item)
                    elif int(index) < len(item):
                        nxt.append(item[int(index)])
            elif isinstance(item, list):
                for element in item:
                    value: Any = element
                    for part in filt_field.split("."):
                        value = value.get(part) if isinstance(value, dict) else None
                    if value is not None and str(value) == filt_value:
                        nxt.append(element)
        current = nxt
    return current


def render(obj: Any, path: str) -> str:
    """Values joined by commas, as printer columns show them."""
    return ",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in evaluate(obj, path))
