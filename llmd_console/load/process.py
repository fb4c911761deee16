"""A load run in a process of its own, for the console: hundreds of streams parsed in Python
would hold the interpreter lock the UI needs for keys and drawing (in a thread of the console's
own process, key latency reached 236 ms p95 under a 64-stream run; benchmarks/console_perf.py).

The child is ``python -m llmd_console.load.worker``: it reads what to run from its stdin, runs
the same ``LoadRunner`` as ``llmd-console load``, and writes its live snapshot four times a
second and its result at the end to its stdout, each as a length-prefixed pickle (parent and
child are the same program). Any further byte on its stdin, or the end of it (the console went
away), stops the run: a console that quits leaves no load behind.
"""

from __future__ import annotations

import contextlib
import pickle
import struct
import subprocess
import sys
from dataclasses import dataclass
from typing import IO, Any

from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.failures import FixHints
from llmd_console.load.profiles import Profile
from llmd_console.load.prompts import PromptSet
from llmd_console.load.runner import RunResult
from llmd_console.load.settings import RunSettings
from llmd_console.load.stats import LoadSnapshot

HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024  # a result with 100,000 records is a few tens of MiB


@dataclass(frozen=True)
class Job:
    """What the child runs."""

    endpoint: Endpoint
    prompts: PromptSet
    settings: RunSettings
    hints: FixHints
    connect_seconds: float
    profile: Profile


class LoadFailed(Exception):
    """The load process could not run the profile; the message says why."""


def write_frame(out: IO[bytes], payload: object) -> None:
    """One message: its length, then its pickle."""
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(source: IO[bytes]) -> Any:
    """The next message; EOFError at the end of the stream."""
    head = source.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise LoadFailed(f"the load process sent a message of {size:,} bytes")
    data = source.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - our own child process, started by us, writing to us


class LoadProcess:
    """One run of ``profile`` in a child process; ``run`` blocks (call it in a thread),
    ``snapshot`` and ``stop`` are for any thread."""

    def __init__(
        self, endpoint: Endpoint, prompts: PromptSet, settings: RunSettings, hints: FixHints, timeout: float
    ) -> None:
        self.job = (endpoint, prompts, settings, hints, timeout)  # and the profile, given to run()
        self._snapshot: LoadSnapshot | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def run(self, profile: Profile) -> RunResult:
        """Run ``profile`` to its end, its error budget or ``stop()``."""
        self._process = process = subprocess.Popen(
            [sys.executable, "-m", "llmd_console.load.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            write_frame(process.stdin, Job(*self.job, profile))
            if self._stopped:
                self.stop()
            while True:
                try:
                    kind, payload = read_frame(process.stdout)
                except EOFError:
                    raise LoadFailed(f"the load process ended (exit code {process.wait(10)})") from None
                if kind == "snapshot":
                    self._snapshot = payload
                elif kind == "result":
                    return payload  # type: ignore[no-any-return]
                else:
                    raise LoadFailed(str(payload))
        finally:
            with contextlib.suppress(OSError):
                process.stdin.close()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()

    def snapshot(self) -> LoadSnapshot | None:
        """The run as of the last snapshot the child sent (None before it started)."""
        return self._snapshot

    def stop(self) -> None:
        """End the run: no new request, those in flight cancelled; the result still comes."""
        self._stopped = True
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError, ValueError):  # already over
                process.stdin.write(b"stop\n")
                process.stdin.flush()
