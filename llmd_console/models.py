"""What the console knows, as frozen values: the panes, the check command and the
doctor read these, never the API's raw JSON.

The state layer (``state.py``) builds them from watch batches, once per batch, and
hands them out in one immutable :class:`Snapshot`. Every string in them was made
inert (``sanitize.one_line``) when it was read from the cluster.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Obj = dict[str, Any]
Severity = Literal["ok", "progress", "warning", "error"]
Role = Literal["decode", "prefill", "epp", "gateway", "other"]
Light = Literal["ok", "warning", "error", "unknown"]
KindStatus = Literal["loading", "live", "reconnecting", "forbidden", "missing"]


@dataclass(frozen=True)
class KindState:
    """How the console's view of one kind of object is doing."""

    status: KindStatus
    message: str = ""
    retry_at: float | None = None  # when the next attempt is due (epoch seconds), while retrying


# ---- pods -----------------------------------------------------------------------------
@dataclass(frozen=True)
class StartupProbe:
    """A container's startup probe: how long the kubelet waits before restarting it."""

    initial_delay: float
    period: float
    failure_threshold: float

    @property
    def budget(self) -> float:
        """Seconds from the container's start to its restart if the probe never passes."""
        return self.initial_delay + self.period * self.failure_threshold


@dataclass(frozen=True)
class Container:
    """One container of a pod: its spec and status as far as the console uses them."""

    name: str
    instance: str = ""  # containerID of the running (or last) instance; "" before the first start
    restarts: int = 0
    ready: bool = False
    started: bool = False  # the startup probe has passed (or there is none)
    running_since: float | None = None
    waiting: str = ""  # waiting reason (ContainerCreating, CrashLoopBackOff...)
    last_exit: str = ""  # reason of the last termination (OOMKilled, Error, Completed)
    startup_probe: StartupProbe | None = None


