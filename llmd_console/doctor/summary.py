"""What the problems strip says: the findings counted by severity and the worst one named, or
"starting" while a TPU cold start is all the findings are about, or "no problems found".

Imports only the findings and the snapshot's models, so that panes can use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from llmd_console.doctor.findings import LEVELS, Finding, worst
from llmd_console.models import Pod, Snapshot

WATCHED_ROLES = ("decode", "prefill", "epp")


def loaded(snapshot: Snapshot) -> bool:
    """Whether every watched kind has been listed once (before, a missing object may only be late)."""
    return bool(snapshot.watched) and all(snapshot.status_of(kind).status != "loading" for kind in snapshot.watched)


@dataclass(frozen=True)
class Summary:
    """What the problems strip says."""

    state: str  # "healthy", "starting", "warning", "error", "waiting"
    counts: Mapping[str, int]  # severity -> findings
    headline: str  # the worst finding's title, or what is starting
    worst: Finding | None = None


def starting_pods(snapshot: Snapshot, findings: list[Finding]) -> list[Pod]:
    """Model server and EPP pods that are starting, when that is all the findings say.

    A TPU cold start takes minutes (download, weights, XLA precompilation) and meanwhile the
    request path has no Ready pod: the rules report that as a symptom. When every finding is
    such a symptom and the pods have neither crashed nor been killed, the world is starting,
    not broken."""
    if any(not f.symptom for f in findings):
        return []
    out = []
    for pod in sorted(snapshot.pods.values(), key=lambda p: p.key):
        if pod.role not in WATCHED_ROLES or pod.is_ready or pod.terminating:
            continue
        if pod.restarts or any(c.last_exit or c.waiting == "CrashLoopBackOff" for c in pod.containers):
            return []  # it ran and stopped: a failure, even when no rule names it
        out.append(pod)
    return out


def summarize(snapshot: Snapshot, findings: list[Finding]) -> Summary:
    """The strip's state, counts and headline."""
    counts = {level: sum(1 for f in findings if f.severity == level) for level in LEVELS}
    if not loaded(snapshot):
        return Summary("waiting", counts, "waiting for the cluster")
    if not findings:
        return Summary("healthy", counts, "no problems found")
    starting = starting_pods(snapshot, findings)
    if starting:
        names = ", ".join(p.name for p in starting[:2])
        if len(starting) > 2:
            names += f" and {len(starting) - 2} more"
        return Summary("starting", counts, f"starting: {names} (no Ready model server yet)", findings[0])
    first = worst(findings) or findings[0]
    return Summary(first.severity, counts, first.title, first)
