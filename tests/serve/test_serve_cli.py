"""``llmd-console serve`` refuses what it must before listening: a reachable address without
--allow-remote, a bad port, a port in use, bad console arguments; no browser needed."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmd_console.serve.cli import app_command, is_loopback, parse
from llmd_console.serve.server import EXIT_INTERRUPTED, allowed_hosts, serve_async
from tests.conftest import run_cli, wait_for
from tests.serve.served import Served


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    """``llmd-console serve ARGS``, which must refuse and exit by itself."""
    return run_cli("serve", *args, timeout=60)


def test_a_reachable_address_needs_allow_remote() -> None:
    done = serve("--host", "0.0.0.0", "--port", "0", "demo")
    assert done.returncode == 2
    assert "--host 0.0.0.0 is not a loopback address" in done.stderr
    assert "--allow-remote" in done.stderr
    assert "Serving" not in done.stdout


def test_allow_remote_warns_naming_the_risk() -> None:
    # A layout that does not exist stops serve after the warning, before it listens anywhere.
    done = serve("--host", "0.0.0.0", "--allow-remote", "--layout", "no-such-layout")
    assert done.returncode == 2
    assert "WARNING: listening on 0.0.0.0: anyone who can reach this address gets the console" in done.stderr
    assert "no login and no encryption, read-only" in done.stderr
    assert "layout error" in done.stderr
    done = serve("--host", "0.0.0.0", "--allow-remote", "--read-write", "--layout", "no-such-layout")
    assert "and act on the cluster (--read-write)" in done.stderr


@pytest.mark.parametrize(
    ("port", "message"),
    [("70000", "a port is 0 to 65535 (0: a free one), got 70000"), ("http", "not a port number: 'http'")],
)
def test_a_bad_port_is_named(port: str, message: str) -> None:
    done = serve("--port", port)
    assert done.returncode == 2
    assert message in done.stderr


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve("--port", str(port), "--layout", "default")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in done.stderr


def test_bad_console_arguments_are_refused_before_listening() -> None:
    done = serve("--port", "0", "demo", "--speed", "-3")
    assert done.returncode == 2
    assert "must be positive, got -3" in done.stderr
    done = serve("--port", "0", "--layout", "no-such-layout")
    assert done.returncode == 2
    assert "layout error" in done.stderr
    done = serve("--port", "0", "sim")
    assert done.returncode == 2
    assert "serves the console or the demo, not 'sim'" in done.stderr


def test_serve_is_listed_in_the_help() -> None:
    done = run_cli("--help", timeout=60)
    assert "serve" in done.stdout


def test_loopback_names() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.3.4.5")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.0.2.7")
    assert not is_loopback("example.org")


def test_only_the_loopback_names_are_accepted_as_host() -> None:
    hosts = allowed_hosts("127.0.0.1", 8123)
    assert hosts is not None
    assert {"127.0.0.1:8123", "localhost:8123", "[::1]:8123"} <= hosts
    assert "attacker.example:8123" not in hosts
    assert allowed_hosts("0.0.0.0", 8123) is None  # reachable on purpose (--allow-remote): any name


def test_the_browser_console_is_read_only_unless_asked() -> None:
    assert app_command(["demo", "--speed", "5"], read_write=False).endswith("demo --speed 5 --read-only")
    assert "--read-only" not in app_command(["demo"], read_write=True)
    # Arguments reach the console as they were given, whatever a shell would make of them.
    assert "'--context=a b;rm'" in app_command(["--context=a b;rm"], read_write=False)


def test_the_cli_loads_textual_serve_only_to_serve() -> None:
    code = "import sys, llmd_console.cli, llmd_console.console_main; print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "textual_serve" not in out
    assert "aiohttp_jinja2" not in out


def test_attach_names_what_is_wrong_with_the_kubeconfig(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    foreign = tmp_path / "foreign.yaml"
    foreign.write_text("clusters: [{name: prod, cluster: {server: 'https://10.0.0.1'}}]\n")
    for path, message in ((missing, "cannot read"), (foreign, "has no 'llmd-sim' cluster with a server URL")):
        done = run_cli("demo", "--attach", str(path), timeout=60)
        assert done.returncode == 2
        assert f"--attach: {path}" in done.stderr or f"--attach: cannot read {path}" in done.stderr
        assert message in done.stderr


def test_ctrl_c_while_the_demo_starts_leaves_nothing() -> None:
    served = Served("demo")
    try:
        wait_for(
            lambda: any(" sim --kubeconfig " in line for line in served.session_processes()),
            timeout=60,
            message="the demo's simulator to start",
        )
        assert served.ctrl_c() == 130, served.output
        assert "Stopped before serving." in served.output
        assert served.session_processes() == []
    finally:
        served.kill()


def test_ctrl_c_wins_over_a_start_it_made_fail(capsys: pytest.CaptureFixture[str]) -> None:
    """The SIGINT of a Ctrl-C reaches the demo's simulator as well: its start then fails in the
    same instant as serve is interrupted, and the exit says interrupted, not failed."""

    async def failing_start() -> int:
        def simulator_dies_of_the_same_signal() -> int:
            os.kill(os.getpid(), signal.SIGINT)
            return 2

        started = asyncio.get_running_loop().run_in_executor(None, simulator_dies_of_the_same_signal)
        time.sleep(0.2)  # noqa: ASYNC251 - a busy machine: the signal and the failed start reach the loop together
        return await started

    assert asyncio.run(serve_async(failing_start, "127.0.0.1", 0, "test", read_only=True)) == EXIT_INTERRUPTED
    assert "Stopped before serving." in capsys.readouterr().out


def test_serve_takes_its_options_and_passes_the_rest_in_order() -> None:
    options, rest = parse(["--port", "9000", "--context", "prod", "-n", "llm-d"])
    assert (options.host, options.port, options.read_write) == ("127.0.0.1", 9000, False)
    assert rest == ["--context", "prod", "-n", "llm-d"]
    options, rest = parse(["-n", "all", "demo", "--speed", "5", "--read-write", "--tour", "--layout", "demo"])
    assert options.read_write
    assert rest == ["-n", "all", "demo", "--speed", "5", "--tour", "--layout", "demo"]
