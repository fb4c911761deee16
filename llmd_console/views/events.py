"""Kubernetes Events, read into the console's :class:`~llmd_console.models.Event`."""

from __future__ import annotations

from llmd_console.models import Event, Obj
from llmd_console.sanitize import one_line
from llmd_console.views.common import meta, timestamp


def event_model(event: Obj, key: str) -> Event:
    """One Event, with the key of the object it is about."""
    involved = event.get("involvedObject") or {}
    rv = str(meta(event).get("resourceVersion", "0"))
    seen = event.get("lastTimestamp") or event.get("eventTime")
    return Event(
        key=key,
        object_key=f"{involved.get('namespace', '')}/{involved.get('name', '')}",
        object_kind=one_line(str(involved.get("kind", "")), 63),
        type=one_line(str(event.get("type", "")), 20),
        reason=one_line(str(event.get("reason", "")), 60),
        message=one_line(str(event.get("message", "")), 500),
        count=int(event.get("count") or 1),
        last_seen=timestamp(seen),
        order=(str(seen or ""), int(rv) if rv.isdigit() else 0),
    )
