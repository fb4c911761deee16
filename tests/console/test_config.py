"""Config and layout files: the shipped ones are valid and match the defaults; bad
ones are refused with a message naming file, line and field, and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmd_console.config import Config, ConfigError, load_config
from llmd_console.layouts import BUILTIN, Layout, LayoutError, choose, load_layout
from llmd_console.ui.registry import pane_ids
from llmd_console.yamlschema import SchemaError, load_file, load_text

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_is_the_default() -> None:
    assert load_file(Config, ROOT / "config.yaml") == Config()


@pytest.mark.parametrize("name", BUILTIN)
def test_shipped_layouts_load(name: str) -> None:
    layout = load_layout(name, pane_ids())
    assert layout.name == name and layout.panes()


def test_default_layout_shows_every_pane() -> None:
    assert sorted(load_layout("default", pane_ids()).panes()) == sorted(
        ["nodes", "pods", "logs", "gateway", "metrics", "prompt"]
    )


def test_auto_picks_compact_on_small_terminals() -> None:
    assert choose("auto", 80, 24) == "compact"
    assert choose("auto", 160, 45) == "default"
    assert choose("oncall", 80, 24) == "oncall"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cluster:\n  namspace: x\n", "bad.yaml:2: cluster.namspace: unknown field (did you mean 'namespace'?)"),
        ("refresh:\n  batch_ms: fast\n", "bad.yaml:2: refresh.batch_ms: expected an integer, got 'fast'"),
        ("logs:\n  max_lines: 5\n", "bad.yaml:2: logs: max_lines must be between 100 and 1000000"),
        ("prices:\n  tpu-v6e-slice: -1\n", "bad.yaml: prices: must not be negative"),
        ("ui: [1, 2]\n", "bad.yaml:1: ui: expected a mapping"),
        ("cluster: {namespace: [\n", "bad.yaml:2: not valid YAML"),
    ],
)
def test_bad_config_names_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).replace(str(tmp_path) + "/", "").startswith(expected)


def test_partial_user_config_keeps_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("gke:\n  project: other\nkeys:\n  quit: ctrl+q\n")
    config, source = load_config(path)
    assert source == path
    assert config.gke.project == "other" and config.gke.cluster == "tpu-test-cluster"
    assert config.keys == {"quit": "ctrl+q"}


def test_bad_user_layout_names_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layouts = tmp_path / "llmd-console" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "twice.yaml").write_text("rows:\n  - panes: [{pane: pods}, {pane: pods}]\n")
    (layouts / "unknown.yaml").write_text("tabs: [pods, charts]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(LayoutError, match=r"twice\.yaml:1: pane 'pods' appears more than once"):
        load_layout("twice", pane_ids())
    with pytest.raises(LayoutError, match=r"unknown\.yaml:1: tabs\[1\]: expected one of .*got 'charts'"):
        load_layout("unknown", pane_ids())
    with pytest.raises(LayoutError, match="no layout named 'nope'"):
        load_layout("nope", pane_ids())


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmd_console", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_cli_refuses_a_bad_config_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("ui:\n  read_only: maybe\n")
    result = run_cli("--config", str(path))
    assert result.returncode == 2
    assert f"config error: {path}:2: ui.read_only: expected true or false, got 'maybe'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_a_bad_layout_without_a_traceback(tmp_path: Path) -> None:
    layouts = tmp_path / "llmd-console" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "broken.yaml").write_text("rows: 3\n")
    result = run_cli("--layout", "broken", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "layout error:" in result.stderr and "broken.yaml:1: rows: expected a list" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_cli("demo", "--layout", "nope", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert missing.returncode == 2 and "no layout named 'nope'" in missing.stderr


# ---- any input: only the loaders' own error, within the work bound ------------------------
YAML_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["!!int abc", "!foo bar", "!!bool maybe", "!!timestamp nope", "=", ".inf", "2001-13-45", "[/]"]),
)
DOCUMENTS = st.recursive(
    YAML_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.sampled_from(["cluster", "logs", "ui", "keys", "prices", "refresh", "rows", "tabs", "panes", "x"])
            | st.text(max_size=10),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=30,
)


def _loads_or_refuses(tp: type[object], text: str) -> None:
    try:
        load_text(tp, text, "fuzz.yaml")
    except SchemaError as exc:
        assert str(exc).startswith("fuzz.yaml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_gives_a_config_or_a_schema_error(text: str) -> None:
    _loads_or_refuses(Config, text)
    _loads_or_refuses(Layout, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_document_gives_a_config_or_a_schema_error(document: object) -> None:
    text = yaml.safe_dump(document)
    # Tags written as text ("!!int abc") are quoted by safe_dump; unquote them to send real tags.
    tagged = text.replace("'!!", "!!").replace("'!foo", "!foo")
    for body in (text, tagged):
        _loads_or_refuses(Config, body)
        _loads_or_refuses(Layout, body)


def test_work_is_bounded_by_size_and_node_count() -> None:
    with pytest.raises(SchemaError, match="larger than 1024 KiB"):
        load_text(Config, "#" * (2 * 1024 * 1024), "big.yaml")
    # Aliases can make a few lines name a subtree millions of times: refused after the node budget.
    lines = ["rows:", "  - &r0 {panes: [{pane: pods}], height: 1}"]
    layers = "".join(f"\n  - &r{i} [" + ", ".join([f"*r{i - 1}"] * 10) + "]" for i in range(1, 7))
    with pytest.raises(SchemaError):
        load_text(Layout, "\n".join(lines) + layers, "bomb.yaml")
    with pytest.raises(SchemaError, match="finite"):
        load_text(Config, "cluster: {request_timeout_seconds: .inf}", "inf.yaml")
