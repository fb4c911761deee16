"""Small readers of Kubernetes JSON shared by the views."""

from __future__ import annotations

from datetime import datetime

from llmd_console.models import Obj
from llmd_console.sanitize import one_line

__all__ = ["Obj"]
TPU_RESOURCE, GPU_RESOURCE = "google.com/tpu", "nvidia.com/gpu"
ACCELERATOR_LABELS = ("cloud.google.com/gke-tpu-accelerator", "cloud.google.com/gke-accelerator")


def meta(obj: Obj) -> Obj:
    """``metadata`` (empty when missing)."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name(obj: Obj) -> str:
    """The object's name, made safe to draw."""
    return one_line(str(meta(obj).get("name", "")), 253)


def timestamp(text: object) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp (None when absent or bad)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def condition(obj: Obj, ctype: str) -> Obj | None:
    """A status condition by type."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def is_true(obj: Obj, ctype: str) -> bool:
    """Whether condition ``ctype`` is True."""
    cond = condition(obj, ctype)
    return bool(cond and cond.get("status") == "True")


def quantity_int(value: object) -> int:
    """An integer resource quantity ("4", 4); 0 when absent or fractional."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def human_age(seconds: float) -> str:
    """kubectl's AGE format: 45s, 12m, 3h5m, 2d4h."""
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes}m" if minutes and hours < 6 else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours and days < 3 else f"{days}d"


def pod_accelerators(pod: Obj) -> int:
    """Accelerator chips a pod asks for (TPU or GPU limits of its containers)."""
    total = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        limits = (c.get("resources") or {}).get("limits") or {}
        total += quantity_int(limits.get(TPU_RESOURCE)) + quantity_int(limits.get(GPU_RESOURCE))
    return total
