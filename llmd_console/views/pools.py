"""Reading an InferencePool of either API generation: ``inference.networking.k8s.io/v1``
(``selector.matchLabels``, ``targetPorts``, ``endpointPickerRef``) or the older
``inference.networking.x-k8s.io`` (a flat ``selector``, ``targetPortNumber``, ``extensionRef``)."""

from __future__ import annotations

from typing import Any

from llmd_console.models import Obj
from llmd_console.views.common import quantity_int


def pool_selector(pool: Obj) -> dict[str, str]:
    """An InferencePool's selector: ``spec.selector.matchLabels`` (v1) or the flat
    ``spec.selector`` map of the older x-k8s.io generation."""
    selector = (pool.get("spec") or {}).get("selector") or {}
    if not isinstance(selector, dict):
        return {}
    labels = selector.get("matchLabels") if "matchLabels" in selector else selector
    return {str(k): str(v) for k, v in (labels or {}).items() if not isinstance(v, dict)}


def pool_ports(pool: Obj) -> list[int]:
    """An InferencePool's target ports: ``targetPorts[].number`` (v1) or ``targetPortNumber``."""
    spec = pool.get("spec") or {}
    ports = [quantity_int(t.get("number")) for t in spec.get("targetPorts") or [] if isinstance(t, dict)]
    if not ports and spec.get("targetPortNumber") is not None:
        ports = [quantity_int(spec.get("targetPortNumber"))]
    return [p for p in ports if p]


def pool_picker(pool: Obj) -> tuple[str, int | None, str]:
    """(name, port, failure mode) of the pool's endpoint picker: ``endpointPickerRef`` (v1) or
    ``extensionRef`` (the older generation)."""
    spec = pool.get("spec") or {}
    ref: Any = spec.get("endpointPickerRef") or spec.get("extensionRef") or {}
    port = ref.get("port")
    number = quantity_int(port.get("number")) if isinstance(port, dict) else quantity_int(ref.get("portNumber"))
    return str(ref.get("name") or ""), number or None, str(ref.get("failureMode") or "FailClose")
