"""Shared fixtures: a simulated cluster per test module, real tools, and polling helpers."""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import pytest
import yaml
from kubernetes import client, config
from prometheus_api_client import PrometheusConnect

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import EPP_NAME, NAMESPACE

T = TypeVar("T")
REQUIRE_REAL_TOOLS = os.environ.get("LLMD_REQUIRE_REAL_TOOLS") == "1"
TEST_SPEED = 200.0


def require_tool(name: str) -> str:
    """The path of an external binary; skips without it, fails under LLMD_REQUIRE_REAL_TOOLS=1."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if REQUIRE_REAL_TOOLS:
            pytest.fail(f"{message}, and LLMD_REQUIRE_REAL_TOOLS=1 forbids skipping")
        pytest.skip(message)
    return path


def run_cli(*args: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
    """Run ``llmd-console ARGS`` as a user does, with no input; it must end by itself within ``timeout``."""
    return subprocess.run(
        [sys.executable, "-m", "llmd_console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def require_module(name: str) -> None:
    """Import a Python package the test needs; skips without it, fails under LLMD_REQUIRE_REAL_TOOLS=1."""
    try:
        importlib.import_module(name)
    except ImportError:
        message = f"the Python package {name} is not installed"
        if REQUIRE_REAL_TOOLS:
            pytest.fail(f"{message}, and LLMD_REQUIRE_REAL_TOOLS=1 forbids skipping")
        pytest.skip(message)


def wait_for(
    condition: Callable[[], T | None], timeout: float = 20.0, interval: float = 0.05, message: str = "condition"
) -> T:
    """Poll until ``condition`` returns something truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message} (last value: {last!r})")


@pytest.fixture(scope="session", autouse=True)
def own_state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The console's state (the prompt history) goes to a directory of the test run, never to
    the home of whoever runs the tests."""
    path = tmp_path_factory.mktemp("state-home")
    before = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(path)
    yield path
    if before is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = before


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    """A Pattern 1 cluster on TPU, 200x faster than real time."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=7)) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def kubeconfig(sim: SimCluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig for ``sim``."""
    return sim.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


class Kubectl:
    """Runs the real kubectl against a simulated cluster."""

    def __init__(self, binary: str, kubeconfig: Path) -> None:
        self.binary = binary
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig)}

    def run(self, *args: str, check: bool = True, timeout: float = 30.0, stdin: str | None = None) -> str:
        """Run kubectl; return stdout (raise with stderr on failure when ``check``)."""
        proc = subprocess.run(
            [self.binary, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc.stdout if check else proc.stdout + proc.stderr

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start a long-running kubectl (``get -w``, ``logs -f``)."""
        return subprocess.Popen(
            [self.binary, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture(scope="module")
def api(sim: SimCluster, kubeconfig: Path) -> Iterator[client.ApiClient]:
    """The official Python client, configured from the module's kubeconfig."""
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api_client:
        yield api_client


@pytest.fixture(scope="module")
def kubectl(kubeconfig: Path) -> Kubectl:
    """The real kubectl, pointed at the module's simulator."""
    return Kubectl(require_tool("kubectl"), kubeconfig)


# ---- a real Prometheus scraping the simulator ---------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(sim: SimCluster, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require_tool("prometheus")
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", "llm-d.ai/inferenceServing=true", "--timeout=60s")
    pod = kubectl.run("get", "pods", "-l", "llm-d.ai/inferenceServing=true", "-o", "jsonpath={.items[0].metadata.name}")
    api = urlparse(sim.url).netloc
    base = f"/api/v1/namespaces/{NAMESPACE}"
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "vllm", "metrics_path": f"{base}/pods/{pod}:8000/proxy/metrics",
             "static_configs": [{"targets": [api], "labels": {"pod": pod}}]},
            {"job_name": "epp", "metrics_path": f"{base}/services/{EPP_NAME}:9090/proxy/metrics",
             "static_configs": [{"targets": [api]}]},
        ],
    }  # fmt: skip
    work = tmp_path_factory.mktemp("prometheus")
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(work / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        prom = PrometheusConnect(url=url, disable_ssl=True)
        wait_for(lambda: _ready(prom), timeout=30, message="prometheus to answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _ready(prom: PrometheusConnect) -> bool:
    try:
        return bool(prom.check_prometheus_connection())
    except Exception:  # not listening yet
        return False
