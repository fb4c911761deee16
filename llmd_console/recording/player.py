"""Replaying a recording: the recorded batches go through the same :class:`ClusterState` as a
live session's, so the panes receive the very snapshots they would have received; metric
rounds rebuild the same histories; log chunks, findings and prompt results come back at the
times they arrived. A :class:`Player` moves to any time (forward in steps, or back by picking
the snapshot of that time) and says what changed; ``ReplaySession`` is the session the app
renders. No Textual here."""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from llmd_console.cluster.kube import KINDS
from llmd_console.config import Config
from llmd_console.doctor.findings import Finding
from llmd_console.inference.request import Outcome
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.exposition import Labels, Page
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.models import Connection, LogChunk, Phase, Snapshot
from llmd_console.recording import codec
from llmd_console.recording.format import Record, Recording, read_recording
from llmd_console.session import ALL_NAMESPACES, Session, Target
from llmd_console.state import ClusterState

T = TypeVar("T")
FLAP_SECONDS = 15.0  # a pod going in and out of error faster than this is one moment, not many
NO_POD_IN_ERROR = "no pod in error"
MIN_INTERVAL = 0.5  # seconds between metric rounds, at least, when sizing histories


@dataclass(frozen=True)
class Moment:
    """A time worth jumping to, and why."""

    t: float
    text: str
    finding: bool = False  # a finding appeared or cleared


@dataclass
class Delivery:
    """What moving to a time changed (None: unchanged)."""

    snapshot: Snapshot | None = None
    connection: Connection | None = None
    logs: list[LogChunk] = field(default_factory=list)
    metrics: tuple[Feed, tuple[Alert, ...]] | None = None
    findings: tuple[Finding, ...] | None = None
    notes: list[str] = field(default_factory=list)  # prompt results and marks, in words
    prompts: list[Outcome] = field(default_factory=list)  # prompt results, for the prompt pane
    jumped: bool = False  # moved backwards (or far): the panes redraw everything


def clock(at: float) -> str:
    """``HH:MM:SS`` local time."""
    return time.strftime("%H:%M:%S", time.localtime(at))


class _Metrics:
    """Endpoint histories rebuilt from metric rounds."""

    def __init__(self, series: dict[int, tuple[str, Labels]], config: Config, started: float) -> None:
        self.series = series
        self.config = config
        self.started = started
        self.histories: dict[tuple[str, str], EndpointHistory] = {}
        self.names: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}

    def reset(self) -> None:
        self.histories.clear()
        self.names.clear()

    def apply(self, record: Record) -> tuple[Feed, tuple[Alert, ...]]:
        interval = float(record.get("interval") or self.config.refresh.metrics_seconds)
        # As the console sizes its histories (an interval below MIN_INTERVAL is not believed).
        capacity = max(2, int(self.config.metrics.history_minutes * 60 / max(interval, MIN_INTERVAL)) + 1)
        by_source: dict[str, dict[str, EndpointHistory]] = {"vllm": {}, "epp": {}}
        for ep in record.get("eps") or ():
            source, pod = str(ep.get("src")), str(ep.get("pod"))
            if source not in by_source:
                raise codec.BadRecord(f"unknown metrics source {source[:20]!r}")
            key = (source, pod)
            history = self.histories.get(key)
            if history is None:
                history = self.histories[key] = EndpointHistory(capacity)
            if "names" in ep:
                self.names[key] = (frozenset(map(str, ep["names"])), frozenset(map(str, ep.get("families") or ())))
            names, families = self.names.get(key, (frozenset(), frozenset()))
            for i, t in enumerate(ep.get("t") or ()):
                samples: dict[str, list[tuple[Labels, float]]] = {}
                for sid, values in (ep.get("s") or {}).items():
                    value = values[i]
                    if value is None:
                        continue
                    name, labels = self.series[int(sid)]
                    samples.setdefault(name, []).append((labels, float(value)))
                page = Page({k: tuple(v) for k, v in samples.items()}, names, families)
                history.record(self.started + float(t), page)
            if ep.get("err"):
                history.failed(str(ep["err"]))
            by_source[source][pod] = history
        at = record.get("at")
        feed = Feed(
            by_source["vllm"],
            by_source["epp"],
            interval,
            None if at is None else self.started + float(at),
            f"replay of {str(record.get('source', ''))[:80]}",
        )
        return feed, codec.alerts_of(record.get("alerts") or (), self.started)


