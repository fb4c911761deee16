"""``llmd-console serve`` run by a test as a user runs it, and removed with every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import wait_for


class Served:
    """``llmd-console serve`` in a session of its own (its consoles and simulator share it)."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llmd_console", "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group, so Ctrl-C can be sent to all of it
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    @property
    def output(self) -> str:
        """Everything serve printed so far."""
        return "\n".join(self.lines)

    def url(self) -> str:
        """The address serve printed once listening."""

        def printed() -> str | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.output}")
            found = re.search(r"on (http://127\.0\.0\.1:\d+/) ", self.output)
            return found.group(1) if found else None

        return wait_for(printed, timeout=120, interval=0.2, message="serve to listen")

    def session_processes(self) -> list[str]:
        """The processes still in serve's session (serve, its consoles, the simulator)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[3]) == self.proc.pid and fields[0] != "Z":  # the session id
                    found.append(f"{entry.name} {cmdline.strip()}")
        return found

    def consoles(self) -> list[str]:
        """The consoles serve started for browser connections, still running."""
        return [line for line in self.processes("llmd_console") if int(line.split()[0]) != self.proc.pid]

    def processes(self, module: str) -> list[str]:
        """The processes of serve's session that run ``python -m MODULE`` (``llmd_console sim``:
        the demo's simulator; ``llmd_console``: serve, its consoles, but not the simulator)."""
        found = [line for line in self.session_processes() if f" -m {module} " in line]
        return [line for line in found if module != "llmd_console" or " -m llmd_console sim " not in line]

    def ctrl_c(self) -> int:
        """What a terminal's Ctrl-C does: SIGINT to the whole foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(60)

    def kill(self) -> None:
        """Leave nothing behind, whatever state the test ended in."""
        for sig in (signal.SIGINT, signal.SIGKILL):
            if not self.session_processes():
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 15
            while self.session_processes() and time.monotonic() < deadline:
                time.sleep(0.1)
        if self.proc.poll() is None:
            self.proc.wait(10)
