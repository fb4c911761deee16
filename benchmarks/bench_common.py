"""What the benchmark scripts share: the simulator in a subprocess (with a deadline on its
start), memory and percentile helpers, and the error a stage stops with."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import yaml


class StageFailed(Exception):
    """A measurement could not go on: the message says what it waited for and what it saw."""


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def rss_mib() -> float:
    """Resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_stages(stages: list[tuple[str, Callable[[], None]]]) -> list[str]:
    """Run each stage; one that fails says why and the next one runs. Returns the failed ones' names."""
    failed = []
    for name, stage in stages:
        try:
            stage()
        except StageFailed as exc:
            print(f"{name}: {exc}; no figure, going on with the next stage", flush=True)
            failed.append(name)
    return failed


class SimProcess:
    """``llmd-console sim`` in a subprocess; ``url`` is its API server, once it serves."""

    def __init__(self, *extra: str, start_seconds: float = 120) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.kubeconfig = Path(self.dir.name) / "kubeconfig"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llmd_console", "sim", "--kubeconfig", str(self.kubeconfig), *extra],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.output: deque[str] = deque(maxlen=10)  # its last lines, for a report
        serving = threading.Event()
        threading.Thread(target=self._read, args=(serving,), daemon=True, name="sim-stdout").start()
        deadline = time.monotonic() + start_seconds
        while not serving.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = (
                    f"it exited with code {self.proc.returncode}"
                    if self.proc.poll() is not None
                    else f"timed out after {start_seconds} s"
                )
                self.close()
                raise StageFailed(
                    f"{why} waiting for the simulator ({' '.join(extra)}) to say it is serving; "
                    f"its last output: {' | '.join(self.output) or '(none)'}"
                )
        self.url = str(yaml.safe_load(self.kubeconfig.read_text())["clusters"][0]["cluster"]["server"])

    def _read(self, serving: threading.Event) -> None:
        """Keep reading its output (a full pipe would stall it) and note when it serves."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip())
            if "Press Ctrl-C" in line:
                serving.set()

    def close(self) -> None:
        """Stop it (killing it if SIGTERM is not enough) and remove its files."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            print("the simulator did not stop within 20 s of SIGTERM; killing it", flush=True)
            self.proc.kill()
            self.proc.wait(10)
        self.dir.cleanup()
