"""Starting the console: read and check the config and layout (refusing bad ones
with a clear message and exit code 2), then run the app; for ``demo``, with the
simulator running in-process and removed on exit."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from llmd_console.config import Config, ConfigError, load_config
from llmd_console.layouts import LayoutError, load_layout

EXIT_BAD_INPUT = 2


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
    from llmd_console.ui.app import ConsoleApp, Target  # noqa: PLC0415

    target = Target(str(args.kubeconfig) if args.kubeconfig else None, args.context, args.namespace)
    app = ConsoleApp(config, target)
    app.run()
    return app.return_code or 0


class DemoCluster:
    """The simulator in a background thread, started while the first frame draws."""

    def __init__(self, speed: float, accelerator: str, scenario: str | None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="llmd-demo-")
        self.kubeconfig = Path(self.dir.name) / "kubeconfig"
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._cluster: Any = None
        self._args = (speed, accelerator, scenario)
        self._thread = threading.Thread(target=self._start, name="llmd-demo-sim", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            from llmd_console.sim import SimCluster, SimOptions  # noqa: PLC0415 - off the first frame's path

            speed, accelerator, scenario = self._args
            self._cluster = SimCluster(SimOptions(speed=speed, accelerator=accelerator, scenario=scenario)).start()
            self._cluster.write_kubeconfig(self.kubeconfig)
        except BaseException as exc:  # reported by the app's connection worker
            self.error = exc
        finally:
            self.ready.set()

    def stop(self) -> None:
        """Stop the simulator and remove its files."""
        self.ready.wait(30)
        if self._cluster is not None:
            self._cluster.stop()
        self.dir.cleanup()


def run_demo(args: argparse.Namespace) -> int:
    """``llmd-console demo``: the console on a simulated Pattern 1 cluster."""
    config = prepare(args)
    if isinstance(config, int):
        return config
    demo = DemoCluster(args.speed, args.accelerator, args.scenario)
    try:
        from llmd_console.ui.app import ConsoleApp, Target  # noqa: PLC0415

        app = ConsoleApp(
            config,
            Target(str(demo.kubeconfig), "llmd-sim", None),
            demo=True,
            time_scale=args.speed,
            wait_ready=demo.ready,
        )
        # A dropped SSH session hangs up the terminal: leave through the same exit as 'q', so the
        # simulator and its files are cleaned up below.
        signal.signal(signal.SIGHUP, lambda *_: app.exit())
        app.run()
        if demo.error is not None:
            return _fail(f"the simulated cluster did not start: {demo.error}")
        return app.return_code or 0
    finally:
        demo.stop()
