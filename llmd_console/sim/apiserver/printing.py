"""What the server-side printers of every kind share: the AGE and duration cells, and the
CONTAINERS / IMAGES / SELECTOR cells of workloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from llmd_console.sim.storage.objects import Obj

Column = tuple[str, str, int]  # name, type, priority (1 = only with -o wide)
RowFn = Callable[[Obj, float], list[Any]]
NAME: Column = ("Name", "string", 0)
AGE: Column = ("Age", "string", 0)


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration, as the AGE column prints it."""
    if seconds < -1:
        return "<invalid>"
    s = int(max(0, seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if h < 192:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 730:
        return f"{d}d"
    y = d // 365
    if d < 2920:
        return f"{y}y{d % 365}d" if d % 365 else f"{y}y"
    return f"{y}y"


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an RFC 3339 timestamp (None when absent or malformed)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def age(obj: Obj, now: float) -> str:
    """The AGE cell."""
    created = parse_time(obj.get("metadata", {}).get("creationTimestamp"))
    return "<unknown>" if created is None else human_duration(now - created)


def containers(obj: Obj) -> tuple[str, str]:
    """The CONTAINERS and IMAGES cells of a workload (from its pod template)."""
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def selector(obj: Obj) -> str:
    """The SELECTOR cell: spec.selector's labels as ``k=v,...``."""
    sel = obj.get("spec", {}).get("selector") or {}
    labels = sel.get("matchLabels", sel) if isinstance(sel, dict) else {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if isinstance(v, str)) or "<none>"
