"""What a rule reports: a :class:`Finding` with its evidence and its fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["info", "warning", "error"]
LEVELS: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Quote:
    """One piece of evidence: the object it is about and what it said (a condition, an
    event, a log line, a metric, an answer), quoted as it was (already made inert)."""

    kind: str  # Pod, Deployment, Gateway, HTTPRoute, InferencePool, Node, Secret, Metrics, Inference...
    namespace: str
    name: str
    text: str  # the condition, event message, log line or reading, quoted

    @property
    def key(self) -> str:
        """``namespace/name`` (``name`` for cluster-scoped objects)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def line(self) -> str:
        """One line for a table or a report: ``Kind namespace/name: text``."""
        return f"{self.kind} {self.key}: {self.text}"


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or about to be), with what shows it and what to type.

    ``id`` is stable (``tpu-pool-empty``, ``httproute-missing``...) so scripts and the console
    can key on it; ``fix`` holds exact commands with the current names and namespace filled in;
    ``action`` names the console action that applies the fix, when there is one."""

    id: str
    severity: Level
    title: str
    evidence: tuple[Quote, ...] = ()
    fix: tuple[str, ...] = ()
    action: str | None = None  # e.g. "scale-node-pool", "restart-pods"
    area: str = ""  # request path, tpu, startup, serving, cost, metrics
    symptom: bool = False  # a consequence of another finding (listed after the causes)

    @property
    def subject(self) -> Quote | None:
        """The object the finding is about (its first piece of evidence), to jump to."""
        return self.evidence[0] if self.evidence else None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form (the ``check --json`` shape)."""
        return {
            "id": self.id,
            "severity": self.severity,
            "area": self.area,
            "title": self.title,
            "evidence": [
                {"kind": q.kind, "namespace": q.namespace, "name": q.name, "text": q.text} for q in self.evidence
            ],
            "fix": list(self.fix),
            "action": self.action,
            "symptom": self.symptom,
        }


def worst(findings: tuple[Finding, ...] | list[Finding]) -> Finding | None:
    """The most severe finding (the first of equals), for a one-line summary."""
    return max(findings, key=lambda f: LEVELS[f.severity], default=None)


def ordered(findings: list[Finding]) -> list[Finding]:
    """By severity, worst first, then by id and subject: a stable order for lists and reports."""
    return sorted(
        findings, key=lambda f: (-LEVELS[f.severity], f.symptom, f.area, f.id, f.subject.key if f.subject else "")
    )
