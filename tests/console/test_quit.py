"""Quitting ``llmd-console demo`` with ``q`` in a terminal: the screen is given back, the
process ends with 0, its simulator and its files are gone; and the same after a hang-up (a
dropped SSH session) with a dialog open. benchmarks/quit_time.py does it in
a pseudo-terminal and fails a run that misses any of these; here it runs once (its timings
are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "quit_time.py"


@pytest.mark.parametrize("how", [[], ["--hangup"]], ids=["q", "hang-up"])
def test_q_gives_the_terminal_back_and_leaves_nothing_behind(how: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--runs", "1", *how],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=BENCHMARK.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in ("screen released", "console exited", "simulator exited"):
        assert any(line.strip().startswith(f"{name} after ") for line in lines), result.stdout
