"""An unknown ``--context`` is refused before the screen opens: exit 2, kubectl's words,
and the contexts the kubeconfig has."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import require_tool
from tests.console.test_config import run_cli


def two_contexts(path: Path) -> Path:
    cluster = {"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}
    user = {"name": "u", "user": {"token": "t"}}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "users": [user],
                "contexts": [
                    {"name": "prod", "context": {"cluster": "c", "user": "u"}},
                    {"name": "staging", "context": {"cluster": "c", "user": "u"}},
                ],
                "current-context": "staging",
            }
        )
    )
    return path


def test_unknown_context_exits_2_listing_the_contexts(tmp_path: Path) -> None:
    kubeconfig = two_contexts(tmp_path / "kubeconfig")
    result = run_cli("--kubeconfig", str(kubeconfig), "--context", "no-such-ctx")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""  # no screen was drawn
    lines = result.stderr.splitlines()
    assert lines[0] == "llmd-console: error: context was not found for specified context: no-such-ctx"
    assert lines[1:] == [f"contexts in {kubeconfig}:", "  prod", "  staging  (current)"]


def test_the_refusal_uses_kubectls_words(tmp_path: Path) -> None:
    kubeconfig = two_contexts(tmp_path / "kubeconfig")
    kubectl = subprocess.run(
        [require_tool("kubectl"), "--kubeconfig", str(kubeconfig), "--context", "no-such-ctx", "get", "pods"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert kubectl.returncode != 0
    said = kubectl.stderr.strip().rpartition(": ")[0].split(": ", 1)[-1]  # without "Error in configuration"
    assert said == "context was not found for specified context"
    ours = run_cli("--kubeconfig", str(kubeconfig), "--context", "no-such-ctx")
    assert f"{said}: no-such-ctx" in ours.stderr
