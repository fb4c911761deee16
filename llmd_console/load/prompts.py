"""Prompts for load runs: a built-in set of varied lengths, or a file (JSONL or text lines),
optionally behind a few shared system prefixes so the EPP's prefix-cache scorer has work.

Files are bounded in bytes, lines and prompt size; bad input raises ``PromptError`` with a
message naming the file, the line and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_PROMPTS = 100_000
MAX_PROMPT_CHARS = 200_000
MAX_TOKENS_LIMIT = 1_000_000
MAX_SHARED_PREFIXES = 1000


class PromptError(ValueError):
    """Prompts that cannot be used; the message says which file, line and why."""


@dataclass(frozen=True)
class LoadPrompt:
    """One prompt of a load run; ``max_tokens`` None takes the run's default."""

    text: str
    max_tokens: int | None = None


# ---- the built-in set ------------------------------------------------------------------
_QUESTIONS = (
    "What is Kubernetes?",
    "Explain Docker in one sentence.",
    "Name three reasons a web service might return HTTP 503.",
    "Write a haiku about a queue that never empties.",
    "What does a load balancer's health check decide?",
)

# Sentences for the longer prompts: an operations log and a design note, composed
# deterministically so that every run sends the same text.
_SUBJECTS = (
    "the decode pod",
    "the endpoint picker",
    "the gateway",
    "the node pool",
    "the prefix cache",
    "the scheduler",
    "the model server",
    "the ingress proxy",
)
_EVENTS = (
    "reported a queue depth of {n} requests",
    "took {n} milliseconds to answer a health probe",
    "raised its cache usage to {n} percent",
    "restarted after {n} seconds without a heartbeat",
    "served {n} requests in the last minute",
    "dropped {n} connections during a rolling update",
    "scored {n} candidate endpoints for one request",
)


def _log_lines(count: int, seed: int) -> str:
    lines = []
    for i in range(count):
        k = seed * 7919 + i * 104_729
        subject = _SUBJECTS[k % len(_SUBJECTS)]
        event = _EVENTS[(k // 7) % len(_EVENTS)].format(n=(k // 13) % 97 + 3)
        lines.append(f"{i + 1:04d} at minute {(i * 3) % 60:02d}, {subject} {event}.")
    return "\n".join(lines)


def builtin_prompts() -> list[LoadPrompt]:
    """The built-in set: short questions up to a long log to summarise (about 5 to 1,550
    tokens). The longest leaves room for a shared prefix and 128 output tokens within the
    2,048-token context the runbook's model server is started with."""
    prompts = [LoadPrompt(q) for q in _QUESTIONS]
    for index, lines in enumerate((6, 15, 35, 60, 85)):
        prompts.append(
            LoadPrompt(
                "Here is an operations log. Summarise what went wrong, in order, and say which "
                f"component to look at first.\n\n{_log_lines(lines, index)}"
            )
        )
    return prompts


# ---- shared prefixes ---------------------------------------------------------------------
_ROLES = ("site reliability engineer", "platform architect", "capacity planner", "support lead", "release manager")


def shared_prefixes(count: int) -> list[str]:
    """``count`` distinct system prefixes of about 200 tokens each, different from their first
    words on, so requests sharing one hit the same cached prefix blocks and others do not."""
    if not 0 <= count <= MAX_SHARED_PREFIXES:
        raise PromptError(f"--shared-prefixes must be between 0 and {MAX_SHARED_PREFIXES}, got {count}")
    out = []
    for i in range(count):
        role = _ROLES[i % len(_ROLES)]
        out.append(
            f"Context {i + 1}: you answer as a {role} on team {i + 1}. "
            f"Background for every answer, from the team's notebook:\n{_log_lines(12, 1000 + i)}\n"
            "Answer briefly and say when you are unsure.\n\n"
        )
    return out


# ---- files ------------------------------------------------------------------------------
def load_prompts(path: Path) -> list[LoadPrompt]:
    """Prompts from a file: JSONL (a ``.jsonl`` name, or a first line starting with ``{``), one
    object per line with ``"prompt"`` and optional ``"max_tokens"``; otherwise one prompt per
    non-empty text line."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise PromptError(f"{path}: no such prompts file") from None
    except OSError as exc:
        raise PromptError(f"{path}: cannot read the prompts file: {exc.strerror}") from None
    if path.is_dir():
        raise PromptError(f"{path}: is a directory, not a prompts file")
    if size > MAX_FILE_BYTES:
        raise PromptError(f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES} a prompts file may be")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PromptError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise PromptError(f"{path}: cannot read the prompts file: {exc.strerror}") from None
    lines = text.splitlines()
    first = next((line.lstrip() for line in lines if line.strip()), "")
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson") or first.startswith("{")
    prompts = _from_jsonl(path, lines) if jsonl else _from_text(path, lines)
    if not prompts:
        raise PromptError(f"{path}: no prompts in the file (it is empty or only blank lines)")
    return prompts


def _entries(path: Path, lines: list[str]) -> Iterator[tuple[str, str]]:
    """(``file:line``, text) of each non-blank line, up to the prompt limit."""
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if count >= MAX_PROMPTS:
            raise PromptError(f"{path}: more than {MAX_PROMPTS} prompts; split the file")
        count += 1
        yield f"{path}:{number}", line


def _check_length(where: str, prompt: str) -> None:
    if len(prompt) > MAX_PROMPT_CHARS:
        raise PromptError(f"{where}: the prompt is longer than {MAX_PROMPT_CHARS} characters")


def _from_text(path: Path, lines: list[str]) -> list[LoadPrompt]:
    out: list[LoadPrompt] = []
    for where, line in _entries(path, lines):
        _check_length(where, line)
        out.append(LoadPrompt(line))
    return out


def _from_jsonl(path: Path, lines: list[str]) -> list[LoadPrompt]:
    out: list[LoadPrompt] = []
    for where, line in _entries(path, lines):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(item, dict):
            raise PromptError(f'{where}: expected a JSON object with a "prompt", got {type(item).__name__}')
        prompt = item.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            what = "is missing" if "prompt" not in item else "must be a non-empty string"
            raise PromptError(f'{where}: "prompt" {what}')
        _check_length(where, prompt)
        max_tokens = item.get("max_tokens")
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= MAX_TOKENS_LIMIT
        ):
            raise PromptError(f'{where}: "max_tokens" must be a whole number from 1 to {MAX_TOKENS_LIMIT}')
        unknown = sorted(set(item) - {"prompt", "max_tokens"})
        if unknown:
            raise PromptError(f"{where}: unknown field {unknown[0]!r} (known: prompt, max_tokens)")
        out.append(LoadPrompt(prompt, max_tokens))
    return out


@dataclass(frozen=True)
class PromptSet:
    """The prompts a run cycles through, with the shared prefixes spread over them."""

    prompts: tuple[LoadPrompt, ...]
    prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.prompts:
            raise PromptError("a load run needs at least one prompt")

    def pick(self, n: int, default_max_tokens: int) -> tuple[str, int]:
        """The text and max tokens of the run's ``n``-th request (0-based)."""
        prompt = self.prompts[n % len(self.prompts)]
        text = prompt.text
        if self.prefixes:
            # The prefix changes after each round of the prompts: each prefix meets every prompt.
            text = self.prefixes[(n // len(self.prompts)) % len(self.prefixes)] + text
        return text, prompt.max_tokens or default_max_tokens
