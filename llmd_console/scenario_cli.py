"""``llmd-console scenario``: list, switch and clear the fault scenarios of a running
``llmd-console sim``, through its control endpoint."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

CONTROL = "/llmd-sim/v1"


def server_from_kubeconfig(path: Path) -> str:
    """The API server URL of the kubeconfig's current context."""
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SystemExit(f"llmd-console scenario: cannot read kubeconfig {path}: {exc}") from None
    current = config.get("current-context")
    contexts = {c.get("name"): c.get("context", {}) for c in config.get("contexts") or []}
    clusters = {c.get("name"): c.get("cluster", {}) for c in config.get("clusters") or []}
    cluster = clusters.get(contexts.get(current, {}).get("cluster"), {})
    server = cluster.get("server")
    if not server:
        raise SystemExit(f"llmd-console scenario: kubeconfig {path} has no server for context {current!r}")
    return str(server).rstrip("/")


def add_parser(sub: Any, default_kubeconfig: Path) -> None:
    """Register the ``scenario`` subcommand."""
    p = sub.add_parser("scenario", help="list, switch or clear the fault scenarios of a running simulator")
    p.add_argument("action", choices=("list", "set", "clear"), help="what to do")
    p.add_argument("name", nargs="?", help="the scenario for 'set'")
    p.add_argument("--server", help="the simulator's URL (default: from the kubeconfig)")
    p.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help=f"kubeconfig of the simulator (default: $KUBECONFIG, else {default_kubeconfig})",
    )
    p.set_defaults(default_kubeconfig=default_kubeconfig)


def _print_state(state: dict[str, Any]) -> None:
    active = state.get("active")
    for s in state.get("scenarios", []):
        mark = "*" if s["name"] == active else " "
        print(f"{mark} {s['name']:<20} {s['summary']}")
    print(f"\nactive: {active or 'none (healthy world)'}")


def run(args: argparse.Namespace) -> int:
    """Carry out ``llmd-console scenario ...``."""
    if args.action == "set" and not args.name:
        print("llmd-console scenario set: name the scenario (see 'llmd-console scenario list')", file=sys.stderr)
        return 2
    kubeconfig = args.kubeconfig or Path(os.environ.get("KUBECONFIG") or args.default_kubeconfig)
    server = (args.server or server_from_kubeconfig(kubeconfig)).rstrip("/")
    try:
        with httpx.Client(base_url=server + CONTROL, timeout=10.0) as client:
            if args.action == "list":
                response = client.get("/scenarios")
            elif args.action == "set":
                response = client.put("/scenario", json={"name": args.name})
            else:
                response = client.delete("/scenario")
    except httpx.HTTPError as exc:
        print(f"llmd-console scenario: cannot reach the simulator at {server}: {exc}", file=sys.stderr)
        return 1
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text[:200]}
    if response.status_code != 200:
        print(f"llmd-console scenario: {body.get('error', response.status_code)}", file=sys.stderr)
        return 1
    _print_state(body)
    return 0
