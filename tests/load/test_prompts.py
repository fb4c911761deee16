"""Prompts for load runs: the built-in set, files (JSONL and text lines), shared prefixes, and
bad input named by file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_console.load.prompts import LoadPrompt, PromptError, PromptSet, builtin_prompts, load_prompts, shared_prefixes
from llmd_console.sim.inference.text import count_tokens


def test_builtin_set_is_deterministic_and_varied() -> None:
    first, second = builtin_prompts(), builtin_prompts()
    assert first == second
    lengths = sorted(count_tokens(p.text) for p in first)
    assert lengths[0] < 20 and lengths[-1] > 1000
    assert len({p.text for p in first}) == len(first)


def test_longest_builtin_prompt_fits_the_runbook_context_with_a_prefix() -> None:
    longest = max(count_tokens(p.text) for p in builtin_prompts())
    prefix = max(count_tokens(p) for p in shared_prefixes(5))
    assert longest + prefix + 128 < 2048  # --max-model-len=2048, 128 output tokens


def test_jsonl_file(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "one"}\n\n{"prompt": "two", "max_tokens": 7}\n')
    assert load_prompts(path) == [LoadPrompt("one"), LoadPrompt("two", 7)]


def test_text_lines_file(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("What is a pod?\n\n  Explain KV caches.\n")
    assert load_prompts(path) == [LoadPrompt("What is a pod?"), LoadPrompt("  Explain KV caches.")]


def test_a_file_starting_with_an_object_is_jsonl_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "prompts"
    path.write_text('{"prompt": "x"}\n')
    assert load_prompts(path) == [LoadPrompt("x")]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.jsonl", '{"prompt": "ok"}\n{"prompt": "bad"\n', r"p\.jsonl:2: not valid JSON \(Expecting ',' delimiter"),
        ("p.jsonl", '{"prompt": "ok"}\n[1, 2]\n', r'p\.jsonl:2: expected a JSON object with a "prompt", got list'),
        ("p.jsonl", '{"max_tokens": 3}\n', r'p\.jsonl:1: "prompt" is missing'),
        ("p.jsonl", '{"prompt": ""}\n', r'p\.jsonl:1: "prompt" must be a non-empty string'),
        ("p.jsonl", '{"prompt": "a", "max_tokens": 0}\n', r'p\.jsonl:1: "max_tokens" must be a whole number'),
        ("p.jsonl", '{"prompt": "a", "max_tokens": true}\n', r'p\.jsonl:1: "max_tokens" must be a whole number'),
        ("p.jsonl", '{"prompt": "a", "model": "x"}\n', r"p\.jsonl:1: unknown field 'model'"),
        ("p.txt", "", r"p\.txt: no prompts in the file \(it is empty or only blank lines\)"),
        ("p.txt", "\n  \n", r"p\.txt: no prompts in the file"),
        ("p.txt", "\xff\n", r"p\.txt: not UTF-8 text"),
    ],
)
def test_bad_files_name_the_line_and_the_reason(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(PromptError, match=message):
        load_prompts(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=r"nope\.jsonl: no such prompts file"):
        load_prompts(tmp_path / "nope.jsonl")
    with pytest.raises(PromptError, match="is a directory"):
        load_prompts(tmp_path)


def test_shared_prefixes_are_distinct_from_the_start_and_spread_over_prompts() -> None:
    prefixes = shared_prefixes(3)
    assert len({p[:12] for p in prefixes}) == 3
    prompts = PromptSet((LoadPrompt("a"), LoadPrompt("b", 5)), tuple(prefixes))
    picks = [prompts.pick(n, 64) for n in range(12)]
    assert {text[-1] for text, _ in picks} == {"a", "b"}
    assert {max_tokens for text, max_tokens in picks if text.endswith("b")} == {5}
    assert {max_tokens for text, max_tokens in picks if text.endswith("a")} == {64}
    # Each prefix meets each prompt.
    assert {(text[: len(prefixes[0]) // 2], text[-1]) for text, _ in picks} == {
        (p[: len(prefixes[0]) // 2], q) for p in prefixes for q in "ab"
    }


def test_shared_prefix_count_is_checked() -> None:
    with pytest.raises(PromptError, match="--shared-prefixes must be between 0 and 1000, got -1"):
        shared_prefixes(-1)
