"""The audit log: one JSON line per mutation attempted, refused or cancelled.

Written to ``$XDG_STATE_HOME/llmd-console/audit.jsonl`` (``~/.local/state`` by default),
appended and flushed per record so a crash loses nothing already done. The file is
rotated to ``audit.jsonl.1`` past ``max_bytes``.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llmd_console.actions.plan import Plan

Outcome = Literal["done", "failed", "cancelled", "refused"]
MAX_BYTES = 8 * 1024 * 1024


def state_dir() -> Path:
    """``$XDG_STATE_HOME/llmd-console``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "llmd-console"


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log."""

    at: float
    user: str
    context: str
    action: str
    target: str
    namespace: str
    command: str
    outcome: Outcome
    detail: str = ""
    diff: str = ""

    def to_json(self) -> str:
        """The record as one JSON line (no trailing newline)."""
        return json.dumps(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at)),
                "user": self.user,
                "context": self.context,
                "action": self.action,
                "target": self.target,
                "namespace": self.namespace,
                "command": self.command,
                "diff": self.diff,
                "outcome": self.outcome,
                "detail": self.detail,
            },
            ensure_ascii=False,
        )


class AuditLog:
    """Appends records to a JSON-lines file."""

    def __init__(self, path: Path | None = None, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path or state_dir() / "audit.jsonl"
        self.max_bytes = max_bytes

    def record(
        self, plan: Plan, context: str, outcome: Outcome, detail: str = "", *, at: float | None = None
    ) -> AuditRecord:
        """Append what happened to ``plan``; raises OSError when the log cannot be written."""
        entry = AuditRecord(
            at=time.time() if at is None else at,
            user=_user(),
            context=context,
            action=plan.action,
            target=plan.target,
            namespace=plan.namespace,
            command=plan.command_line,
            outcome=outcome,
            detail=detail[:2000],
            diff=plan.diff_summary,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file() and self.path.stat().st_size > self.max_bytes:
            self.path.replace(self.path.with_name(self.path.name + ".1"))
        with self.path.open("a", encoding="utf-8") as out:
            out.write(entry.to_json() + "\n")
            out.flush()
        return entry

    def read(self) -> list[dict[str, str]]:
        """Every record of the current file (for tests and a future audit view)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