class Player:
    """A recording loaded for replay, and the time it is at."""

    def __init__(self, recording: Recording, config: Config) -> None:
        """Apply every batch once (bad records end the replay there, and say so)."""
        self.recording = recording
        self.config = config
        self.header = recording.header
        self.started = recording.header.started
        self.problem = recording.problem
        self.snapshots: list[tuple[float, Snapshot]] = []
        self.connections: list[tuple[float, Connection]] = []
        self.findings: list[tuple[float, tuple[Finding, ...]]] = []
        self.logs: list[tuple[float, Record]] = []
        self.rounds: list[tuple[float, Record]] = []
        self.notes: list[tuple[float, str]] = []
        self.prompts: list[tuple[float, Record]] = []
        self.moments: list[Moment] = []
        self.read = 0  # records used
        series: dict[int, tuple[str, Labels]] = {}
        try:
            self._load(series)
        except codec.BadRecord as exc:
            self.problem = f"record {self.read + 1} is unusable: {exc}"
        except (TypeError, ValueError, LookupError, AttributeError) as exc:
            self.problem = f"record {self.read + 1} is unusable: {type(exc).__name__}: {str(exc)[:200]}"
        self.moments = _calm(self.moments)
        # Until recording stopped; to the last record read when the file was cut or damaged.
        self.duration = max((float(r["t"]) for r in recording.records[: self.read]), default=0.0)
        if not self.problem and recording.ended is not None:
            self.duration = max(self.duration, recording.ended)
        self._metrics = _Metrics(series, config, self.started)
        self._round = 0  # metric rounds applied
        self.position = 0.0
        self._times = [t for t, _ in self.snapshots]
        self._conn_times = [t for t, _ in self.connections]
        self._finding_times = [t for t, _ in self.findings]
        self._log_times = [t for t, _ in self.logs]
        self._note_times = [t for t, _ in self.notes]
        self._round_times = [t for t, _ in self.rounds]
        self._prompt_times = [t for t, _ in self.prompts]

    # ---- loading ------------------------------------------------------------------------------------
    def _new_state(self, namespace: str | None) -> ClusterState:
        return ClusterState(KINDS, namespace=namespace, resources=self.config.resources, prices=self.config.prices)

    def _load(self, series: dict[int, tuple[str, Labels]]) -> None:
        state = self._new_state(self.header.namespace)
        watch = _Watch()
        last = 0.0
        for record in self.recording.records:
            # Times only go forward (a damaged file's going back would break the lookups).
            t = last = max(last, float(record["t"]))
            kind = record.get("k")
            if kind == "reset":
                namespace = record.get("namespace")
                state = self._new_state(namespace if isinstance(namespace, str) else None)
                self.snapshots.append((t, state.snapshot))
            elif kind == "batch":
                try:
                    snapshot = state.apply(codec.batch_of(record, self.started))
                except LookupError as exc:
                    raise codec.BadRecord(str(exc)) from None
                self.snapshots.append((t, snapshot))
                self.moments.extend(Moment(t, text) for text in watch.look(snapshot))
            elif kind == "conn":
                connection = codec.connection_of(record, self.started + t)
                if self.connections and self.connections[-1][1].phase is not connection.phase:
                    self.moments.append(Moment(t, f"connection: {connection.phase.value}"))
                self.connections.append((t, connection))
            elif kind == "log":
                codec.log_of(record, self.started)  # checked now: a bad one ends the replay here
                self.logs.append((t, record))
            elif kind == "series":
                labels = tuple((str(k), str(v)) for k, v in record.get("labels") or ())
                series[int(record["id"])] = (str(record["name"]), labels)
            elif kind == "metrics":
                _check_round(record, series)
                self.rounds.append((t, record))
                firing = sorted(str(a[2]) for a in record.get("alerts") or () if a[4])
                if firing != watch.firing:
                    watch.firing = firing
                    self.moments.append(Moment(t, f"alert: {firing[0]}" if firing else "alerts cleared"))
            elif kind == "findings":
                findings = codec.findings_of(record)
                before = {f.id for f in self.findings[-1][1]} if self.findings else set()
                now = {f.id for f in findings}
                for f in findings:
                    if f.id not in before:
                        self.moments.append(Moment(t, f"finding: {f.title}", finding=True))
                for fid in sorted(before - now):
                    self.moments.append(Moment(t, f"cleared: {fid}", finding=True))
                self.findings.append((t, findings))
            elif kind == "prompt":
                codec.prompt_of(record)  # checked now: a bad one ends the replay here
                self.prompts.append((t, record))
                text = codec.prompt_summary(record)
                self.notes.append((t, text))
                self.moments.append(Moment(t, text))
            elif kind == "mark":
                text = str(record.get("text", ""))[:200]
                self.notes.append((t, text))
                self.moments.append(Moment(t, text))
            self.read += 1  # unknown record types (a newer minor version) are skipped

    # ---- where it is ---------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """The recorded wall time at the position (the panes' clock during a replay)."""
        return self.started + self.position

    def ends_early(self) -> str:
        """Why the recording ends before its end, in words ("" when it ended as recorded)."""
        if not self.problem:
            return ""
        return (
            f"recording ends early at {clock(self.started + self.duration)}: {self.problem} ({self.read} records read)"
        )

    def snapshot_at(self, t: float) -> Snapshot:
        """The snapshot the console had at ``t`` (an empty one before the first)."""
        i = bisect.bisect_right(self._times, t)
        if i == 0:
            return Snapshot(namespace=self.header.namespace, watched=frozenset(KINDS))
        return self.snapshots[i - 1][1]

    def connection_at(self, t: float) -> Connection:
        """The connection as it was at ``t``, said to be a replay."""
        i = bisect.bisect_right(self._conn_times, t)
        found = self.connections[i - 1][1] if i else Connection(phase=Phase.CONNECTED, context=self.header.context)
        return dataclasses.replace(
            found, context=found.context or self.header.context, since=self.now, last_live=self.now
        )

    def findings_at(self, t: float) -> tuple[Finding, ...]:
        """The findings as they were at ``t``."""
        i = bisect.bisect_right(self._finding_times, t)
        return self.findings[i - 1][1] if i else ()

    def next_moment(self, t: float, *, forward: bool = True, findings_only: bool = False) -> Moment | None:
        """The first moment after ``t`` (or the last before it)."""
        pool = [m for m in self.moments if m.finding or not findings_only]
        if forward:
            return next((m for m in pool if m.t > t + 0.001), None)
        return next((m for m in reversed(pool) if m.t < t - 0.001), None)

    # ---- moving --------------------------------------------------------------------------------------
    def move_to(self, t: float) -> Delivery:
        """Go to ``t`` (clamped to the recording) and say what changed on the way."""
        t = min(max(t, 0.0), self.duration)
        old, self.position = self.position, t
        if t < old:
            return self.everything_at(t)
        out = Delivery()
        crossed = [s for _, s in _between(self._times, self.snapshots, old, t)]
        if crossed:
            # Skipped snapshots' changes are not in the last one's: then the panes redraw everything.
            out.snapshot = crossed[0] if len(crossed) == 1 else dataclasses.replace(crossed[-1], changes=None)
        if _between(self._conn_times, self.connections, old, t):
            out.connection = self.connection_at(t)
        out.logs = [codec.log_of(r, self.started) for _, r in _between(self._log_times, self.logs, old, t)]
        if _between(self._finding_times, self.findings, old, t):
            out.findings = self.findings_at(t)
        out.notes = [text for _, text in _between(self._note_times, self.notes, old, t)]
        out.prompts = [codec.prompt_of(r) for _, r in _between(self._prompt_times, self.prompts, old, t)]
        out.metrics = self._metrics_to(t)
        return out

    def everything_at(self, t: float) -> Delivery:
        """Go to ``t`` and hand over everything as it was then (for panes that start afresh)."""
        self.position = min(max(t, 0.0), self.duration)
        t = self.position
        self._metrics.reset()
        self._round = 0
        return Delivery(
            snapshot=dataclasses.replace(self.snapshot_at(t), changes=None),
            connection=self.connection_at(t),
            findings=self.findings_at(t),
            metrics=self._metrics_to(t),
            jumped=True,
        )

    def _metrics_to(self, t: float) -> tuple[Feed, tuple[Alert, ...]] | None:
        end = bisect.bisect_right(self._round_times, t)
        if end <= self._round:
            return None
        # Only the rounds the histories can hold matter.
        interval = self.config.refresh.metrics_seconds
        keep = max(2, int(self.config.metrics.history_minutes * 60 / max(interval, MIN_INTERVAL)) + 1)
        start = max(self._round, end - keep)
        result = None
        for _, record in self.rounds[start:end]:
            result = self._metrics.apply(record)
        self._round = end
        return result

    def logs_of(self, pod_key: str, t: float) -> list[LogChunk]:
        """Every recorded chunk of one pod up to ``t`` (for a logs pane that starts following it)."""
        return [
            chunk
            for when, r in self.logs
            if when <= t and f"{r.get('ns')}/{r.get('pod')}" == pod_key
            for chunk in (codec.log_of(r, self.started),)
        ]


