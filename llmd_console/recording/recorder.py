"""Recording what the console receives: one :class:`Recorder` per file, fed by the session
(as its observer: batches, resets, the connection) and by the app (log chunks, metric rounds,
prompt results, findings). No Textual here. What is written is flushed at most a second later
(when the next record comes)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from llmd_console.cluster.watch import Batch
from llmd_console.doctor.findings import Finding
from llmd_console.inference.request import Outcome
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.models import Connection, KindState, LogChunk, Obj
from llmd_console.recording import codec
from llmd_console.recording.format import DEFAULT_LIMIT_BYTES, Header, Record, Writer, finite
from llmd_console.recording.redact import scrub_text

MAX_SERIES = 200_000  # distinct metric series named in one recording
FLUSH_SECONDS = 1.0


class _MetricsTap:
    """Turns feeds (whole histories) into the points that are new since the last round."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        self.last: dict[tuple[str, str], float] = {}  # (source, pod) -> time of the last point recorded
        self.names: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}

    def records(self, feed: Feed, alerts: Sequence[Alert], started: float) -> list[Record]:
        out: list[Record] = []
        endpoints = []
        for source in ("vllm", "epp"):
            for pod, history in feed.of(source).items():
                endpoints.append(self._endpoint(source, pod, history, started, out))
        out.append(
            {
                "k": "metrics",
                "interval": feed.interval,
                "at": None if feed.at is None else round(feed.at - started, 3),
                "source": scrub_text(feed.source),
                "eps": endpoints,
                "alerts": codec.alerts_field(alerts, started),
            }
        )
        return out

    def _endpoint(
        self, source: str, pod: str, history: EndpointHistory, started: float, out: list[Record]
    ) -> dict[str, Any]:
        key = (source, pod)
        times = list(history.times)
        since = self.last.get(key, -math.inf)
        new = sum(1 for t in times if t > since)
        entry: dict[str, Any] = {"src": source, "pod": pod}
        if history.error:
            entry["err"] = scrub_text(history.error)
        names = (history.names, history.families)
        if self.names.get(key) != names:
            self.names[key] = names
            entry["names"], entry["families"] = sorted(history.names), sorted(history.families)
        if not new:
            return entry
        self.last[key] = times[-1]
        entry["t"] = [round(t - started, 3) for t in times[-new:]]
        values: dict[str, list[float | None]] = {}
        for series, ring in history.series.items():
            points = [finite(v) for v in ring.tail(new)]
            if all(p is None for p in points):
                continue
            sid = self.series.get(series)
            if sid is None:
                if len(self.series) >= MAX_SERIES:
                    continue
                sid = self.series[series] = len(self.series)
                out.append({"k": "series", "id": sid, "name": series[0], "labels": [list(p) for p in series[1]]})
            values[str(sid)] = points
        entry["s"] = values
        return entry


class Recorder:
    """Writes one recording; every method is a no-op once it has stopped."""

    def __init__(
        self,
        path: Path,
        *,
        context: str,
        namespace: str | None,
        source: str = "console",
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        now: Callable[[], float] = time.time,
    ) -> None:
        """Create ``path`` (raises OSError when it cannot be written)."""
        self.now = now
        self.started = now()
        self.writer = Writer(path, Header(self.started, context, namespace, source=source), limit_bytes=limit_bytes)
        self._metrics = _MetricsTap()
        self._findings: list[Record] | None = None
        self.on_stop: Callable[[str], None] = lambda _reason: None
        self._flushed = time.monotonic()

    @property
    def path(self) -> Path:
        """The file."""
        return self.writer.path

    @property
    def stopped(self) -> str:
        """Why it stopped ("" while recording)."""
        return self.writer.stopped

    def _write(self, record: Record) -> None:
        if self.writer.stopped:
            return
        t = round(self.now() - self.started, 3)
        self.writer.stamp(t)
        if not self.writer.write({"t": t, **record}):
            self.on_stop(self.writer.stopped)
            return
        now = time.monotonic()
        if now - self._flushed >= FLUSH_SECONDS:
            # A console killed mid-recording leaves a file readable up to here.
            self._flushed = now
            self.writer.flush()

    # ---- from the session ----------------------------------------------------------------------
    def start_state(
        self, objects: Mapping[str, Mapping[str, Obj]], states: Mapping[str, KindState], namespace: str | None
    ) -> None:
        """What the console knew when recording began: every object, as one relist."""
        self.reset(namespace)
        self.batch(Batch(relisted={k: list(v.values()) for k, v in objects.items()}, states=dict(states)))

    def reset(self, namespace: str | None) -> None:
        """The session started over (a namespace switch): the state is empty again."""
        self._write({"k": "reset", "namespace": namespace})

    def batch(self, batch: Batch) -> None:
        """A watch batch, as the session applied it."""
        self._write(codec.batch_record(batch, self.started))

    def connection(self, connection: Connection) -> None:
        """The connection moved."""
        self._write(codec.connection_record(connection))

    # ---- from the app --------------------------------------------------------------------------------
    def log(self, chunk: LogChunk) -> None:
        """Lines (or a state change) of the log being followed."""
        self._write(codec.log_record(chunk, self.started))

    def metrics(self, feed: Feed, alerts: Sequence[Alert]) -> None:
        """A metrics round: the points new since the last round, and the alerts."""
        for record in self._metrics.records(feed, alerts, self.started):
            self._write(record)

    def findings(self, findings: Sequence[Finding]) -> None:
        """The doctor's findings (written only when they changed)."""
        record = codec.findings_record(findings)
        if record["items"] != self._findings:
            self._findings = record["items"]
            self._write(record)

    def prompt(self, outcome: Outcome) -> None:
        """A prompt's result."""
        self._write(codec.prompt_record(outcome))

    def mark(self, text: str) -> None:
        """A moment worth jumping to, in words."""
        self._write({"k": "mark", "text": scrub_text(text)})

    def flush(self) -> None:
        """Make what was written readable now."""
        self.writer.flush()

    def close(self, reason: str = "stopped") -> None:
        """Finish the file (its closing record says when: what the console showed until then
        replays until then, though nothing new arrived)."""
        self.writer.close(reason, self.now() - self.started)
