"""Shared state of one simulated cluster: store, clock, logs, processes, events."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from llmd_console.sim.apiserver.admission import IpAllocator, admit
from llmd_console.sim.apiserver.authz import MAX_DENIALS, Denial
from llmd_console.sim.inference.engine import LatencyProfile
from llmd_console.sim.runtime.clock import SimClock
from llmd_console.sim.runtime.logs import LogHub
from llmd_console.sim.runtime.processes import ProcessTable
from llmd_console.sim.storage.objects import Obj, deep_copy, name_of, namespace_of, new_uid
from llmd_console.sim.storage.registry import Registry, ResourceType
from llmd_console.sim.storage.store import Store


@dataclass
class CloudNetwork:
    """The VPC facts the GKE Gateway controller depends on."""

    # A regional external Application Load Balancer needs a proxy-only subnet in the region.
    proxy_only_subnet: bool = True


class LoadBalancers(Protocol):
    """Hands each Gateway an address of its own (the GKE load balancer's forwarding rule)."""

    def address_for(self, key: str) -> str | None:
        """The address of the Gateway ``namespace/name`` (None: none can be had)."""

    def retain(self, keys: set[str]) -> None:
        """Free the addresses of every Gateway not in ``keys``."""


MAX_EVENTS = 10_000  # Events kept (the oldest go first)
EVENT_TTL_SECONDS = 3600.0  # the API server's default --event-ttl
EVENT_TRIM_EVERY = 500  # new Events between trims


@dataclass
class SimContext:
    """Everything the API server and the controllers share."""

    clock: SimClock
    rng: random.Random
    registry: Registry = field(default_factory=Registry)
    store: Store = field(init=False)
    logs: LogHub = field(init=False)
    processes: ProcessTable = field(default_factory=ProcessTable)
    service_ips: IpAllocator = field(default_factory=IpAllocator)
    gateway_address: str = ""  # the first Gateway's (the world's) address
    load_balancers: LoadBalancers | None = None
    latency: LatencyProfile = field(default_factory=LatencyProfile)
    network: CloudNetwork = field(default_factory=CloudNetwork)
    # Resource keys the simulated user may not touch, as an RBAC policy would deny them.
    denied: set[str] = field(default_factory=set)
    # Single verbs denied on single resources (see apiserver.authz); ``deny`` adds one.
    denials: list[Denial] = field(default_factory=list)
    deleter: Callable[[ResourceType, Obj], Obj] | None = None
    _event_index: dict[tuple[str, str, str, str], tuple[str, str]] = field(default_factory=dict)
    _events_created: int = 0
    max_events: int = MAX_EVENTS
    event_ttl: float = EVENT_TTL_SECONDS

    def __post_init__(self) -> None:
        self.store = Store(self.registry, self.clock)
        self.logs = LogHub(self.clock)

    def loop_call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after the current store change has reached every listener."""
        try:
            asyncio.get_running_loop().call_soon(fn)
        except RuntimeError:
            fn()

    def create(self, key: str, obj: Obj, *, keep_status: bool = False) -> Obj:
        """Create an object the way the API server would (defaults and validation included);
        ``keep_status`` keeps a given status, for worlds built already running."""
        rtype = self.rt(key)
        draft = deep_copy(obj)
        uid = draft.setdefault("metadata", {})["uid"] = new_uid()  # filled before admission, as the server does
        admit(rtype, draft, creating=True, ips=self.service_ips)
        if keep_status and "status" in obj:
            draft["status"] = deep_copy(obj["status"])
        return self.store.create(rtype, draft, uid=uid)

    def delete(self, rtype: ResourceType, obj: Obj) -> Obj:
        """Delete an object with the API server's semantics (graceful pods, cascades)."""
        assert self.deleter is not None, "the lifecycle controller is not running"
        return self.deleter(rtype, obj)

    def deny(self, verb: str, resource: str, namespace: str | None = None, group: str | None = None) -> Denial:
        """Forbid the simulated user ``verb`` on ``resource`` (``deployments/scale``), in one
        namespace or all (``None``), in one API group or any; returns the denial, for
        :meth:`undeny`."""
        denial = Denial(verb, resource, group, namespace)
        if denial not in self.denials:
            if len(self.denials) >= MAX_DENIALS:
                raise ValueError(f"at most {MAX_DENIALS} denials")
            self.denials.append(denial)
        return denial

    def undeny(self, denial: Denial | None = None) -> None:
        """Lift one denial, or every one (``None``); ``denied`` keys are not touched."""
        if denial is None:
            self.denials.clear()
        elif denial in self.denials:
            self.denials.remove(denial)

    def rt(self, key: str) -> ResourceType:
        """A resource type by group-qualified name (``pods``, ``deployments.apps``)."""
        return self.registry.by_key(key)

    def record_event(
        self, obj: Obj, etype: str, reason: str, message: str, component: str, host: str = "", field_path: str = ""
    ) -> None:
        """Record a core/v1 Event about ``obj``; repeats bump the count of the first one."""
        ns = namespace_of(obj) or "default"
        events = self.rt("events")
        now_iso = self.clock.iso()
        uid = obj.get("metadata", {}).get("uid", "")
        index_key = (uid, reason, message, component)
        found = self._event_index.get(index_key)
        existing = self.store.get("events", *found) if found else None
        if existing is not None:
            updated = deep_copy(existing)
            updated["count"] = int(existing.get("count", 1)) + 1
            updated["lastTimestamp"] = now_iso
            self.store.update(events, updated)
            return
        name = f"{name_of(obj)}.{new_uid().replace('-', '')[:16]}"
        involved: Obj = {
            "kind": obj.get("kind"),
            "namespace": namespace_of(obj),
            "name": name_of(obj),
            "uid": uid,
            "apiVersion": obj.get("apiVersion"),
            "resourceVersion": obj.get("metadata", {}).get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        self._event_index[index_key] = (ns, name)
        self.store.create(
            events,
            {
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now_iso,
                "lastTimestamp": now_iso,
                "count": 1,
                "type": etype,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": host,
            },
        )
        self._events_created += 1
        if self._events_created % EVENT_TRIM_EVERY == 0:
            self.trim_events()

    def trim_events(self) -> None:
        """Delete Events past their TTL (the API server's --event-ttl, one hour) and the
        oldest beyond ``max_events``, and forget index entries of Events that are gone."""
        events = self.rt("events")
        cutoff = self.clock.iso(self.clock.now() - self.event_ttl)
        everything = sorted(self.store.list("events"), key=lambda e: (str(e.get("lastTimestamp") or ""), name_of(e)))
        excess = len(everything) - self.max_events
        for index, event in enumerate(everything):
            if index < excess or str(event.get("lastTimestamp") or "") < cutoff:
                self.store.delete(events, namespace_of(event), name_of(event))
        alive = {key: place for key, place in self._event_index.items() if self.store.get("events", *place)}
        self._event_index = alive
