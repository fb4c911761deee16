"""The runbook's nine success criteria, checked on the snapshot and the evidence: what
``llmd-console check`` verifies and the doctor view lists, passed, failed or not checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from llmd_console.doctor.evidence import Evidence
from llmd_console.models import Hop, Snapshot

Status = Literal["pass", "fail", "skip"]
ROUTING_LINES = ("Scheduling decision", "Request handled", "picked endpoint", "Selected endpoint")


@dataclass(frozen=True)
class Criterion:
    """One success criterion's result."""

    number: int
    title: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, object]:
        """The ``check --json`` shape."""
        return {"number": self.number, "title": self.title, "status": self.status, "detail": self.detail}


def _hop(snapshot: Snapshot, kind: str) -> Hop | None:
    return next((h for h in snapshot.path.hops if h.kind == kind), None)


def _hop_result(snapshot: Snapshot, kind: str) -> tuple[Status, str]:
    hop = _hop(snapshot, kind)
    if hop is None or hop.light == "unknown":
        return "skip", hop.problem if hop else "no request path in view"
    if hop.light == "ok":
        return "pass", "; ".join(hop.facts[:3])
    return "fail", hop.problem


def _accelerator_node(snapshot: Snapshot, evidence: Evidence) -> tuple[Status, str]:
    del evidence
    nodes = [n for n in snapshot.nodes.values() if n.chips_total > 0 or n.topology]
    ready = [n for n in nodes if n.ready]
    if ready:
        return "pass", ", ".join(f"{n.name} ({n.machine}, {n.topology or n.accelerator}) Ready" for n in ready[:3])
    return "fail", "no accelerator node is Ready" if not nodes else f"{nodes[0].name} is {nodes[0].status}"


def _pods_running(snapshot: Snapshot, evidence: Evidence) -> tuple[Status, str]:
    del evidence
    pods = [p for p in snapshot.pods.values() if p.role in ("decode", "prefill", "epp") and not p.terminating]
    if not pods:
        return "fail", "no model server or EPP pod in view"
    bad = [p for p in pods if not (p.phase == "Running" and p.is_ready)]
    if bad:
        return "fail", ", ".join(f"{p.name} {p.status}" for p in bad[:3])
    return "pass", f"{len(pods)} pods Running and Ready"


def _first_inference(snapshot: Snapshot, evidence: Evidence) -> tuple[Status, str]:
    del snapshot
    if not evidence.inferences:
        return "skip", "no test inference was sent"
    first = evidence.inferences[0]
    if first.ok:
        return "pass", f"HTTP {first.status} in {first.total or 0:.2f} s via {first.endpoint}"
    return "fail", first.failure_title


def _fast(snapshot: Snapshot, evidence: Evidence) -> tuple[Status, str]:
    del snapshot
    later = evidence.inferences[1:]
    if not later or not all(i.ok for i in evidence.inferences):
        return "skip", "needs a first and a second successful test inference"
    limit = evidence.config.doctor.ttft_seconds
    worst = max(i.total or 0.0 for i in later)
    return ("pass" if worst <= limit else "fail"), f"{worst:.2f} s (expected at most {limit:g} s)"


def _routing(snapshot: Snapshot, evidence: Evidence) -> tuple[Status, str]:
    epp_pods = {p.key for p in snapshot.pods.values() if p.role == "epp"}
    lines = [line for log in evidence.logs if log.pod in epp_pods for line in log.lines]
    if any(marker in line for line in lines for marker in ROUTING_LINES):
        return "pass", "the EPP logs scheduling decisions"
    served = [i.served_by for i in evidence.inferences if i.ok and i.served_by]
    if served:
        return "pass", f"the gateway routed to {served[-1]}"
    if not epp_pods:
        return "fail", "no EPP pod in view"
    return "skip", "no routing decision seen in the EPP's recent log lines"


def _metrics(snapshot: Snapshot, evidence: Evidence) -> tuple[Status, str]:
    del snapshot
    feed = evidence.feed
    if feed is None:
        return "skip", "metrics were not read"
    parts: list[str] = []
    status: Status = "pass"
    for label, histories in (("vLLM", feed.vllm), ("EPP", feed.epp)):
        working = [k for k, h in histories.items() if not h.error and len(h.times)]
        if working:
            parts.append(f"{label}: {len(working)} endpoint(s) answer")
            continue
        why = next((h.error for h in histories.values() if h.error), "no endpoint to read")
        # An endpoint that answers 401 responds: it wants credentials (the metrics-auth finding).
        if histories and all("bearer token" in h.error for h in histories.values()):
            status = "skip" if status == "pass" else status
            parts.append(f"{label}: answers, but wants a bearer token")
        else:
            status = "fail"
            parts.append(f"{label}: {why[:160]}")
    return status, "; ".join(parts)


_CHECKS: tuple[tuple[str, Callable[[Snapshot, Evidence], tuple[Status, str]]], ...] = (
    ("TPU node running", _accelerator_node),
    ("Pods running", _pods_running),
    ("Gateway accessible", lambda s, e: _hop_result(s, "Gateway")),
    ("InferencePool ready", lambda s, e: _hop_result(s, "InferencePool")),
    ("HTTPRoute bound", lambda s, e: _hop_result(s, "HTTPRoute")),
    ("First inference completes", _first_inference),
    ("Subsequent inferences fast", _fast),
    ("Scheduler routing works", _routing),
    ("Metrics accessible", _metrics),
)


def success_criteria(snapshot: Snapshot, evidence: Evidence) -> list[Criterion]:
    """The nine criteria, in the runbook's order."""
    out = []
    for number, (title, check) in enumerate(_CHECKS, start=1):
        status, detail = check(snapshot, evidence)
        out.append(Criterion(number, title, status, detail))
    return out
