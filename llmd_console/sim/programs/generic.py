"""Any image the simulator does not know: it starts, listens on its ports and keeps running.

``yes TEXT`` as the command prints TEXT over and over, as coreutils' ``yes`` does: the
chattiest pod there is, for testing log views under load."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath

from llmd_console.sim.programs.base import ContainerIO, Exit, SimpleHttp


def declared_ports(container: dict[str, object]) -> set[int]:
    """containerPort numbers of a container spec."""
    ports = container.get("ports") or []
    assert isinstance(ports, list)
    return {int(p["containerPort"]) for p in ports if isinstance(p, dict) and "containerPort" in p}


class GenericProgram:
    """Runs forever, listening on the declared ports."""

    async def run(self, io: ContainerIO) -> Exit:
        """Start serving and wait (or, for ``yes``, print)."""
        io.serve(SimpleHttp(declared_ports(io.container)))
        argv = io.argv()
        if argv and PurePosixPath(argv[0]).name == "yes":
            await _yes(io, " ".join(argv[1:]) or "y")
        await asyncio.Event().wait()
        return Exit(0, "Completed")


YES_LINES_PER_TICK = 200  # 20,000 lines/s: what the simulated container runtime's log pipe carries
TICK_SECONDS = 0.01


async def _yes(io: ContainerIO, text: str) -> None:
    while True:
        for _ in range(YES_LINES_PER_TICK):
            io.log(text)
        await asyncio.sleep(TICK_SECONDS)
