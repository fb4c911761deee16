"""Prompt history kept across runs: ``$XDG_STATE_HOME/llmd-console/prompt_history.jsonl``, one
``{"prompt": ...}`` per line. Prompts only (never headers, tokens or answers), bounded in
entries, in characters per prompt and in bytes read; a corrupt line is skipped, saying which.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from llmd_console.sanitize import one_line

FILE_NAME = "prompt_history.jsonl"
MAX_ENTRIES = 500
MAX_PROMPT_CHARS = 32 * 1024  # a longer prompt is not kept (a pasted document is not history)
MAX_PROBLEMS = 20  # corrupt lines reported one by one; beyond, only counted
MAX_FILE_BYTES = 16 * 1024 * 1024  # read from the end of the file (the newest entries are there)


def state_dir() -> Path:
    """``$XDG_STATE_HOME/llmd-console`` (``~/.local/state`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "llmd-console"


def history_path() -> Path:
    """Where the prompt history is kept."""
    return state_dir() / FILE_NAME


class PromptHistory:
    """The prompts sent, oldest first, with up/down navigation (``prev``/``next``) as a shell's."""

    def __init__(self, path: Path | None, max_entries: int = MAX_ENTRIES) -> None:
        """An empty history saved to ``path`` (None: kept in memory only); see :meth:`load`."""
        self.path = path
        self.max_entries = max_entries
        self.entries: list[str] = []
        self.problems: list[str] = []  # why lines of the file were skipped, in words
        self._index = 0
        self._draft = ""
        self._file_lines = 0  # lines in the file: past twice max_entries it is rewritten

    @classmethod
    def load(cls, path: Path | None = None, max_entries: int = MAX_ENTRIES) -> PromptHistory:
        """The history in ``path`` (default: :func:`history_path`); a missing file is an empty history."""
        history = cls(path or history_path(), max_entries)
        history._read()
        history._index = len(history.entries)
        return history

    def _read(self) -> None:
        assert self.path is not None
        try:
            with self.path.open("rb") as handle:
                start = max(0, handle.seek(0, os.SEEK_END) - MAX_FILE_BYTES)
                handle.seek(start)
                raw = handle.read(MAX_FILE_BYTES)
        except FileNotFoundError:
            return
        except OSError as exc:
            self.problems.append(f"{self.path}: cannot be read ({exc.strerror or exc}); history starts empty")
            return
        lines = raw.split(b"\n")
        if start:
            lines[0] = b""  # the read began inside a line
        self._file_lines = len(lines)
        skipped = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            prompt = _prompt_of(line)
            if isinstance(prompt, str):
                self.entries.append(prompt)
                continue
            skipped += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(f"{self.path} line {number}: {prompt.reason}; skipped")
        if skipped > MAX_PROBLEMS:
            self.problems.append(f"{self.path}: {skipped - MAX_PROBLEMS} more corrupt lines skipped")
        del self.entries[: max(0, len(self.entries) - self.max_entries)]

    def add(self, prompt: str) -> None:
        """Remember a prompt sent (not an empty one, not the same as the last one, not a huge one)
        and save it; a file that cannot be written keeps the prompt in memory and says why."""
        self._index = len(self.entries)
        self._draft = ""
        if not prompt.strip() or len(prompt) > MAX_PROMPT_CHARS or self.max_entries == 0:
            return
        if self.entries and self.entries[-1] == prompt:
            return
        self.entries.append(prompt)
        if len(self.entries) > self.max_entries:
            del self.entries[0]
        self._index = len(self.entries)
        if self.path is None:
            return
        try:
            self._save(prompt)
        except OSError as exc:
            self.problems.append(f"{self.path}: cannot be written ({exc.strerror or exc}); kept for this run only")
            self.path = None

    def _save(self, prompt: str) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps({"prompt": prompt}, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)
        self._file_lines += 1
        if self._file_lines > 2 * self.max_entries:
            # Rewritten with only what is kept, so the file stays bounded whatever the use.
            spare = self.path.with_suffix(".jsonl.tmp")
            text = "".join(json.dumps({"prompt": p}, ensure_ascii=False) + "\n" for p in self.entries)
            spare.write_text(text, encoding="utf-8")
            spare.chmod(0o600)
            spare.replace(self.path)
            self._file_lines = len(self.entries)

    def prev(self, current: str = "") -> str | None:
        """The prompt before the one shown (``current`` is kept as the draft when leaving it);
        None at the oldest."""
        if self._index == len(self.entries):
            self._draft = current
        if self._index == 0:
            return None
        self._index -= 1
        return self.entries[self._index]

    def next(self) -> str | None:
        """The prompt after the one shown, then the draft; None when already at the draft."""
        if self._index >= len(self.entries):
            return None
        self._index += 1
        return self._draft if self._index == len(self.entries) else self.entries[self._index]


class _Corrupt:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _prompt_of(line: bytes) -> str | _Corrupt:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        return _Corrupt(f"not JSON ({one_line(str(exc), 80)})")
    if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
        return _Corrupt('not an object with a "prompt" string')
    prompt = str(record["prompt"])
    if len(prompt) > MAX_PROMPT_CHARS:
        return _Corrupt(f"a prompt longer than {MAX_PROMPT_CHARS:,} characters")
    return prompt
