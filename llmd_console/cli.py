"""The ``llmd-console`` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from llmd_console.doctor.check_cli import add_parser as add_check_parser
from llmd_console.doctor.check_cli import run as check_run
from llmd_console.load.cli import add_parser as add_load_parser
from llmd_console.load.cli import run as load_run
from llmd_console.scenario_cli import add_parser as add_scenario_parser
from llmd_console.scenario_cli import run as scenario_run
from llmd_console.serve.cli import add_parser as add_serve_parser
from llmd_console.serve.cli import run as serve_run


def _default_kubeconfig() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "llmd-console" / "sim-kubeconfig.yaml"


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _console_options(parser: argparse.ArgumentParser, *, cluster: bool = True) -> None:
    if cluster:
        parser.add_argument("--kubeconfig", type=Path, default=None, help="kubeconfig file (default: as kubectl)")
        parser.add_argument("--context", default=None, help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "-n",
        "--namespace",
        # A subcommand's own -n must not reset one given before it (llmd-console -n all demo).
        default=None if cluster else argparse.SUPPRESS,
        help="namespace of the llm-d stack ('all' for every one)",
    )
    parser.add_argument("--config", type=Path, default=None, help="config file (default: $LLMD_CONSOLE_CONFIG or XDG)")
    parser.add_argument("--layout", default=None, help="default | oncall | demo | compact | a user layout | auto")
    parser.add_argument("--read-only", action="store_true", help="refuse every mutation")
    parser.add_argument("--theme", default=None, help="a Textual theme; llmd-high-contrast reads best on a projector")


def _record_options(parser: argparse.ArgumentParser, *, top: bool = True) -> None:
    """``--record FILE`` and its size limit (a subcommand's own must not reset the top level's)."""
    keep: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--record", type=Path, metavar="FILE", help="record what the console receives into FILE (gzip'd)", **keep
    )
    parser.add_argument(
        "--record-limit",
        type=_positive_float,
        metavar="MB",
        help="stop recording when the file reaches this size (default 100 MB)",
        **({"default": 100.0} if top else keep),
    )


def _release_options(parser: argparse.ArgumentParser) -> None:
    """What the simulated world runs: whose metric names, and the EPP's metrics authentication."""
    parser.add_argument(
        "--releases",
        choices=("runbook", "current", "legacy"),
        default="runbook",
        help="vLLM and EPP releases: the runbook's (vLLM 0.11, EPP v0.6.0), current ones (vLLM 0.12, "
        "llm_d_epp_* names) or legacy ones (vLLM 0.9 gpu_* names, GIE v1.0 inference_model_* names)",
    )
    parser.add_argument(
        "--epp-metrics-auth",
        action="store_true",
        help="the EPP's /metrics wants a bearer token (upstream's default; the runbook's chart turns it off)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="llmd-console", description="Terminal operations console for llm-d on Kubernetes."
    )
    _console_options(parser)
    _record_options(parser)
    sub = parser.add_subparsers(dest="command")
    sim = sub.add_parser("sim", help="run the simulated llm-d cluster alone, with a kubeconfig for kubectl")
    sim.add_argument("--port", type=int, default=0, help="API server port on 127.0.0.1 (default: a free one)")
    sim.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help=f"where to write the kubeconfig (default: {_default_kubeconfig()})",
    )
    sim.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="simulated time runs this many times faster than the wall clock (default 1)",
    )
    sim.add_argument(
        "--accelerator",
        choices=("tpu", "gpu"),
        default="tpu",
        help="TPU v6e (ct6e-standard-4t) or NVIDIA H100 (a3-highgpu-4g) nodes",
    )
    sim.add_argument("--nodes", type=int, default=None, help="generate a large world with this many nodes")
    sim.add_argument("--pods", type=int, default=None, help="... and this many running pods")
    sim.add_argument("--seed", type=int, default=0, help="random seed for names and timings")
    sim.add_argument("--scenario", default=None, help="start in a fault scenario (see 'llmd-console scenario list')")
    sim.add_argument(
        "--latency-scale",
        type=float,
        default=1.0,
        help="multiply every inference latency by this (default 1; 0 answers instantly)",
    )
    _release_options(sim)
    demo = sub.add_parser("demo", help="start the simulator in-process and open the console on it")
    demo.add_argument("--speed", type=_positive_float, default=20.0, help="simulated time speed-up (default 20)")
    demo.add_argument("--accelerator", choices=("tpu", "gpu"), default="tpu")
    demo.add_argument("--scenario", default=None, help="start in a fault scenario")
    demo.add_argument(
        "--tour",
        nargs="?",
        const="default",
        default=None,
        metavar="FILE",
        help="run a scripted tour (a YAML file of captioned steps; without FILE: the built-in one); ] advances it",
    )
    demo.add_argument(
        "--attach",
        type=Path,
        default=None,
        metavar="KUBECONFIG",
        help="open the demo on a simulator already running, from the kubeconfig 'llmd-console sim' wrote "
        "(--speed should match its own; --accelerator, --scenario and the releases are its own)",
    )
    _release_options(demo)
    _console_options(demo, cluster=False)
    _record_options(demo, top=False)
    replay = sub.add_parser("replay", help="replay a recording (made with --record) in the console's panes")
    replay.add_argument("file", type=Path, help="the recording")
    replay.add_argument("--speed", type=_positive_float, default=1.0, help="replay speed (default 1)")
    _console_options(replay, cluster=False)
    add_scenario_parser(sub, _default_kubeconfig())
    add_serve_parser(sub)
    add_load_parser(sub)
    add_check_parser(sub)
    return parser