def _calm(moments: list[Moment]) -> list[Moment]:
    """Moments without a crash loop's every turn: a pod's status seen again within FLAP_SECONDS
    of the last time, and "no pod in error" with a pod in error again within FLAP_SECONDS, are
    not moments of their own."""
    last: dict[str, float] = {}
    out = []
    for i, moment in enumerate(moments):
        if moment.text.startswith("pod "):
            seen, last[moment.text] = last.get(moment.text), moment.t
            if seen is not None and moment.t - seen < FLAP_SECONDS:
                continue
        if moment.text == NO_POD_IN_ERROR and any(
            m.text.startswith("pod ") and m.t - moment.t < FLAP_SECONDS for m in moments[i + 1 : i + 8]
        ):
            continue
        out.append(moment)
    return out


def _check_round(record: Record, series: dict[int, tuple[str, Labels]]) -> None:
    """A metrics round the replay can apply later without surprises, or BadRecord."""
    for ep in record.get("eps") or ():
        times = ep.get("t") or ()
        if ep.get("src") not in ("vllm", "epp") or not all(isinstance(t, (int, float)) for t in times):
            raise codec.BadRecord("a metrics endpoint has no known source or a time that is not a number")
        for sid, values in (ep.get("s") or {}).items():
            if int(sid) not in series or len(values) != len(times):
                raise codec.BadRecord(f"a metrics round names unknown series {str(sid)[:20]} or misses values")
            if not all(v is None or isinstance(v, (int, float)) for v in values):
                raise codec.BadRecord("a metric value is not a number")
        if not all(isinstance(ep.get(k, []), list) for k in ("names", "families")):
            raise codec.BadRecord("a metrics endpoint's names are not a list")
    if not all(record.get(k) is None or isinstance(record.get(k), (int, float)) for k in ("interval", "at")):
        raise codec.BadRecord("a metrics round's interval or time is not a number")
    codec.alerts_of(record.get("alerts") or (), 0.0)


