"""A world where the gateway routes nowhere (its HTTPRoute deleted): the error budget stops
the run with its exit code, and the failures are explained in the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from llmd_console.inference.endpoint import Endpoint
from llmd_console.load.exits import EXIT_ERROR_BUDGET, EXIT_UNREACHABLE
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import Kubectl, wait_for


def no_route(gateway: Endpoint, kubectl: Kubectl) -> None:
    kubectl.run("delete", "httproute", "pattern1-route", "-n", NAMESPACE, "--ignore-not-found")
    probe = [sys.executable, "-c", f"import httpx; print(httpx.get('{gateway.base_url}/v1/models').text)"]
    wait_for(lambda: "fault filter abort" in subprocess.run(probe, capture_output=True, text=True, check=False).stdout,
             message="the gateway to answer without a route")  # fmt: skip


def test_the_error_budget_stops_the_run(gateway: Endpoint, kubectl: Kubectl, tmp_path: Path) -> None:
    no_route(gateway, kubectl)
    out = tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "llmd_console", "load", "--url", gateway.base_url, "--model", MODEL, "--no-pods",
         "-n", "200", "-c", "4", "--error-budget", "10%", "--error-budget-min", "5", "--json", str(out)],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_ERROR_BUDGET, done.stderr
    data = json.loads(out.read_text())
    r = data["requests"]
    assert data["stop_reason"] == "error_budget" and data["error_budget"]["exceeded"]
    # It stopped once 5 had failed: the 4 in flight at most were cancelled, nothing more was sent.
    assert r["failed"] >= 5 and r["ok"] == 0 and r["sent"] == r["failed"] + r["cancelled"] <= 8
    assert list(data["errors"]) == ["no_route"]
    assert "kubectl" in data["errors"]["no_route"]["fix"] or "HTTPRoute" in data["errors"]["no_route"]["fix"]
    assert "error budget exceeded" in done.stderr


def test_without_a_model_the_run_does_not_start(gateway: Endpoint, kubectl: Kubectl) -> None:
    no_route(gateway, kubectl)
    done = subprocess.run(
        [sys.executable, "-m", "llmd_console", "load", "--url", gateway.base_url, "-n", "3"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_UNREACHABLE
    assert "cannot list the models at --url" in done.stderr and "HTTPRoute" in done.stderr
