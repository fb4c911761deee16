"""Any image the simulator does not know: it starts, listens on its ports and keeps running.

Its ports are the declared ones plus, for a few well-known images, the port their default
command listens on: declaring a containerPort is information for people and Services, the
process listens wherever it listens, and a probe or a port-forward reaches it there.

``yes TEXT`` as the command prints TEXT over and over, as coreutils' ``yes`` does: the
chattiest pod there is, for testing log views under load. A few commands that end on their
own (``echo``, ``true``, ``false``, ``date``, ``sleep N``) run and exit as the real ones do,
so a Job's pod can complete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import PurePosixPath

from llmd_console.sim.programs.base import ContainerIO, Exit, SimpleHttp


def declared_ports(container: dict[str, object]) -> set[int]:
    """containerPort numbers of a container spec."""
    ports = container.get("ports") or []
    assert isinstance(ports, list)
    return {int(p["containerPort"]) for p in ports if isinstance(p, dict) and "containerPort" in p}


# Where well-known images listen with their default command (their Dockerfiles' EXPOSE).
IMAGE_PORTS = {
    "nginx": 80,
    "httpd": 80,
    "nginxinc/nginx-unprivileged": 8080,
    "registry.k8s.io/echoserver": 8080,
    "traefik/whoami": 80,
}


def _repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def listen_ports(container: dict[str, object]) -> set[int]:
    """The ports a generic container's process listens on: declared, plus its image's own."""
    ports = declared_ports(container)
    own = IMAGE_PORTS.get(_repository(str(container.get("image", ""))))
    if own is not None and not container.get("command"):
        ports.add(own)
    return ports


class GenericProgram:
    """Runs forever, listening on its ports."""

    async def run(self, io: ContainerIO) -> Exit:
        """Start serving and wait (or, for ``yes``, print)."""
        io.serve(SimpleHttp(listen_ports(io.container)))
        argv = io.argv()
        if argv and PurePosixPath(argv[0]).name in FINITE_COMMANDS:
            return await _finite(io, PurePosixPath(argv[0]).name, argv[1:])
        if argv and PurePosixPath(argv[0]).name == "yes":
            await _yes(io, " ".join(argv[1:]) or "y")
        await asyncio.Event().wait()
        return Exit(0, "Completed")


FINITE_COMMANDS = ("echo", "true", "false", "date", "sleep")


async def _finite(io: ContainerIO, command: str, args: list[str]) -> Exit:
    """Run one of FINITE_COMMANDS: its output, its exit status."""
    if command == "echo":
        io.log(" ".join(args))
    elif command == "date":
        io.log(datetime.fromtimestamp(io.ctx.clock.now(), tz=UTC).strftime("%a %b %e %H:%M:%S UTC %Y"))
    elif command == "sleep":
        if not args:
            io.log("sleep: missing operand")
            return Exit(1, "Error")
        try:
            seconds = float(args[0])
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds < float("inf"):
            io.log(f"sleep: invalid time interval '{args[0]}'")
            return Exit(1, "Error")
        await io.sleep(seconds)
    elif command == "false":
        return Exit(1, "Error")
    return Exit(0, "Completed")


YES_LINES_PER_TICK = 200  # 20,000 lines/s: what the simulated container runtime's log pipe carries
TICK_SECONDS = 0.01


async def _yes(io: ContainerIO, text: str) -> None:
    while True:
        for _ in range(YES_LINES_PER_TICK):
            io.log(text)
        await asyncio.sleep(TICK_SECONDS)
