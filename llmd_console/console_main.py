"""Starting the console: read and check the config and layout (refusing bad ones
with a clear message and exit code 2), then run the app; for ``demo``, with the
simulator running in-process and removed on exit."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from llmd_console.config import Config, ConfigError, load_config
from llmd_console.layouts import LayoutError, load_layout

if TYPE_CHECKING:
    from textual.app import App

    from llmd_console.ui.app import ConsoleApp

EXIT_BAD_INPUT = 2
EXIT_HANGUP = 128 + signal.SIGHUP  # as a shell reports a process ended by SIGHUP
HANGUP_GRACE = 5.0  # seconds the app has to finish after a hang-up
SIM_CONTEXT = "llmd-sim"  # the context and cluster name in the kubeconfig the simulator writes
MAX_KUBECONFIG_CHARS = 1_000_000


def _fail(message: str) -> int:
    print(f"llmd-console: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def prepare(args: argparse.Namespace) -> Config | int:
    """The effective config, or an exit code after printing why it cannot be used."""
    try:
        config, _ = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    ui = config.ui
    if args.read_only:
        ui = dataclasses.replace(ui, read_only=True)
    if args.layout:
        ui = dataclasses.replace(ui, layout=args.layout)
    if getattr(args, "theme", None):
        ui = dataclasses.replace(ui, theme=args.theme)
    from llmd_console.ui.registry import pane_ids  # noqa: PLC0415 - the panes come with the UI

    for name in (ui.layout,) if ui.layout != "auto" else ("default", "compact"):
        try:
            load_layout(name, pane_ids())
        except LayoutError as exc:
            return _fail(f"layout error: {exc}")
    return dataclasses.replace(config, ui=ui)


def run_console(args: argparse.Namespace) -> int:
    """``llmd-console``: open the console on a real cluster."""
    config = prepare(args)
    if isinstance(config, int):
        return config
    kubeconfig = str(args.kubeconfig) if args.kubeconfig else None
    refused = check_context(kubeconfig, args.context or config.cluster.context)
    if refused:
        return _fail(refused)
    from llmd_console.ui.app import ConsoleApp, Target  # noqa: PLC0415

    target = Target(kubeconfig, args.context, args.namespace)
    app = ConsoleApp(config, target)
    refused = _record(app, args)
    if refused:
        return _fail(refused)
    app.run()
    return app.return_code or 0


def _record(app: ConsoleApp, args: argparse.Namespace) -> str:
    """Start ``--record FILE`` if asked: "" when started (or not asked), else why not."""
    path = getattr(args, "record", None)
    if path is None:
        return ""
    return app.start_recording(path, int(args.record_limit * 1_000_000))


def run_replay(args: argparse.Namespace) -> int:
    """``llmd-console replay FILE``: the console's panes on a recording."""
    config = prepare(args)
    if isinstance(config, int):
        return config
    from llmd_console.recording.format import RecordingError  # noqa: PLC0415
    from llmd_console.recording.player import load_player  # noqa: PLC0415

    try:
        player = load_player(args.file, config)
    except RecordingError as exc:
        return _fail(f"cannot replay: {exc}")
    from llmd_console.ui.replay_app import ReplayApp  # noqa: PLC0415

    app = ReplayApp(config, player, speed=args.speed)
    app.run()
    return app.return_code or 0


def check_context(kubeconfig: str | None, wanted: str | None) -> str | None:
    """Why ``wanted`` cannot be used (it is not in the kubeconfig), or None. Checked before the
    screen opens, so a mistyped context fails at once with the list of those that exist."""
    if not wanted:
        return None
    from llmd_console.cluster.contexts import context_names, unknown_context_message  # noqa: PLC0415
    from llmd_console.cluster.kube import kubeconfig_paths  # noqa: PLC0415

    paths = kubeconfig_paths(kubeconfig)
    found = context_names(paths)
    if found is None or wanted in found[0]:
        return None  # unreadable files are the session's to explain
    return unknown_context_message(wanted, paths, *found)


