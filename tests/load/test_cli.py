"""``llmd-console load`` as a script runs it: exit codes, the JSON it writes, progress on
stderr, Ctrl-C with a summary of what ran, and bad input refused before anything is sent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from llmd_console.cli import build_parser, main
from llmd_console.inference.endpoint import Endpoint
from llmd_console.load.cli import config_of, settings_of
from llmd_console.load.exits import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK
from llmd_console.load.report import RUN_SCHEMA
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import run_cli

GENEROUS = ["--slo-ttft-ms", "60000", "--slo-itl-ms", "60000"]


def load(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return run_cli("load", *args, timeout=timeout)


def test_a_run_writes_its_json_and_exits_0(gateway: Endpoint, kubeconfig: Path, tmp_path: Path) -> None:
    out, lines = tmp_path / "run.json", tmp_path / "requests.jsonl"
    done = load(
        "--kubeconfig", str(kubeconfig), "--namespace", NAMESPACE,
        "-n", "12", "-c", "3", "--max-tokens", "8", "--request-id-prefix", "cli-ok", *GENEROUS,
        "--json", str(out), "--jsonl", str(lines),
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    data = json.loads(out.read_text())
    assert data["schema"] == RUN_SCHEMA and data["model"] == MODEL  # the model came from /v1/models
    assert data["requests"]["ok"] == 12 and data["exit_code"] == EXIT_OK
    # No --url: the Gateway's status address, found through the Kubernetes API.
    assert data["endpoint"]["url"] == gateway.base_url and "status address" in data["endpoint"]["how"]
    # Every request's pod, from the EPP's decision log.
    assert data["pods"]["source"] == "epp_log" and data["pods"]["unknown"] == 0
    assert sum(row["requests"] for row in data["pods"]["by_pod"].values()) == 12
    assert all(pod.startswith("ms-pattern1-llm-d-modelservice-decode-") for pod in data["pods"]["by_pod"])
    assert data["pods"]["note"].startswith("12 of 12 requests matched in the EPP's decision log")
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["request_id"] for r in records] == [f"cli-ok-{n}" for n in range(1, 13)]
    assert all(r["pod"] in data["pods"]["by_pod"] for r in records)
    assert "result: within the error budget and the SLOs (exit 0)" in done.stderr
    assert "per pod (from epp_log):" in done.stderr


def test_json_to_stdout_leaves_the_summary_on_stderr(gateway: Endpoint) -> None:
    done = load("--url", gateway.base_url, "--model", MODEL, "-n", "3", "--max-tokens", "4", "--no-pods",
                "--quiet", *GENEROUS, "--json", "-")  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["requests"]["sent"] == 3
    assert "requests: 3 sent, 3 ok" in done.stderr


def test_ctrl_c_stops_the_run_with_a_summary_of_what_ran(gateway: Endpoint, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmd_console", "load", "--url", gateway.base_url, "--model", MODEL,
         "-n", "1000000", "-c", "4", "--max-tokens", "64", "--no-pods", "--json", str(out), *GENEROUS],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        first = proc.stderr.readline()
        assert first.startswith(f"llmd-console load: sending to --url {gateway.base_url}"), first
        progress = proc.stderr.readline()  # the first progress line: the run is under way
        assert "done" in progress and "in flight" in progress, progress
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == EXIT_INTERRUPTED, rest
    finally:
        proc.kill()
        proc.wait()
    data = json.loads(out.read_text())
    r = data["requests"]
    assert data["stop_reason"] == "interrupted" and data["exit_code"] == EXIT_INTERRUPTED
    assert r["ok"] > 0 and r["sent"] == r["completed"] + r["cancelled"] < 1_000_000
    assert "stopped by the operator" in rest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "-3"], "-c/--concurrency must be a whole number from 1 to 10000, got -3"),
        (["-n", "0"], "-n/--requests must be a whole number from 1 to 10000000, got 0"),
        (["--profile", "constant", "--rate", "0", "-n", "5"], "--rate must be a number above 0"),
        (["--profile", "poisson", "-n", "5"], "the poisson profile needs --rate"),
        (["--profile", "constant", "--rate", "5"], "a rate profile needs -n/--requests or --duration"),
        (["--prompts", "/nonexistent/p.jsonl"], "/nonexistent/p.jsonl: no such prompts file"),
        (["--slo-ttft-ms", "0"], "--slo-ttft-ms must be above 0"),
        (["--max-tokens", "0"], "--max-tokens must be a whole number from 1"),
        (["--request-id-prefix", "a b"], "--request-id-prefix must be up to 100 letters"),
        (["--json", "/nonexistent/dir/out.json"], "--json: the directory /nonexistent/dir does not exist"),
        (["--rate", "3"], "--rate and --duration belong to the constant, poisson and sweep profiles"),
        (["--json", "-", "--jsonl", "-"], "--json and --jsonl cannot both write to stdout"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--url", "http://127.0.0.1:9", *args]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_an_invalid_jsonl_line_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "fine"}\n{"prompt": fine}\n')
    assert main(["load", "--url", "http://127.0.0.1:9", "--prompts", str(prompts)]) == EXIT_BAD_INPUT
    assert f"{prompts}:2: not valid JSON (Expecting value at column 12)" in capsys.readouterr().err


def test_unparseable_numbers_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["load", "--url", "http://127.0.0.1:9", "--error-budget", "lots"])
    assert exited.value.code == EXIT_BAD_INPUT
    assert "--error-budget: expected a fraction such as 0.05 or a percentage such as 5%" in capsys.readouterr().err


def test_settings_come_from_the_config_and_options_win(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("load:\n  slo_ttft_ms: 150\n  slo_itl_ms: 40\n  error_budget: 0.2\n  request_id_prefix: ci\n")
    args = build_parser().parse_args(["load", "--config", str(config), "--slo-itl-ms", "25", "--max-tokens", "7"])
    settings = settings_of(args, config_of(args), "m")
    assert (settings.slo.ttft, settings.slo.itl, settings.error_budget) == (0.15, 0.025, 0.2)
    assert settings.max_tokens == 7 and settings.model == "m"
    assert settings.request_id_prefix.startswith("ci-")  # the config's prefix and the run's start time


def test_a_bad_config_section_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("load:\n  error_budget: 5\n")
    assert main(["load", "--url", "http://127.0.0.1:9", "--config", str(config)]) == EXIT_BAD_INPUT
    assert "config.yaml:2: load: error_budget must be a fraction between 0 and 1" in capsys.readouterr().err