async def _serve_sim(args: argparse.Namespace) -> int:
    # Imported here so that `llmd-console --help` and the console stay fast to start.
    from llmd_console.sim import SimCluster, SimOptions  # noqa: PLC0415
    from llmd_console.sim.worlds.scenarios import ScenarioError  # noqa: PLC0415

    cluster = SimCluster(
        SimOptions(
            port=args.port,
            speed=args.speed,
            accelerator=args.accelerator,
            nodes=args.nodes,
            pods=args.pods,
            seed=args.seed,
            scenario=args.scenario,
            latency_scale=max(0.0, args.latency_scale),
            releases=args.releases,
            epp_metrics_auth=args.epp_metrics_auth,
        )
    )
    try:
        await cluster.start_async()
    except OSError as exc:
        print(f"llmd-console sim: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except ScenarioError as exc:
        print(f"llmd-console sim: {exc}", file=sys.stderr)
        await cluster.stop_async()
        return 2
    path = cluster.write_kubeconfig(args.kubeconfig or _default_kubeconfig())
    print(
        f"Simulated llm-d cluster ({args.accelerator}, speed x{args.speed:g}) "
        f"serving the Kubernetes API on {cluster.url}"
    )
    print(f"Kubeconfig written to {path} (context llmd-sim). Try:\n")
    print(f"  export KUBECONFIG={path}")
    print("  kubectl get nodes,pods -n llm-d-inference-scheduling\n")
    print("and for gcloud's node-pool commands:\n")
    print(f"  export CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER={cluster.url}/ CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true")
    print("  gcloud container node-pools list --cluster tpu-test-cluster --zone europe-west4-a --project ecoeng-llmd")
    print(f"\nAfter get-credentials (the cluster's HTTPS endpoint is 127.0.0.1:{cluster.tls_port}), kubectl needs:\n")
    print("  export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=<a file holding any token>   # for gke-gcloud-auth-plugin\n")
    print("Fault scenarios: llmd-console scenario list | set NAME | clear\n")
    print("Press Ctrl-C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await cluster.stop_async()
    print("Simulator stopped.")
    return 0


def _fail_usage(message: str) -> int:
    print(f"llmd-console: {message}", file=sys.stderr)
    return 2


def leave_now(code: int) -> NoReturn:
    """End the process with ``code`` once the console has closed, skipping the interpreter's
    teardown: by then the terminal is restored and the simulator and its files are gone, and
    tearing down the UI and Kubernetes client modules took about 2 s here (benchmarks/quit_time.py),
    during which the shell prompt did not come back."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``llmd-console`` script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        # serve takes its own options and passes the rest to the console it serves.
        return serve_run(argv[1:], build_parser)
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        return asyncio.run(_serve_sim(args))
    if args.command == "scenario":
        return scenario_run(args)
    if args.command == "load":
        return load_run(args)
    if args.command == "check":
        return check_run(args)
    if args.command == "serve":
        return _fail_usage("serve comes first: llmd-console serve [serve options] [console or demo options]")
    from llmd_console.console_main import run_console, run_demo, run_replay  # noqa: PLC0415

    if args.command == "replay":
        return leave_now(run_replay(args))
    if args.command == "demo":
        return leave_now(run_demo(args))
    if args.command is None:
        return leave_now(run_console(args))
    build_parser().print_help()
    return 2
