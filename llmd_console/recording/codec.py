"""Records to and from the console's own values: watch batches, connection changes, log
chunks, metric rounds, findings and prompt results. Every string from outside goes through
:mod:`~llmd_console.recording.redact` on the way in."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from llmd_console.cluster.watch import Batch
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.inference.request import Failure, Outcome, PromptRequest
from llmd_console.metrics.alerts import Alert
from llmd_console.models import Connection, KindState, LogChunk, LogTarget, Phase, StreamPhase, StreamState
from llmd_console.recording.format import Record, finite
from llmd_console.recording.redact import scrub_object, scrub_text

KIND_STATUSES = ("loading", "live", "reconnecting", "forbidden", "missing")


class BadRecord(ValueError):
    """A record whose fields are not what its type says."""


# ---- watch batches ---------------------------------------------------------------------------
def _state(state: KindState, started: float) -> list[Any]:
    retry = None if state.retry_at is None else round(state.retry_at - started, 3)
    return [state.status, scrub_text(state.message), retry]


def batch_record(batch: Batch, started: float) -> Record:
    """A watch batch (Secrets dropped, credentials redacted)."""
    out: Record = {"k": "batch"}
    if batch.relisted:
        out["relisted"] = {
            kind: [o for o in (scrub_object(obj) for obj in items) if o is not None]
            for kind, items in batch.relisted.items()
        }
    if batch.changed:
        out["changed"] = {
            kind: {
                key: None if obj is None else scrub_object(obj)
                for key, obj in updates.items()
                if obj is None or obj.get("kind") != "Secret"
            }
            for kind, updates in batch.changed.items()
        }
    if batch.states:
        out["states"] = {kind: _state(state, started) for kind, state in batch.states.items()}
    return out


def batch_of(record: Record, started: float) -> Batch:
    """The batch a ``batch`` record holds."""
    try:
        relisted = {str(k): [dict(o) for o in v] for k, v in (record.get("relisted") or {}).items()}
        changed = {
            str(k): {str(key): None if o is None else dict(o) for key, o in v.items()}
            for k, v in (record.get("changed") or {}).items()
        }
        states = {}
        for kind, (status, message, retry) in (record.get("states") or {}).items():
            if status not in KIND_STATUSES:
                raise BadRecord(f"unknown kind status {str(status)[:20]!r}")
            states[str(kind)] = KindState(status, str(message), None if retry is None else started + float(retry))
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRecord(f"a batch record is malformed: {exc}") from None
    return Batch(relisted=relisted, changed=changed, states=states)


# ---- the connection ------------------------------------------------------------------------------
def connection_record(connection: Connection) -> Record:
    """The connection's phase and what it says (times are the record's own)."""
    return {
        "k": "conn",
        "phase": connection.phase.value,
        "reason": scrub_text(connection.reason),
        "context": connection.context,
        "server": scrub_text(connection.server),
        "forbidden": sorted(connection.forbidden),
        "missing": sorted(connection.missing),
    }


def connection_of(record: Record, at: float) -> Connection:
    """The connection a ``conn`` record holds, as it was at ``at``."""
    try:
        phase = Phase(record["phase"])
        return Connection(
            phase=phase,
            since=at,
            reason=str(record.get("reason", "")),
            context=str(record.get("context", "")),
            server=str(record.get("server", "")),
            last_live=at,
            forbidden=frozenset(map(str, record.get("forbidden") or ())),
            missing=frozenset(map(str, record.get("missing") or ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRecord(f"a connection record is malformed: {exc}") from None


# ---- logs -------------------------------------------------------------------------------------------
def log_record(chunk: LogChunk, started: float) -> Record:
    """A log chunk: its pod, container, lines (kubelet times relative to the start) and state."""
    t = chunk.target
    out: Record = {"k": "log", "ns": t.namespace, "pod": t.pod, "container": chunk.container}
    if t.container:
        out["want"] = t.container
    if t.previous:
        out["previous"] = True
    if chunk.lines:
        out["lines"] = [[None if at is None else round(at - started, 3), scrub_text(text)] for at, text in chunk.lines]
    if chunk.skipped:
        out["skipped"] = chunk.skipped
    if chunk.state is not None:
        out["state"] = [chunk.state.phase.value, scrub_text(chunk.state.message)]
    return out


def log_of(record: Record, started: float) -> LogChunk:
    """The chunk a ``log`` record holds."""
    try:
        target = LogTarget(
            str(record["ns"]), str(record["pod"]), record.get("want"), previous=bool(record.get("previous"))
        )
        lines = tuple(
            (None if at is None else started + float(at), str(text)) for at, text in record.get("lines") or ()
        )
        state = record.get("state")
        return LogChunk(
            target,
            str(record.get("container", "")),
            lines,
            int(record.get("skipped", 0)),
            None if state is None else StreamState(StreamPhase(state[0]), str(state[1])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRecord(f"a log record is malformed: {exc}") from None


# ---- findings, alerts, prompt results -----------------------------------------------------------------
def findings_record(findings: Sequence[Finding]) -> Record:
    """The doctor's current findings (the whole list: the replay shows it as it was)."""
    items = []
    for f in findings:
        data = f.as_dict()
        data["title"] = scrub_text(f.title)
        data["evidence"] = [[q.kind, q.namespace, q.name, scrub_text(q.text)] for q in f.evidence]
        data["fix"] = [scrub_text(line) for line in f.fix]
        items.append(data)
    return {"k": "findings", "items": items}