@dataclass(frozen=True)
class Pod:
    """One pod as the pods table, the logs and the doctor read it."""

    key: str
    namespace: str
    name: str
    role: Role
    ready: str
    status: str
    severity: Severity
    restarts: int
    created: float | None
    node: str
    chips: int
    containers: tuple[Container, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    phase: str = ""
    is_ready: bool = False  # the Ready condition
    terminating: bool = False

    @property
    def container_names(self) -> tuple[str, ...]:
        """Names of the pod's containers, in spec order."""
        return tuple(c.name for c in self.containers)

    def container(self, name: str | None) -> Container | None:
        """A container by name (the first one for None)."""
        if name is None:
            return self.containers[0] if self.containers else None
        return next((c for c in self.containers if c.name == name), None)


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event about one object."""

    key: str
    object_key: str  # namespace/name of the object it is about
    object_kind: str
    type: str  # Normal or Warning
    reason: str
    message: str
    count: int
    last_seen: float | None
    order: tuple[str, int]  # (last time seen, resourceVersion): the API's order of writes


# ---- nodes ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """One node with its accelerators."""

    name: str
    pool: str
    status: str
    ready: bool
    machine: str
    accelerator: str
    topology: str
    chips_used: int
    chips_total: int
    pods: int


@dataclass(frozen=True)
class NodePool:
    """A node pool, summed over its nodes, with the hourly cost of its chips."""

    name: str
    nodes: int
    ready: int
    machine: str
    accelerator: str
    chips: int
    cost_per_hour: float | None


@dataclass(frozen=True)
class TpuSlice:
    """A node's accelerator chips in their topology, each with the pod holding it ("" = free)."""

    node: str
    columns: int
    rows: int
    owners: tuple[str, ...]
    kind: str  # TPU or GPU
    roles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # holder -> llm-d.ai/role
    unhealthy: int = 0  # chips the node has but cannot allocate (the last ones drawn), or all when NotReady
    topology: str = ""  # the cloud.google.com/gke-tpu-topology label, "" for GPUs
    accelerator: str = ""  # the accelerator label value (tpu-v6e-slice, nvidia-h100-80gb)


# ---- the request path -------------------------------------------------------------------
@dataclass(frozen=True)
class Hop:
    """One hop of the request path."""

    kind: str
    name: str
    light: Light
    facts: tuple[str, ...] = ()
    problem: str = ""
    fix: str = ""
    code: str = ""  # the doctor's finding id for the problem ("" when healthy)


@dataclass(frozen=True)
class RequestPath:
    """Gateway -> HTTPRoute -> InferencePool -> EPP -> model pods, of one llm-d stack."""

    hops: tuple[Hop, ...] = ()
    title: str = ""  # the stack's Gateway, as namespace/name

    @property
    def problems(self) -> tuple[Hop, ...]:
        """Hops that are not healthy."""
        return tuple(h for h in self.hops if h.light in ("error", "warning"))


# ---- the connection -----------------------------------------------------------------------
class Phase(enum.Enum):
    """Where the connection to the API server is."""

    CONNECTING = "connecting"  # no data yet
    CONNECTED = "connected"  # every kind listed and watched
    RECONNECTING = "reconnecting"  # was connected (or tried); the server is unreachable now
    FAILED = "failed"  # cannot connect at all (kubeconfig, context): nothing will be retried


@dataclass(frozen=True)
class Connection:
    """The session's connection, for the status bar and the panes."""

    phase: Phase = Phase.CONNECTING
    since: float | None = None  # when this phase began
    reason: str = ""  # why (the last error, for RECONNECTING and FAILED)
    context: str = ""
    server: str = ""
    last_live: float | None = None  # when the data was last known current
    retry_at: float | None = None  # when the next attempt to reconnect is due, while RECONNECTING
    forbidden: frozenset[str] = frozenset()  # kinds RBAC denies
    missing: frozenset[str] = frozenset()  # kinds whose API is not served (CRD missing)

    @property
    def label(self) -> str:
        """A short word for the status bar."""
        return self.phase.value

    @property
    def live(self) -> bool:
        """Whether the data is current."""
        return self.phase is Phase.CONNECTED


# ---- log streams ---------------------------------------------------------------------------
LogLine = tuple[float | None, str]  # (kubelet timestamp, text)


@dataclass(frozen=True)
class LogTarget:
    """Whose log, and how: ``container`` None means the pod's first container."""

    namespace: str
    pod: str
    container: str | None = None
    previous: bool = False
    tail: int = 500

    @property
    def key(self) -> str:
        """The pod's key, ``namespace/name``."""
        return f"{self.namespace}/{self.pod}"


class StreamPhase(enum.Enum):
    """Where a log stream is."""

    CONNECTING = "connecting"
    LIVE = "live"
    WAITING = "waiting"  # the container has not started (yet): retried
    RECONNECTING = "reconnecting"  # the stream ended or failed while the container lives: retried
    COMPLETE = "complete"  # a previous container's log was read to its end
    NO_PREVIOUS = "no previous"  # the container never restarted
    GONE = "gone"  # the pod no longer exists
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class StreamState:
    """A stream's phase with the reason in words."""

    phase: StreamPhase
    message: str = ""

    @property
    def text(self) -> str:
        """For a header: the phase, then why."""
        return f"{self.phase.value}: {self.message}" if self.message else self.phase.value


@dataclass(frozen=True)
class LogChunk:
    """What a stream delivers: new lines, lines skipped since the last chunk, and its state."""

    target: LogTarget
    container: str  # the container actually read
    lines: tuple[LogLine, ...] = ()
    skipped: int = 0
    state: StreamState | None = None  # set when the state changed


# ---- the snapshot ---------------------------------------------------------------------------
class UnknownKind(LookupError):
    """A kind the console does not watch: asking for it is a programming error, not an empty list."""


EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


@dataclass(frozen=True)
class Changes:
    """What one batch changed: keys per kind (upserted or removed), and kinds whose state moved."""

    kinds: Mapping[str, frozenset[str]] = field(default_factory=_empty)
    states: Mapping[str, KindState] = field(default_factory=_empty)

    def touched(self, *kinds: str) -> bool:
        """Whether any of ``kinds`` changed (objects or state)."""
        return any(k in self.kinds or k in self.states for k in kinds)


@dataclass(frozen=True)
class Snapshot:
    """Everything the console knows after one batch. Never changes once made."""

    version: int = 0
    namespace: str | None = None  # None: every namespace
    pods: Mapping[str, Pod] = field(default_factory=_empty)
    nodes: Mapping[str, Node] = field(default_factory=_empty)
    pools: tuple[NodePool, ...] = ()
    slices: Mapping[str, TpuSlice] = field(default_factory=_empty)  # node name -> its chips
    events: Mapping[str, tuple[Event, ...]] = field(default_factory=_empty)  # object key -> its events, oldest first
    paths: tuple[RequestPath, ...] = ()  # one per llm-d stack in view
    kinds: Mapping[str, KindState] = field(default_factory=_empty)
    changes: Changes | None = None  # None: everything may have changed (first snapshot, relayout)
    watched: frozenset[str] = frozenset()

    def status_of(self, kind: str) -> KindState:
        """How the view of ``kind`` is doing."""
        if kind not in self.watched:
            raise UnknownKind(f"{kind!r} is not a kind the console watches")
        return self.kinds.get(kind, KindState("loading"))

    def unavailable(self, status: KindStatus) -> frozenset[str]:
        """Kinds in a given state (``missing``, ``forbidden``)."""
        return frozenset(k for k, s in self.kinds.items() if s.status == status)

    @property
    def path(self) -> RequestPath:
        """The first stack's request path (the configured one when watching one namespace)."""
        return self.paths[0] if self.paths else RequestPath()

    @property
    def problems(self) -> tuple[Hop, ...]:
        """Unhealthy hops over every stack."""
        return tuple(hop for path in self.paths for hop in path.problems)

    def events_of(self, key: str) -> tuple[Event, ...]:
        """Events about the object ``namespace/name``, oldest first."""
        return self.events.get(key, ())

    def touched(self, *kinds: str) -> bool:
        """Whether this snapshot may differ from the previous one in any of ``kinds``."""
        return self.changes is None or self.changes.touched(*kinds)
