"""Any image the simulator does not know: it starts, listens on its ports and keeps running."""

from __future__ import annotations

import asyncio

from llmd_console.sim.programs.base import ContainerIO, Exit, SimpleHttp


def declared_ports(container: dict[str, object]) -> set[int]:
    """containerPort numbers of a container spec."""
    ports = container.get("ports") or []
    assert isinstance(ports, list)
    return {int(p["containerPort"]) for p in ports if isinstance(p, dict) and "containerPort" in p}


class GenericProgram:
    """Runs forever, listening on the declared ports."""

    async def run(self, io: ContainerIO) -> Exit:
        """Start serving and wait."""
        io.serve(SimpleHttp(declared_ports(io.container)))
        await asyncio.Event().wait()
        return Exit(0, "Completed")
