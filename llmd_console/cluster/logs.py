"""A pod's log as a source: follow it, resume after a reconnect without repeating a
line, read the previous container, and say in words why there is nothing to read
(a container still waiting, no previous instance, a pod gone).

Lines are handed over in chunks every ``flush_seconds``; a pod that prints faster
than that keeps only the newest ``max_lines`` of a chunk and the rest is counted as
skipped, so memory is bounded whatever the pod prints.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.models import LogChunk, LogLine, LogTarget, Pod, StreamPhase, StreamState
from llmd_console.sanitize import one_line

RETRY_SECONDS = 1.0
MAX_BACKOFF = 5.0


def split_timestamp(line: str) -> LogLine:
    """Split the kubelet's ``--timestamps`` prefix (RFC 3339) from a log line."""
    head, sep, rest = line.partition(" ")
    if sep and len(head) >= 20 and head[4] == "-" and head[10] == "T":
        try:
            return datetime.fromisoformat(head.replace("Z", "+00:00")).timestamp(), rest
        except ValueError:
            pass
    return None, line


def _rfc3339(at: float) -> str:
    """Second-precision RFC 3339, as ``sinceTime`` takes it (lines at or before ``at`` are skipped)."""
    return datetime.fromtimestamp(int(at), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ResumePoint:
    """Where a log stream got to, so a reconnect resumes without repeating lines.

    ``sinceTime`` has second precision, so a resumed stream starts with lines already
    shown: skip those at or before the last timestamp, counting lines that share it."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.at_last = 0  # lines shown with timestamp == last
        self._skip_until: tuple[float, int] | None = None

    def resume_from(self) -> str | None:
        """``sinceTime`` for the next request (None: the first one, which uses the tail)."""
        if self.last is None:
            return None
        self._skip_until = (self.last, self.at_last)
        return _rfc3339(self.last)

    def repeated(self, at: float | None) -> bool:
        """Record a line; True if it was shown before the reconnect."""
        if at is None:
            return False
        if self._skip_until is not None:
            last, count = self._skip_until
            if at < last:
                return True
            if at == last and count > 0:
                self._skip_until = (last, count - 1)
                return True
            self._skip_until = None
        if at == self.last:
            self.at_last += 1
        else:
            self.last, self.at_last = at, 1
        return False


def explain(exc: KubeError, target: LogTarget, container: str, pod: Pod | None) -> StreamState:
    """Why the API refused a log request, as an operator would want it said."""
    message = one_line(exc.message or str(exc), 200)
    if exc.status == 404 and pod is None:
        return StreamState(StreamPhase.GONE, "the pod no longer exists")
    if exc.status == 403:
        return StreamState(StreamPhase.FORBIDDEN, f"cannot read logs: {message}")
    if exc.status == 400 and target.previous and ("previous terminated container" in message or "not found" in message):
        return StreamState(StreamPhase.NO_PREVIOUS, f"container {container} has not restarted: no previous log")
    info = pod.container(container) if pod is not None else None
    if exc.status == 400 or (exc.status == 404 and pod is not None):
        why = (info.waiting if info else "") or (pod.status if pod else "") or "not started"
        return StreamState(StreamPhase.WAITING, f"container {container} is not running yet ({why})")
    return StreamState(StreamPhase.RECONNECTING, message)


class LogStream:
    """Follows one target until cancelled, or until there is nothing more to read."""

    def __init__(
        self,
        client: KubeClient,
        target: LogTarget,
        emit: Callable[[LogChunk], None],
        pod: Callable[[], Pod | None],
        *,
        max_lines: int = 10_000,
        max_line_bytes: int = 8192,
        flush_seconds: float = 0.05,
    ) -> None:
        self.client = client
        self.target = target
        self.emit = emit
        self.pod = pod  # the pod as the latest snapshot has it (None: not known, or gone)
        self.flush_seconds = flush_seconds
        self.max_line_bytes = max_line_bytes
        self._lines: deque[LogLine] = deque(maxlen=max_lines)
        self._skipped = 0
        self._state: StreamState | None = None
        self._arrived = asyncio.Event()
        self.container = target.container or ""

    async def run(self) -> None:
        """Read, reconnecting as needed; chunks go out every ``flush_seconds``."""
        flusher = asyncio.create_task(self._flush_forever())
        try:
            await self._read()
        finally:
            flusher.cancel()
            self._flush()

    def _set_state(self, phase: StreamPhase, message: str = "") -> None:
        state = StreamState(phase, message)
        if state != self._state:
            self._state = state
            self._flush(state_changed=True)

    def _resolve_container(self) -> str:
        """The container to read, decided at each (re)connect: a pod selected while Pending has
        no containers known yet, and its first container is known only later."""
        if self.target.container:
            return self.target.container
        pod = self.pod()
        first = pod.container(None) if pod is not None else None
        return first.name if first is not None else ""

    async def _read(self) -> None:
        backoff = 0.5
        seen = ResumePoint()
        while True:
            self.container = self._resolve_container()
            self._set_state(StreamPhase.CONNECTING)
            try:
                lines = await self.client.open_logs(
                    self.target.namespace,
                    self.target.pod,
                    self.container or None,
                    tail=self.target.tail,
                    previous=self.target.previous,
                    follow=not self.target.previous,
                    since_time=seen.resume_from(),
                    max_line=self.max_line_bytes,
                )
                self._set_state(StreamPhase.LIVE)
                async for raw in lines:
                    at, text = split_timestamp(raw)
                    if seen.repeated(at):
                        continue  # already delivered before the reconnect
                    if len(self._lines) == self._lines.maxlen:
                        self._skipped += 1
                    self._lines.append((at, text))
                    self._arrived.set()
                    backoff = 0.5
                if self.target.previous:
                    self._set_state(StreamPhase.COMPLETE)
                    return
                self._set_state(StreamPhase.RECONNECTING, "the stream ended while the container runs")
            except KubeError as exc:
                pod = self.pod()
                state = explain(exc, self.target, self.container, pod)
                self._set_state(state.phase, state.message)
                if state.phase in (StreamPhase.GONE, StreamPhase.NO_PREVIOUS):
                    return
                if state.phase in (StreamPhase.WAITING, StreamPhase.FORBIDDEN):
                    await asyncio.sleep(RETRY_SECONDS if state.phase is StreamPhase.WAITING else 10.0)
                    continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _flush_forever(self) -> None:
        while True:
            # Asleep while the container is quiet; a burst gathers for one interval, then goes out whole.
            await self._arrived.wait()
            await asyncio.sleep(self.flush_seconds)
            self._arrived.clear()
            if self._lines or self._skipped:
                self._flush()

    def _flush(self, *, state_changed: bool = False) -> None:
        if not (self._lines or self._skipped or state_changed):
            return
        lines = tuple(self._lines)
        self._lines.clear()
        skipped, self._skipped = self._skipped, 0
        self.emit(LogChunk(self.target, self.container, lines, skipped, self._state if state_changed else None))