class DemoCluster:
    """The simulator in a process of its own, started while the first frame draws.

    A process rather than a thread: its imports and its controllers would otherwise
    share the interpreter lock with the first frame and every keypress, and on a
    multi-core machine the two now run side by side."""

    def __init__(self, speed: float, accelerator: str, scenario: str | None, world: tuple[str, ...] = ()) -> None:
        """Start ``llmd-console sim``; ``world`` holds its further options (releases, EPP auth)."""
        self.dir = tempfile.TemporaryDirectory(prefix="llmd-demo-")
        self.kubeconfig = Path(self.dir.name) / "kubeconfig"
        self.ready = threading.Event()
        self.error: str | None = None
        self.url = ""  # its API's base URL, once it serves (its GKE Container API too)
        self._output: deque[str] = deque(maxlen=20)  # its last lines, for an error message
        argv = [sys.executable, "-m", "llmd_console", "sim", "--kubeconfig", str(self.kubeconfig)]
        argv += ["--speed", str(speed), "--accelerator", accelerator, *(["--scenario", scenario] if scenario else [])]
        argv += world
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, as an argument list
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            preexec_fn=die_with_parent,  # noqa: PLW1509 - before any thread of ours starts
        )
        threading.Thread(target=self._read, name="llmd-demo-sim", daemon=True).start()

    def _read(self) -> None:
        """Wait for "serving", then keep draining its output (a full pipe would stall it)."""
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._output.append(line.rstrip())
            if " serving the Kubernetes API on " in line:
                self.url = line.rsplit(" ", 1)[-1].strip()
            if line.startswith("Press Ctrl-C"):
                self.ready.set()
        if not self.ready.is_set():
            self.error = f"it exited with code {self._proc.wait()}: {' | '.join(self._output)[-500:]}"
            self.ready.set()

    def stop(self) -> None:
        """Stop the simulator and remove its files.

        It is killed rather than asked to stop: it holds nothing but an in-memory world
        that is thrown away, and its graceful stop (closing servers, then its interpreter's
        teardown) kept the operator's prompt waiting about a second after quitting."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        self.dir.cleanup()


class AttachedCluster:
    """A simulator someone else started and will stop: the demo only reads its kubeconfig."""

    def __init__(self, kubeconfig: Path, url: str) -> None:
        """``url`` is its API's base URL (its GKE Container API too)."""
        self.kubeconfig = kubeconfig
        self.url = url
        self.ready = threading.Event()
        self.ready.set()
        self.error: str | None = None

    def stop(self) -> None:
        """Nothing to stop: the simulator outlives this console."""


def _hung_up(app: App[int], demo: DemoCluster | AttachedCluster) -> None:
    """The terminal is gone: exit as 'q' does, and if the app has not finished within
    HANGUP_GRACE seconds (its shutdown has been seen to stall after a hang-up while a dialog
    was open), remove the simulator and its files and end the process anyway, rather than
    leave both running with no one to see them."""
    app.exit()

    def abandon() -> None:
        demo.stop()
        os._exit(EXIT_HANGUP)

    timer = threading.Timer(HANGUP_GRACE, abandon)
    timer.daemon = True
    timer.start()


def die_with_parent() -> None:
    """In the child: be sent SIGTERM if the console dies without cleaning up (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def simulator_url(kubeconfig: Path) -> str:
    """The API server URL of the simulator that wrote ``kubeconfig`` (its ``llmd-sim`` cluster),
    which also serves the simulated GKE Container API; ValueError saying why it cannot be read."""
    try:
        loaded = yaml.safe_load(kubeconfig.read_text(errors="replace")[:MAX_KUBECONFIG_CHARS])
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {kubeconfig}: {exc}") from exc
    clusters = loaded.get("clusters") if isinstance(loaded, dict) else None
    for entry in clusters if isinstance(clusters, list) else ():
        if isinstance(entry, dict) and entry.get("name") == SIM_CONTEXT:
            server = (entry.get("cluster") or {}).get("server")
            if isinstance(server, str) and server.startswith(("http://", "https://")):
                return server
    raise ValueError(
        f"{kubeconfig} has no {SIM_CONTEXT!r} cluster with a server URL (not written by 'llmd-console sim'?)"
    )


def run_demo(args: argparse.Namespace) -> int:
    """``llmd-console demo``: the console on a simulated Pattern 1 cluster, started here or,
    with ``--attach``, already running (``llmd-console serve demo`` shares one between browsers)."""
    config = prepare(args)
    if isinstance(config, int):
        return config
    tour = None
    if getattr(args, "tour", None):
        from llmd_console.tour import TourError, load_tour  # noqa: PLC0415

        try:
            tour = load_tour(args.tour)
        except TourError as exc:
            return _fail(f"tour error: {exc}")
    attach: Path | None = getattr(args, "attach", None)
    demo: DemoCluster | AttachedCluster
    if attach is not None:
        try:
            demo = AttachedCluster(attach, simulator_url(attach))
        except ValueError as exc:
            return _fail(f"--attach: {exc}")
    else:
        world = ("--releases", args.releases, *(["--epp-metrics-auth"] if args.epp_metrics_auth else []))
        demo = DemoCluster(args.speed, args.accelerator, args.scenario, world)
    try:
        from llmd_console.ui.app import ConsoleApp, Target  # noqa: PLC0415

        app = ConsoleApp(
            config,
            Target(str(demo.kubeconfig), SIM_CONTEXT, getattr(args, "namespace", None)),
            demo=True,
            time_scale=args.speed,
            wait_ready=demo.ready,
            # Node-pool actions go to the simulator's Container API (the same cluster, project and zone).
            gke=lambda: dataclasses.replace(config.gke, endpoint=demo.url + "/", auth="none"),
            tour=tour,
        )
        refused = _record(app, args)
        if refused:
            return _fail(refused)
        # A dropped SSH session hangs up the terminal: leave through the same exit as 'q', so the
        # simulator and its files are cleaned up below.
        signal.signal(signal.SIGHUP, lambda *_: _hung_up(app, demo))
        app.run()
        if demo.error is not None:
            return _fail(f"the simulated cluster did not start: {demo.error}")
        return app.return_code or 0
    finally:
        demo.stop()
