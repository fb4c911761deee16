"""Commands from the config, run as argument lists without a shell: output captured and
bounded, a timeout, and the error of a failing step said."""

from __future__ import annotations

import asyncio
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MAX_OUTPUT = 64 * 1024  # bytes kept of a step's output (the last ones)

State = Literal["running", "done", "failed"]


@dataclass(frozen=True)
class Progress:
    """One step's progress, for the UI: which step, its state, and output or error."""

    index: int
    total: int
    step: str  # what it does, e.g. "apply Deployment/x" or the command line
    state: State
    detail: str = ""


ProgressFn = Callable[[Progress], None]


class StepFailed(Exception):
    """A step failed; ``step`` names it and the message says why."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


async def run_command(argv: tuple[str, ...], seconds: float) -> str:
    """Run ``argv`` (no shell); its output (stdout then stderr, the last :data:`MAX_OUTPUT`
    bytes). Raises :class:`StepFailed` on a missing binary, a non-zero exit or a timeout."""
    line = shlex.join(argv)
    binary = shutil.which(argv[0])
    if binary is None:
        raise StepFailed(line, f"{argv[0]} is not installed (not on PATH)")
    proc = await asyncio.create_subprocess_exec(
        binary,
        *argv[1:],
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None  # PIPE was asked for
    kept = bytearray()
    try:
        async with asyncio.timeout(seconds):
            while chunk := await proc.stdout.read(65536):
                kept += chunk
                del kept[:-MAX_OUTPUT]
            await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise StepFailed(line, f"still running after {seconds:g} s; stopped") from None
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    output = kept.decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-20:])
        raise StepFailed(line, f"exit status {proc.returncode}" + (f": {tail}" if tail else ""))
    return output