def findings_of(record: Record) -> tuple[Finding, ...]:
    """The findings a ``findings`` record holds."""
    try:
        return tuple(
            Finding(
                id=str(d["id"]),
                severity=d["severity"] if d["severity"] in ("info", "warning", "error") else "error",
                title=str(d["title"]),
                evidence=tuple(Quote(*map(str, q)) for q in d.get("evidence") or ()),
                fix=tuple(map(str, d.get("fix") or ())),
                action=None if d.get("action") is None else str(d["action"]),
                area=str(d.get("area", "")),
                symptom=bool(d.get("symptom")),
            )
            for d in record.get("items") or ()
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRecord(f"a findings record is malformed: {exc}") from None


def alerts_field(alerts: Sequence[Alert], started: float) -> list[list[Any]]:
    """Alerts as lists (key, severity, summary, since relative to the start, firing)."""
    return [[a.key, a.severity, scrub_text(a.summary), round(a.since - started, 3), a.firing] for a in alerts]


def alerts_of(items: Sequence[Sequence[Any]], started: float) -> tuple[Alert, ...]:
    """Alerts from :func:`alerts_field`'s lists."""
    try:
        return tuple(
            Alert(str(k), str(s), str(text), started + float(since), bool(f)) for k, s, text, since, f in items
        )
    except (TypeError, ValueError) as exc:
        raise BadRecord(f"an alert is malformed: {exc}") from None


def prompt_record(outcome: Outcome) -> Record:
    """A prompt's result: what was asked, the answer and its timings (an ``inference`` Outcome)."""
    failure = outcome.failure
    return {
        "k": "prompt",
        "model": scrub_text(outcome.request.model),
        "api": outcome.request.api,
        "prompt": scrub_text(outcome.request.prompt[:2000]),
        "status": outcome.status,
        "text": scrub_text(outcome.text[:4000]),
        "ttft": finite(outcome.ttft),
        "total": finite(outcome.total),
        "tokens": outcome.completion_tokens,
        "served_by": outcome.served_by,
        "failure": None
        if failure is None
        else [failure.kind, scrub_text(failure.title), scrub_text(failure.cause[:500]), scrub_text(failure.fix[:500])],
    }


def prompt_of(record: Record) -> Outcome:
    """The result a ``prompt`` record holds, for the prompt pane (timings as recorded)."""
    try:
        model = str(record.get("model") or "(unknown)")
        request = PromptRequest(str(record.get("prompt", "")), model)
        if record.get("api") == "completions":
            request = PromptRequest(request.prompt, model, api="completions")
        failure = record.get("failure")
        status, tokens = record.get("status"), record.get("tokens")
        return Outcome(
            request,
            "",
            0.0,
            status=None if status is None else int(status),
            text=str(record.get("text", "")),
            ttft=_number(record.get("ttft")),
            total=_number(record.get("total")),
            completion_tokens=None if tokens is None else int(tokens),
            served_by=None if record.get("served_by") is None else str(record["served_by"]),
            failure=None if not failure else Failure(*[*map(str, failure), "", ""][:4]),
        )
    except (TypeError, ValueError) as exc:
        raise BadRecord(f"a prompt record is malformed: {exc}") from None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def prompt_summary(record: Record) -> str:
    """One line for a prompt result."""
    failure = record.get("failure")
    who = f" by {record['served_by']}" if record.get("served_by") else ""
    if failure:
        return f"prompt failed: {str(failure[1])[:120]}"
    ttft = record.get("ttft")
    took = f", TTFT {float(ttft) * 1000:.0f} ms" if isinstance(ttft, (int, float)) and math.isfinite(ttft) else ""
    return f"prompt answered (HTTP {record.get('status')}{took}){who}"


def as_mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}
