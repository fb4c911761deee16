"""The console's load process (see load/process.py): reads the run from stdin, runs it, and
writes snapshots and the result to stdout; more input, or the end of it, stops the run."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import IO

from llmd_console.load.process import Job, read_frame, write_frame
from llmd_console.load.runner import LoadRunner, RunResult

SNAPSHOT_SECONDS = 0.25


async def _run(job: Job, out: IO[bytes]) -> RunResult:
    loop = asyncio.get_running_loop()
    async with job.endpoint.client(job.connect_seconds) as client:
        runner = LoadRunner(client, job.endpoint, job.prompts, job.settings, job.hints)
        stdin = sys.stdin.fileno()

        def stop() -> None:
            loop.remove_reader(stdin)
            runner.stop()

        loop.add_reader(stdin, stop)  # "stop", or the end of the input: the console is gone
        task = asyncio.ensure_future(runner.run(job.profile))
        while not task.done():
            write_frame(out, ("snapshot", runner.stats.snapshot()))
            await asyncio.wait({task}, timeout=SNAPSHOT_SECONDS)
        return task.result()


def main() -> int:
    """Run one job; 0 when its result was delivered."""
    # Background work: when the console needs the processor for a key, it goes first.
    os.nice(10)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the messages
    try:
        job = read_frame(sys.stdin.buffer)
    except EOFError:
        return 1
    if not isinstance(job, Job):
        return 2
    try:
        result = asyncio.run(_run(job, out))
    except BrokenPipeError:
        return 1  # the console went away
    except Exception as exc:  # the run's own failure goes to the console in words
        try:
            write_frame(out, ("error", f"the load run failed: {type(exc).__name__}: {exc}"))
        except BrokenPipeError:
            return 1
        return 1
    try:
        write_frame(out, ("result", result))
    except BrokenPipeError:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
