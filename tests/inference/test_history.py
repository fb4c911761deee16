"""The prompt history: kept across runs in the XDG state dir, bounded, corrupt lines skipped
with a message naming them, and up/down navigation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmd_console.inference.history import MAX_PROMPT_CHARS, PromptHistory, history_path


def test_round_trip_through_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first = PromptHistory.load()
    for prompt in ("What is Kubernetes?", "Explain\nllm-d", "Explain\nllm-d", "  ", "üñí ✓"):
        first.add(prompt)
    path = tmp_path / "llmd-console" / "prompt_history.jsonl"
    assert history_path() == path and path.stat().st_mode & 0o777 == 0o600
    again = PromptHistory.load()
    assert again.entries == ["What is Kubernetes?", "Explain\nllm-d", "üñí ✓"] and again.problems == []
    # Prompts only: each line holds one key.
    assert all(set(json.loads(line)) == {"prompt"} for line in path.read_text().splitlines())


def test_corrupt_lines_are_skipped_and_named(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"prompt": "one"}\nnot json\n[1]\n{"prompt": 3}\n\n{"prompt": "two"}\n'
        + json.dumps({"prompt": "x" * (MAX_PROMPT_CHARS + 1)})
        + "\n"
        + "[" * 100_000
        + "]" * 100_000
        + "\n"
    )
    history = PromptHistory.load(path)
    assert history.entries == ["one", "two"]
    assert [p.split(": ", 1)[0] for p in history.problems] == [f"{path} line {n}" for n in (2, 3, 4, 7, 8)]
    assert "not JSON" in history.problems[0] and "longer than" in history.problems[3]


def test_history_is_bounded_on_disk_and_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = PromptHistory.load(path, max_entries=5)
    for n in range(23):
        history.add(f"prompt {n}")
    history.add("y" * (MAX_PROMPT_CHARS + 1))  # too long to keep
    assert history.entries == [f"prompt {n}" for n in range(18, 23)]
    assert len(path.read_text().splitlines()) <= 10
    assert PromptHistory.load(path, max_entries=5).entries == history.entries


def test_up_and_down_walk_the_history_and_keep_the_draft(tmp_path: Path) -> None:
    history = PromptHistory.load(tmp_path / "h.jsonl")
    for prompt in ("a", "b", "c"):
        history.add(prompt)
    assert history.next() is None
    assert [history.prev("draft"), history.prev(), history.prev(), history.prev()] == ["c", "b", "a", None]
    assert [history.next(), history.next(), history.next(), history.next()] == ["b", "c", "draft", None]
    history.add("d")
    assert history.prev("") == "d"


def test_an_unwritable_state_dir_keeps_prompts_for_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = PromptHistory.load(blocker / "h.jsonl")  # a directory that cannot exist
    history.add("kept")
    assert history.entries == ["kept"]
    assert "cannot be read" in history.problems[0] and "cannot be written" in history.problems[1]
