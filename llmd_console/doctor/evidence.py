"""What the sources gathered besides the snapshot, for the rules to read.

The console fills it from its live sources (log streams, the metrics runner, the prompt
pane's last request); ``llmd-console check`` gathers it once (``gather.py``). Every part is
optional: a rule whose evidence is absent says nothing rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from llmd_console.config import Config
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.readings import Feed
from llmd_console.models import EMPTY, Obj
from llmd_console.state import ClusterState


@dataclass(frozen=True)
class PodLog:
    """Recent lines of one container's log (``previous``: the instance before the last restart)."""

    pod: str  # namespace/name
    container: str
    lines: tuple[str, ...]
    previous: bool = False


@dataclass(frozen=True)
class Inference:
    """A test request's outcome, as the doctor needs it (from ``inference.request.Outcome``)."""

    ok: bool
    status: int | None = None
    ttft: float | None = None  # seconds to the first token (the whole answer when not streamed)
    total: float | None = None
    failure_kind: str = ""  # Failure.kind: no_route, no_upstream, epp_down...
    failure_title: str = ""
    failure_fix: str = ""
    endpoint: str = ""  # how it was reached, in words
    served_by: str | None = None
    what: str = "a test inference"  # what sent it, for the finding's title ("a prompt")


def _objects() -> Mapping[str, Mapping[str, Obj]]:
    return EMPTY


@dataclass(frozen=True)
class Evidence:
    """Everything beyond the snapshot that rules read.

    ``objects`` are the raw objects by kind and key (``ClusterState.raw``), for the parts of
    specs the snapshot's models leave out (env, resources, selectors, tolerations, route refs)."""

    config: Config = field(default_factory=Config)
    now: float = 0.0  # seconds since the epoch (0: rules that need the time say nothing)
    objects: Mapping[str, Mapping[str, Obj]] = field(default_factory=_objects)
    logs: tuple[PodLog, ...] = ()
    secrets: Mapping[str, frozenset[str]] | None = None  # namespace/name -> key names; None: not read
    feed: Feed | None = None  # the metrics source's last feed (None: no metrics source)
    alerts: tuple[Alert, ...] = ()
    inferences: tuple[Inference, ...] = ()  # the test requests, in the order sent
    idle_since: Mapping[str, float] = field(default_factory=lambda: EMPTY)  # node -> when its last serving pod left
    # InferencePools of the older inference.networking.x-k8s.io group, when the newer one is not
    # served (None: not looked for).
    old_pools: Mapping[str, Obj] | None = None

    @staticmethod
    def objects_of(state: ClusterState) -> Mapping[str, Mapping[str, Obj]]:
        """The raw objects of every kind a console state holds, for ``objects`` (read-only views,
        not copies: build the evidence on the thread that owns the state)."""
        return {kind: state.raw(kind) for kind in sorted(state.kinds)}

    def raw(self, kind: str) -> Mapping[str, Obj]:
        """The raw objects of one kind (empty when not given)."""
        return self.objects.get(kind) or EMPTY

    def logs_of(self, pod: str) -> tuple[PodLog, ...]:
        """The log excerpts of one pod (``namespace/name``)."""
        return tuple(log for log in self.logs if log.pod == pod)