def _between(times: list[float], items: list[T], old: float, t: float) -> list[T]:
    """The items whose time is in (old, t] (``times`` are theirs, in order)."""
    return items[bisect.bisect_right(times, old) : bisect.bisect_right(times, t)]


class _Watch:
    """Notices moments in the snapshots: pods going bad and well again, the request path breaking."""

    def __init__(self) -> None:
        self.bad: dict[str, str] = {}
        self.path: tuple[str, ...] = ()
        self.firing: list[str] = []

    def look(self, snapshot: Snapshot) -> list[str]:
        out = []
        bad = {k: p.status for k, p in snapshot.pods.items() if p.severity == "error"}
        for key, status in bad.items():
            if self.bad.get(key) != status:
                out.append(f"pod {key}: {status}")
        if self.bad and not bad:
            out.append(NO_POD_IN_ERROR)
        self.bad = bad
        path = tuple(f"{h.kind} {h.name}: {h.problem}" for h in snapshot.problems)
        if path != self.path:
            out.append(f"request path: {path[0]}" if path else "request path healthy")
            self.path = path
        return out


class ReplaySession(Session):
    """A session whose snapshots and connection come from a :class:`Player` (no cluster)."""

    def __init__(self, config: Config, target: Target, *, player: Player, **callbacks: Any) -> None:
        """As :class:`Session`, with the player that supplies everything."""
        super().__init__(config, target, **callbacks)
        self.player = player
        self.namespace = player.header.namespace or ALL_NAMESPACES
        self.current = player.snapshot_at(0.0)
        self.connection = player.connection_at(0.0)

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot at the replay's position."""
        return self.current

    def show(self, delivery: Delivery) -> None:
        """Hand the delivery's snapshot and connection on as a live session would."""
        if delivery.snapshot is not None:
            self.current = delivery.snapshot
            self.namespace = delivery.snapshot.namespace or ALL_NAMESPACES
            self.on_snapshot(delivery.snapshot)
        if delivery.connection is not None:
            self.connection = delivery.connection
            self.on_connection(delivery.connection)

    async def run(self) -> None:
        """Nothing to connect to: announce the recorded connection, then wait to be cancelled."""
        self.on_connection(self.connection)
        self.on_snapshot(self.current)
        await asyncio.Event().wait()

    def switch_namespace(self, namespace: str) -> None:
        """A replay shows the recorded namespace only."""


def load_player(path: Path, config: Config) -> Player:
    """Read ``path`` and prepare it (raises RecordingError when it is not a recording at all)."""
    return Player(read_recording(path), config)
