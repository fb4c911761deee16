"""Conversion between the version of a resource a client uses and the one stored.

Two served resources share storage with another, as on a real API server: events.k8s.io/v1
Events are core v1 Events with other field names, and autoscaling/v1 HorizontalPodAutoscalers
are the stored autoscaling/v2 ones with only the CPU target. Every other type is stored as
served and passes through unchanged.
"""

from __future__ import annotations

from llmd_console.sim.storage.objects import Obj, deep_copy
from llmd_console.sim.storage.registry import ResourceType

# core v1 Event field -> events.k8s.io/v1 Event field (the rest are named alike)
EVENT_FIELDS = {
    "involvedObject": "regarding",
    "message": "note",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
    "reportingComponent": "reportingController",
}
CPU_KEY = "targetCPUUtilizationPercentage"
DEFAULT_CPU_UTILIZATION = 80  # autoscaling/v2's default target when an HPA names no metric


def _renamed(obj: Obj, names: dict[str, str]) -> Obj:
    return {names.get(k, k): v for k, v in obj.items()}


def cpu_metric(percent: object) -> Obj:
    """An autoscaling/v2 metric targeting ``percent`` average CPU utilization."""
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}},
    }


def _hpa_v2_to_v1(obj: Obj) -> Obj:
    out = deep_copy(obj)
    spec = out.get("spec") or {}
    metrics = spec.pop("metrics", None) or []
    spec.pop("behavior", None)
    for metric in metrics:
        resource = metric.get("resource") or {}
        target = resource.get("target") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu" and "averageUtilization" in target:
            spec[CPU_KEY] = target["averageUtilization"]
    status = out.get("status") or {}
    for metric in status.pop("currentMetrics", None) or []:
        current = (metric.get("resource") or {}).get("current") or {}
        if (metric.get("resource") or {}).get("name") == "cpu" and "averageUtilization" in current:
            status["currentCPUUtilizationPercentage"] = current["averageUtilization"]
    status.pop("conditions", None)
    return out


def _hpa_v1_to_v2(obj: Obj) -> Obj:
    out = deep_copy(obj)
    spec = out.get("spec")
    if isinstance(spec, dict):
        percent = spec.pop(CPU_KEY, None)
        spec["metrics"] = [cpu_metric(percent if percent is not None else DEFAULT_CPU_UTILIZATION)]
    status = out.get("status")
    if isinstance(status, dict) and "currentCPUUtilizationPercentage" in status:
        status["currentMetrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageUtilization": status.pop("currentCPUUtilizationPercentage")},
                },
            }
        ]
    return out


def to_served(served: ResourceType, stored: ResourceType, obj: Obj) -> Obj:
    """A stored object as a client of ``served`` sees it."""
    if served == stored:
        return obj
    out = _renamed(obj, EVENT_FIELDS) if served.kind == "Event" else _hpa_v2_to_v1(obj)
    out["apiVersion"], out["kind"] = served.api_version, served.kind
    return out


def to_stored(served: ResourceType, stored: ResourceType, obj: Obj) -> Obj:
    """An object a client of ``served`` sent, in the stored version."""
    if served == stored:
        return obj
    out = _renamed(obj, {v: k for k, v in EVENT_FIELDS.items()}) if served.kind == "Event" else _hpa_v1_to_v2(obj)
    out["apiVersion"], out["kind"] = stored.api_version, stored.kind
    return out
