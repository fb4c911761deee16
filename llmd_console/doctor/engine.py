"""Runs every rule: ``evaluate(snapshot, evidence) -> list[Finding]``, worst first.

A rule that raises is a bug, not a cluster problem: it becomes one ``doctor-rule-failed``
warning naming the rule, and the other rules still run."""

from __future__ import annotations

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Quote, ordered
from llmd_console.doctor.rules import cost, path, plumbing, serving, startup, tpu
from llmd_console.doctor.rules.common import Rule
from llmd_console.models import Snapshot

ALL_RULES: tuple[Rule, ...] = (
    *path.RULES,
    *tpu.RULES,
    *startup.RULES,
    *serving.RULES,
    *cost.RULES,
    *plumbing.RULES,
)
MAX_FINDINGS = 200


def evaluate(
    snapshot: Snapshot, evidence: Evidence | None = None, rules: tuple[Rule, ...] = ALL_RULES
) -> list[Finding]:
    """Every finding of every rule on one snapshot, deduplicated, worst (and causes) first."""
    evidence = evidence or Evidence()
    found: dict[tuple[str, str], Finding] = {}
    for rule in rules:
        try:
            results = rule(snapshot, evidence)
        except Exception as exc:  # one broken rule must not hide the others
            results = [
                Finding(
                    "doctor-rule-failed",
                    "warning",
                    f"the doctor's rule {rule.__name__} failed: {type(exc).__name__}: {str(exc)[:200]}",
                    (Quote("Doctor", "", rule.__name__, f"{type(exc).__name__}: {str(exc)[:200]}"),),
                )
            ]
        for finding in results:
            key = (finding.id, finding.subject.key if finding.subject else "")
            found.setdefault(key, finding)
    return ordered(list(found.values()))[:MAX_FINDINGS]
