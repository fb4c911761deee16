"""The web server: textual-serve's page, WebSocket and app processes, behind checks of the
Host and Origin headers, bound before anything else starts, and stopped with every console it ran."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from textual_serve.server import Server

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(textual_serve.__file__).parent / "static"  # xterm.js, its stylesheet and fonts, from the wheel
SHUTDOWN_GRACE = 5.0  # seconds the consoles have to quit before they are killed
EXIT_CANNOT_LISTEN = 1
EXIT_INTERRUPTED = 130  # as a shell reports a process ended by SIGINT


class ConsoleServer(Server):
    """textual-serve's server with the page's URLs taken from the (checked) Host header, so that
    the page works whatever name or port reached it, including a port chosen at bind time."""

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page: our template, its WebSocket URL on the host the browser used."""
        self.public_url = f"http://{request.host}"
        return await super().handle_index(request)


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The Host headers accepted when listening on ``host`` (None: any, for a reachable address).

    On loopback, a page from elsewhere can point a name of its own at 127.0.0.1 (DNS rebinding)
    and reach the console through the visitor's browser; its requests carry that name as Host."""
    from llmd_console.serve.cli import is_loopback  # noqa: PLC0415 - one definition of loopback

    if not is_loopback(host):
        return None
    names = {"127.0.0.1", "localhost", "[::1]", host if ":" not in host else f"[{host.strip('[]')}]"}
    return frozenset(f"{name}:{port}" for name in names)


def guard(hosts: Callable[[], frozenset[str] | None]) -> Middleware:
    """A middleware refusing an unexpected Host, and a WebSocket opened by a page of another origin."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = hosts()
        if allowed is not None and request.host.lower() not in allowed:
            return web.Response(status=403, text=f"llmd-console serve: unexpected Host {request.host[:100]!r}\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and origin != f"http://{request.host}":
            return web.Response(status=403, text="llmd-console serve: the console opens from its own page only\n")
        return await handler(request)

    return check


def build_app(server: Server, hosts: Callable[[], frozenset[str] | None]) -> web.Application:
    """The aiohttp application: the page, the console's WebSocket, downloads and the static files."""

    async def websocket(request: web.Request) -> web.StreamResponse:
        # The demo's simulator starts after serve listens (so that a port in use is found first):
        # until then there is no console to start.
        if not server.command:
            return web.Response(status=503, text="llmd-console serve: still starting; reload in a moment\n")
        return await server.handle_websocket(request)

    app = web.Application(middlewares=[guard(hosts)])
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    app.add_routes(
        [
            web.get("/", server.handle_index, name="index"),
            web.get("/ws", websocket, name="websocket"),
            web.get("/download/{key}", server.handle_download, name="download"),
            web.static("/static", STATIC, name="static"),
        ]
    )
    return app


def _children() -> list[int]:
    """The process ids whose parent is this process (Linux /proc)."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[1] == me and fields[0] != "Z":  # a zombie has ended; its reaper is asyncio's
                found.append(int(entry.name))
    return found


async def _end_children(keep: frozenset[int]) -> None:
    """SIGTERM the consoles still running (their driver quits on it), then SIGKILL the stragglers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SHUTDOWN_GRACE
    sent = False
    while pids := [pid for pid in _children() if pid not in keep]:
        if loop.time() > deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return
        if not sent:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            sent = True
        await asyncio.sleep(0.1)


async def serve_async(
    command: Callable[[], Awaitable[str | int]], host: str, port: int, title: str, read_only: bool
) -> int:
    """Listen, then get the command each connection runs (``command`` may start a simulator, or
    give an exit code), serve until SIGINT or SIGTERM, and stop every console started."""
    keep = frozenset(_children())  # processes of ours that are not consoles (the demo's simulator)
    bound = {"port": port}
    server = ConsoleServer("", host=host, port=port, title=title, statics_path=STATIC, templates_path=TEMPLATES)
    runner = web.AppRunner(
        build_app(server, lambda: allowed_hosts(host, bound["port"])),
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_GRACE,
        access_log=None,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        print(f"llmd-console serve: cannot listen on {host}:{port}: {why}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        bound["port"] = runner.addresses[0][1]
        making = asyncio.ensure_future(command())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((making, stopping), return_when=asyncio.FIRST_COMPLETED)
        # Ctrl-C while the demo's simulator was starting. The signal reaches the simulator too,
        # so its start may fail in the same instant: the operator's Ctrl-C is what happened.
        if stop.is_set() or not making.done():
            making.cancel()
            stopping.cancel()
            print("Stopped before serving.", flush=True)
            return EXIT_INTERRUPTED
        made = making.result()
        if isinstance(made, int):
            stopping.cancel()
            return made
        server.command = made
        keep = frozenset(_children())
        shown = f"[{host}]" if ":" in host else host
        mode = "read-only" if read_only else "read-write"
        print(f"Serving {title} ({mode}) on http://{shown}:{bound['port']}/ : open it in a web browser.")
        print("Press Ctrl-C to stop.", flush=True)
        await stopping
        print("Stopping: closing the consoles.", flush=True)
    finally:
        await runner.cleanup()
        await _end_children(keep)
    print("Stopped.", flush=True)
    return 0


def serve(command: Callable[[], Awaitable[str | int]], host: str, port: int, title: str, read_only: bool) -> int:
    """Run :func:`serve_async` to its end; the exit code."""
    logging.basicConfig(level=logging.WARNING, format="llmd-console serve: %(message)s")
    return asyncio.run(serve_async(command, host, port, title, read_only))
