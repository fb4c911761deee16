"""Container logs: bounded buffers per container instance, with followers."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field

from llmd_console.sim.runtime.clock import SimClock
from llmd_console.sim.storage.jsonvalue import replace_surrogates

MAX_LINES_PER_CONTAINER = 20_000
# The kubelet rotates a container's log at containerLogMaxSize (10 MiB by default) and
# ``kubectl logs`` reads the current file: the buffer keeps at most that many bytes.
MAX_BYTES_PER_CONTAINER = 10 * 1024 * 1024


@dataclass
class ContainerLog:
    """The output of one run of one container: the newest lines, bounded in count and bytes."""

    lines: deque[tuple[float, str]] = field(default_factory=deque)
    closed: bool = False
    written: int = 0
    size: int = 0  # UTF-8 bytes held in ``lines``
    _sizes: deque[int] = field(default_factory=deque)
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def write(self, at: float, text: str) -> None:
        """Append one line and wake followers (a lone surrogate, which no byte stream can
        hold, becomes U+FFFD as a container runtime's UTF-8 decoding would make it)."""
        if text.isascii():  # O(1) in CPython
            nbytes = len(text)
        else:
            try:
                nbytes = len(text.encode("utf-8"))
            except UnicodeEncodeError:
                text = replace_surrogates(text)
                nbytes = len(text.encode("utf-8"))
        if nbytes > MAX_BYTES_PER_CONTAINER:
            text = text.encode("utf-8")[:MAX_BYTES_PER_CONTAINER].decode("utf-8", "ignore")
            nbytes = len(text.encode("utf-8"))
        self.lines.append((at, text))
        self._sizes.append(nbytes)
        self.size += nbytes
        while len(self.lines) > MAX_LINES_PER_CONTAINER or self.size > MAX_BYTES_PER_CONTAINER:
            self.lines.popleft()
            self.size -= self._sizes.popleft()
        self.written += 1
        self._wake()

    def close(self) -> None:
        """The container exited: followers end after draining."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, seconds: float) -> None:
        """Wait for the next line or close (or timeout)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fut, seconds)


class LogHub:
    """Current and previous logs of every container."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._current: dict[tuple[str, str], ContainerLog] = {}
        self._previous: dict[tuple[str, str], ContainerLog] = {}

    def start(self, pod_uid: str, container: str) -> ContainerLog:
        """A new run of a container; the last one becomes ``previous``."""
        key = (pod_uid, container)
        old = self._current.get(key)
        if old is not None:
            old.close()
            self._previous[key] = old
        log = ContainerLog()
        self._current[key] = log
        return log

    def current(self, pod_uid: str, container: str) -> ContainerLog | None:
        """The running (or last) run's log."""
        return self._current.get((pod_uid, container))

    def previous(self, pod_uid: str, container: str) -> ContainerLog | None:
        """The run before the current one."""
        return self._previous.get((pod_uid, container))

    def write(self, pod_uid: str, container: str, text: str) -> None:
        """Write a line to the current run (creating it if needed)."""
        log = self._current.get((pod_uid, container)) or self.start(pod_uid, container)
        log.write(self.clock.now(), text)

    def drop(self, pod_uid: str) -> None:
        """Forget a deleted pod's logs."""
        for table in (self._current, self._previous):
            for key in [k for k in table if k[0] == pod_uid]:
                table.pop(key).close()
