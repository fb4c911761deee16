"""The ``serve`` command line: its own options, checks of the address and of the console's
arguments before anything listens, and the command each browser connection runs."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import shlex
import sys
from collections.abc import Callable

EXIT_BAD_INPUT = 2
LOOPBACK_NAMES = ("localhost",)
DEMO_READY_TIMEOUT = 120.0  # seconds the shared simulator has to start serving

_USAGE = (
    "llmd-console serve [-h] [--host HOST] [--port PORT] [--allow-remote] [--read-write] "
    "[console options | demo [demo options]]"
)
_DESCRIPTION = (
    "Serve the console to a web browser: each browser tab gets its own console. Options after the serve "
    "options are the console's (llmd-console serve --port 8000 --context prod -n llm-d) or the demo's "
    "(llmd-console serve demo --speed 20: one simulator, shared by every tab, stopped with serve). "
    "llmd-console --help and llmd-console demo --help list those."
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: a free one), got {value}")
    return value


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000; 0: a free one)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other machines can reach (no login: anyone who reaches it "
        "gets the console)",
    )
    parser.add_argument(
        "--read-write",
        action="store_true",
        help="let the browser's console act on the cluster (default: read-only, as --read-only)",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``serve`` so that ``llmd-console --help`` lists it (``main`` parses it itself)."""
    parser = sub.add_parser(
        "serve",
        help="serve the console (or 'demo') to a web browser",
        usage=_USAGE,
        description=_DESCRIPTION,
    )
    _serve_options(parser)


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The serve options, and the console's arguments that remain (argparse exits 2 on bad ones)."""
    parser = argparse.ArgumentParser(
        prog="llmd-console serve", usage=_USAGE, description=_DESCRIPTION, allow_abbrev=False
    )
    _serve_options(parser)
    return parser.parse_known_args(argv)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(message: str) -> int:
    print(f"llmd-console serve: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def check_host(options: argparse.Namespace) -> str | None:
    """Why the address is refused, or None; warns on stderr when a reachable one is allowed."""
    if is_loopback(options.host):
        return None
    if not options.allow_remote:
        return (
            f"--host {options.host} is not a loopback address: anyone who can reach it would get the console "
            "with no login. Add --allow-remote to listen there anyway."
        )
    access = "and act on the cluster (--read-write)" if options.read_write else "read-only"
    print(
        f"llmd-console serve: WARNING: listening on {options.host}: anyone who can reach this address gets "
        f"the console with no login and no encryption, {access}, with this machine's cluster credentials.",
        file=sys.stderr,
    )
    return None


def app_command(console_argv: list[str], *, read_write: bool) -> str:
    """The shell command textual-serve runs for each browser connection (``exec``: the console is
    serve's own child, which serve can find and stop, and which ends if serve is killed)."""
    argv = [sys.executable, "-m", "llmd_console.serve.console", str(os.getpid()), *console_argv]
    return f"exec {shlex.join([*argv, *([] if read_write else ['--read-only'])])}"


def run(argv: list[str], build_parser: Callable[[], argparse.ArgumentParser]) -> int:
    """``llmd-console serve``: check everything, listen, start the demo's simulator if asked, serve."""
    options, console_argv = parse(argv)
    refused = check_host(options)
    if refused:
        return _fail(refused)
    args = build_parser().parse_args(console_argv)  # exits 2 with argparse's message on bad arguments
    if args.command not in (None, "demo"):
        return _fail(f"serves the console or the demo, not {args.command!r}")
    if args.command == "demo" and args.attach is not None:
        return _fail("serve demo starts the simulator it shares; --attach is not for it")

    from llmd_console import console_main  # noqa: PLC0415 - the console's modules only on this path
    from llmd_console.serve.server import serve  # noqa: PLC0415 - textual-serve only on this path

    config = console_main.prepare(args)
    if isinstance(config, int):
        return config
    read_only = config.ui.read_only or not options.read_write
    if args.command is None:
        refused = console_main.check_context(
            str(args.kubeconfig) if args.kubeconfig else None, args.context or config.cluster.context
        )
        if refused:
            return _fail(refused)

        async def console() -> str:
            return app_command(console_argv, read_write=options.read_write)

        return serve(console, options.host, options.port, "llmd-console", read_only)

    started: list[console_main.DemoCluster] = []

    async def demo() -> str | int:
        """Start the simulator every browser tab shares, once serve listens."""
        world = ("--releases", args.releases, *(["--epp-metrics-auth"] if args.epp_metrics_auth else []))
        cluster = console_main.DemoCluster(args.speed, args.accelerator, args.scenario, world)
        started.append(cluster)
        if not await asyncio.to_thread(cluster.ready.wait, DEMO_READY_TIMEOUT) or cluster.error is not None:
            return _fail(f"the simulated cluster did not start: {cluster.error or 'it did not serve in time'}")
        print(f"Simulated cluster on {cluster.url}, shared by every browser tab.")
        return app_command([*console_argv, "--attach", str(cluster.kubeconfig)], read_write=options.read_write)

    try:
        return serve(demo, options.host, options.port, "llmd-console demo", read_only)
    finally:
        for cluster in started:
            cluster.stop()
