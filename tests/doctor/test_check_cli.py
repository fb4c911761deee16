"""``llmd-console check`` as a script runs it: exit codes, the JSON document and JUnit XML
against a healthy, a broken and an unreachable cluster."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmd_console.doctor.check_cli import SCHEMA, exit_code
from llmd_console.doctor.criteria import Criterion
from llmd_console.doctor.findings import Finding
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import TEST_SPEED, free_port, wait_for
from tests.doctor.helpers import set_scenario


@pytest.fixture(scope="module")
def kubeconfig(cluster_kubeconfig: Path) -> Path:
    return cluster_kubeconfig


def check(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "llmd_console", "check", "--kubeconfig", str(kubeconfig), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def as_json(kubeconfig: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = check(kubeconfig, "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def assert_shape(doc: dict[str, Any]) -> None:
    assert doc["schema"] == SCHEMA
    assert set(doc) >= {"status", "exit_code", "context", "server", "namespace", "seconds", "criteria", "findings"}
    for c in doc["criteria"]:
        assert set(c) == {"number", "title", "status", "detail"} and c["status"] in ("pass", "fail", "skip")
    for f in doc["findings"]:
        assert set(f) == {"id", "severity", "area", "title", "evidence", "fix", "action", "symptom"}
        assert f["severity"] in ("error", "warning", "info") and isinstance(f["fix"], list)
        for e in f["evidence"]:
            assert set(e) == {"kind", "namespace", "name", "text"}


def junit_cases(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases)
    assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    return cases


def test_healthy_cluster_exits_0(kubeconfig: Path, tmp_path: Path) -> None:
    report = tmp_path / "check.xml"

    def clean() -> tuple[int, dict[str, Any]] | None:
        code, doc = as_json(kubeconfig, "--junit", str(report))
        return (code, doc) if code == 0 else None

    _, doc = wait_for(clean, timeout=60, interval=0.5, message="a healthy check")
    assert_shape(doc)
    assert (doc["status"], doc["findings"], doc["namespace"]) == ("ok", [], NAMESPACE)
    assert [c["status"] for c in doc["criteria"]] == ["pass"] * 9
    cases = junit_cases(report)
    assert len(cases) == 9 and all(c.find("failure") is None for c in cases)
    table = check(kubeconfig)
    assert table.returncode == 0
    assert "Success criteria (runbook)" in table.stdout and "Findings: none" in table.stdout
    code, every = as_json(kubeconfig, "-n", "all", "--context", "llmd-sim")
    assert (code, every["namespace"], every["context"], every["findings"]) == (0, "all", "llmd-sim", [])
    missing = check(kubeconfig, "--context", "no-such-context")
    assert missing.returncode == 3 and "no-such-context" in missing.stdout


def test_broken_cluster_exits_2_with_the_finding(cluster: SimCluster, kubeconfig: Path, tmp_path: Path) -> None:
    set_scenario(cluster, "httproute-missing")
    report = tmp_path / "check.xml"
    try:

        def broken() -> tuple[int, dict[str, Any]] | None:
            code, doc = as_json(kubeconfig, "--junit", str(report))
            return (code, doc) if any(f["id"] == "httproute-missing" for f in doc["findings"]) else None

        code, doc = wait_for(broken, timeout=60, interval=0.5, message="the missing route diagnosed")
    finally:
        set_scenario(cluster, None)
    assert_shape(doc)
    assert (code, doc["status"]) == (2, "fail")
    route = next(f for f in doc["findings"] if f["id"] == "httproute-missing")
    assert route["fix"] == [f"kubectl apply -n {NAMESPACE} -f httproute.yaml"]
    assert {c["number"]: c["status"] for c in doc["criteria"]}[5] == "fail"
    failed = [c for c in junit_cases(report) if c.find("failure") is not None]
    assert any((c.get("name") or "").startswith("httproute-missing") for c in failed)


def test_unreachable_cluster_exits_3(kubeconfig: Path, tmp_path: Path) -> None:
    config = yaml.safe_load(kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"http://127.0.0.1:{free_port()}"
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(yaml.safe_dump(config))
    report = tmp_path / "check.xml"
    code, doc = as_json(dead, "--junit", str(report))
    assert (code, doc["status"]) == (3, "unreachable")
    assert doc["error"] and doc["findings"] == [] and doc["criteria"] == []
    cases = junit_cases(report)
    assert [c.get("name") for c in cases] == ["cluster reachable"] and cases[0].find("error") is not None
    table = check(dead)
    assert table.returncode == 3 and "UNREACHABLE" in table.stdout


def test_missing_kubeconfig_exits_3(tmp_path: Path) -> None:
    proc = check(tmp_path / "nowhere")
    assert proc.returncode == 3 and "no kubeconfig" in proc.stdout


def test_exit_codes_from_results() -> None:
    ok = Criterion(1, "TPU node running", "pass", "")
    failed = Criterion(2, "Pods running", "fail", "")
    warning = Finding("idle-accelerator", "warning", "idle")
    error = Finding("httproute-missing", "error", "gone")
    assert exit_code([ok], []) == 0
    assert exit_code([ok], [warning]) == 1
    assert exit_code([ok], [warning, error]) == 2
    assert exit_code([failed], [warning]) == 2
    assert exit_code([Criterion(8, "Scheduler routing works", "skip", "")], []) == 0


@pytest.fixture(scope="module")
def auth_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A healthy cluster whose EPP wants a bearer token for /metrics (upstream's default)."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=19, epp_metrics_auth=True)) as c:
        yield c.write_kubeconfig(tmp_path_factory.mktemp("kube-auth") / "config")


def test_warnings_only_exit_1_and_the_fix_clears_them(auth_kubeconfig: Path, tmp_path: Path) -> None:
    def warned() -> dict[str, Any] | None:
        code, doc = as_json(auth_kubeconfig)
        return doc if code == 1 else None

    doc = wait_for(warned, timeout=60, interval=0.5, message="a check with warnings only")
    assert doc["status"] == "warning" and [f["id"] for f in doc["findings"]] == ["metrics-auth"]
    assert {c["number"]: c["status"] for c in doc["criteria"]}[9] == "skip"
    config = tmp_path / "config.yaml"
    config.write_text("metrics:\n  kubeconfig_token: true\n")  # what the finding's fix says
    code, doc = as_json(auth_kubeconfig, "--config", str(config))
    assert (code, doc["findings"]) == (0, [])
