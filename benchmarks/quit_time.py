"""How long ``q`` takes to give the terminal back in ``llmd-console demo``.

The demo runs in a pseudo-terminal, as an operator would run it. Once its pods are on
screen, ``q`` is sent, and three instants are taken from there:

1. the screen is released (the alternate screen is left: ``ESC [?1049l`` on the pty);
2. the console process has exited;
3. the simulator child it started has exited too.

A run fails (and says why) unless the console exits with 0 having left the alternate
screen, without a traceback, its simulator gone and its files removed.

With ``--hangup``, the terminal hangs up (SIGHUP, as when an SSH session drops) while
the help screen is open, instead of ``q``.

Prints the median and the worst of several runs. Every wait has a deadline; a run that
misses one says what it waited for.

Run:  python benchmarks/quit_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_common import StageFailed, run_stages

LEAVE_ALT_SCREEN = b"\x1b[?1049l"
EXIT_HANGUP = 129  # 128 + SIGHUP, what the console exits with when it had to abandon its shutdown
READY = b"Running"  # a pod's STATUS on screen: the console is connected and drawing
START_SECONDS = 120
QUIT_SECONDS = 30


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def _kubeconfig_dir(sim: list[int]) -> Path | None:
    """The directory of the kubeconfig the demo's simulator was told to write."""
    for pid in sim:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"--kubeconfig" in argv:
            return Path(argv[argv.index(b"--kubeconfig") + 1].decode()).parent
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except (OSError, IndexError):
        return False


def _start() -> tuple[subprocess.Popen[bytes], int]:
    """The demo in a pseudo-terminal of 160x45, once its pods are on screen."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "45"}
    main, child = pty.openpty()
    os.set_blocking(main, False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmd_console", "demo"],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        start_new_session=True,
    )
    os.close(child)
    _wait_for(main, proc, READY, START_SECONDS)
    return proc, main


def _wait_for(main: int, proc: subprocess.Popen[bytes], wanted: bytes, seconds: float) -> None:
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise StageFailed(f"no {wanted!r} on screen after {seconds} s (exit code {proc.poll()})")
        seen = (seen + _read(main, 0.2))[-200_000:]


def one_run(*, hangup: bool = False) -> tuple[float, float, float]:
    """(screen released, console exited, simulator exited) seconds after ``q``; with ``hangup``,
    after the terminal hangs up (SIGHUP) while the help screen is open, as when an SSH session drops."""
    proc, main = _start()
    try:
        sim = _children(proc.pid)
        files = _kubeconfig_dir(sim)
        if hangup:
            os.write(main, b"?")
            _wait_for(main, proc, b"llmd-console keys", QUIT_SECONDS)
            os.close(main)  # the terminal goes first, then the hang-up, as when tmux or sshd closes it
            main = -1
            os.killpg(proc.pid, signal.SIGHUP)  # to the whole group, the simulator included
        else:
            os.write(main, b"q")
        sent = time.monotonic()
        released: float | None = None
        exited: float | None = None
        sim_exited: float | None = None
        tail = b""
        deadline = sent + QUIT_SECONDS
        while sim_exited is None:
            now = time.monotonic()
            if now > deadline:
                raise StageFailed(f"after q: released {released}, exited {exited}, simulator exited {sim_exited}")
            if main >= 0:
                tail = (tail + _read(main, 0.005))[-4096:]
            else:
                time.sleep(0.005)
            if released is None and LEAVE_ALT_SCREEN in tail:
                released = time.monotonic() - sent
            if exited is None and proc.poll() is not None:
                exited = time.monotonic() - sent
            if exited is not None and not any(_alive(pid) for pid in sim):
                sim_exited = time.monotonic() - sent
        assert exited is not None
        if hangup:
            released = exited  # there is no screen to give back
        accepted = (0, EXIT_HANGUP) if hangup else (0,)
        if proc.returncode not in accepted or released is None or b"Traceback" in tail:
            raise StageFailed(f"the console exited with {proc.returncode}, screen released: {released is not None}")
        if files is not None and files.exists():
            raise StageFailed(f"the demo's files are still there: {files}")
        return released, exited, sim_exited
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if main >= 0:
            os.close(main)


def _read(fd: int, timeout: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the other side closed
        return b""


def main() -> int:
    """Measure, print, exit non-zero if a run failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hangup", action="store_true", help="hang up with the help open instead of pressing q")
    args = parser.parse_args()
    results: list[tuple[float, float, float]] = []

    def runs() -> None:
        for _ in range(args.runs):
            results.append(one_run(hangup=args.hangup))

    failed = run_stages([("quit", runs)])
    after = "hang-up" if args.hangup else "q"
    if results:
        for i, name in enumerate(("screen released", "console exited", "simulator exited")):
            values = [r[i] for r in results]
            median, worst = statistics.median(values), max(values)
            print(f"{name:>17} after {after}: median {median:.2f} s, worst {worst:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
