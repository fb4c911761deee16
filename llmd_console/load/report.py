"""A run's results: the summary printed at the end, one JSON object per run, and per-request
JSONL on request.

JSON object (``schema`` "llmd-console/load-run/v1"; times in seconds since the epoch, latencies in
milliseconds, null where nothing was measured):

- ``schema``, ``request_id_prefix``, ``started_at``, ``ended_at``, ``duration_seconds``
- ``endpoint``: ``url``, ``how`` (which path reached the API); ``model``, ``api``
- ``profile``: ``kind`` (concurrent | constant | poisson | sweep) and its parameters
- ``stop_reason``: completed | error_budget | interrupted; ``stop_why`` in words
- ``requests``: ``sent``, ``completed`` (ended, not cancelled), ``ok``, ``failed``, ``cancelled``
- ``errors``: by kind, each ``count``, ``title`` and ``fix`` (from the first of its kind)
- ``ttft_ms``, ``itl_ms``, ``e2e_ms``: ``p50``, ``p99``, ``mean``, ``max``
- ``throughput``: ``requests_per_second``, ``output_tokens``, ``output_tokens_per_second``
- ``slo``: ``ttft_ms``, ``itl_ms``, ``met`` (p99s within both), ``good_requests``, ``goodput_per_second``
- ``error_budget``: ``fraction``, ``min_requests``, ``error_ratio``, ``exceeded``
- ``pods``: ``source`` (served_by | epp_log | mixed | none), ``unknown`` (requests with no pod),
  ``by_pod``: pod -> ``requests``, ``ok``, ``failed``, ``ttft_p50_ms``
- ``sweep`` (sweep only): ``best_rate`` and ``steps`` (``rate``, ``met``, ``why``, ``sent``, ``completed``,
  ``error_ratio``, ``ttft_p99_ms``, ``itl_p99_ms``, ``output_tokens_per_second``)
- ``records``: ``kept``, ``dropped`` (per-request records beyond ``max_records``)
- ``exit_code``: what ``llmd-console load`` exits with

JSONL: one object per request (``schema`` "llmd-console/load-request/v1"): ``request_id``, ``index``,
``sent_at``, ``status``, ``ok``, ``failure``, ``stalled``, ``ttft_ms``, ``itl_p50_ms``, ``itl_p99_ms``,
``e2e_ms``, ``prompt_tokens``, ``output_tokens``, ``finish_reason``, ``pod``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from llmd_console.load.exits import EXIT_ERROR_BUDGET, EXIT_INTERRUPTED, EXIT_OK, EXIT_SLO
from llmd_console.load.histogram import LatencyHistogram
from llmd_console.load.profiles import Sweep, describe
from llmd_console.load.runner import RunResult
from llmd_console.load.stats import LoadSnapshot, RequestRecord
from llmd_console.sanitize import one_line

RUN_SCHEMA = "llmd-console/load-run/v1"
REQUEST_SCHEMA = "llmd-console/load-request/v1"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


@dataclass(frozen=True)
class Verdict:
    """Whether the run passed, and why not."""

    exit_code: int
    slo_met: bool
    budget_exceeded: bool
    why: str


def verdict(result: RunResult) -> Verdict:
    """The run's exit code: interrupted, error budget, SLO, or success (a sweep succeeds when a rate met the SLOs)."""
    s, settings = result.overall, result.settings
    exceeded = result.stop_reason == "error_budget" or (s.completed > 0 and s.error_ratio > settings.error_budget)
    slo_met = (
        s.ttft.p99 is not None
        and s.ttft.p99 <= settings.slo.ttft
        and (s.itl.p99 is None or s.itl.p99 <= settings.slo.itl)
    )
    if result.stop_reason == "interrupted":
        return Verdict(EXIT_INTERRUPTED, slo_met, exceeded, result.stop_why)
    if result.steps:
        if result.best_rate is not None:
            return Verdict(EXIT_OK, slo_met, exceeded, f"the last rate that met the SLOs: {result.best_rate:g}/s")
        first = result.steps[0]
        code = EXIT_ERROR_BUDGET if "error ratio" in first.why else EXIT_SLO
        return Verdict(code, slo_met, exceeded, f"no rate met the SLOs: at {first.rate:g}/s {first.why}")
    if exceeded:
        return Verdict(
            EXIT_ERROR_BUDGET,
            slo_met,
            exceeded,
            f"error budget exceeded: {s.failed} of {s.completed} failed ({s.error_ratio:.1%} > "
            f"{settings.error_budget:.1%})",
        )
    if not slo_met:
        return Verdict(EXIT_SLO, slo_met, exceeded, _slo_miss(s, result))
    return Verdict(EXIT_OK, slo_met, exceeded, "within the error budget and the SLOs")


def _slo_miss(s: LoadSnapshot, result: RunResult) -> str:
    slo = result.settings.slo
    if s.ttft.p99 is None:
        return "SLO not met: no request produced a first token"
    misses = []
    if s.ttft.p99 > slo.ttft:
        misses.append(f"TTFT p99 {s.ttft.p99 * 1000:.0f} ms > {slo.ttft * 1000:.0f} ms")
    if s.itl.p99 is not None and s.itl.p99 > slo.itl:
        misses.append(f"ITL p99 {s.itl.p99 * 1000:.1f} ms > {slo.itl * 1000:.0f} ms")
    return "SLO not met: " + ", ".join(misses)


def pod_of(record: RequestRecord, decisions: Mapping[str, str]) -> tuple[str | None, str]:
    """The pod that served a request and where that is known from (served_by, epp_log or none)."""
    if record.served_by:
        return record.served_by, "served_by"
    pod = decisions.get(record.request_id)
    return (pod, "epp_log") if pod else (None, "none")


def pod_split(records: list[RequestRecord], decisions: Mapping[str, str]) -> dict[str, Any]:
    """Requests per serving pod, from ``served_by`` or else the EPP's decisions (request id -> pod)."""
    by_pod: dict[str, dict[str, Any]] = {}
    ttfts: dict[str, LatencyHistogram] = {}
    sources: set[str] = set()
    unknown = 0
    for record in records:
        if record.failure == "cancelled":
            continue
        pod, source = pod_of(record, decisions)
        if pod is None:
            unknown += 1
            continue
        sources.add(source)
        row = by_pod.setdefault(pod, {"requests": 0, "ok": 0, "failed": 0})
        row["requests"] += 1
        row["ok" if record.ok else "failed"] += 1
        if record.ttft is not None:
            ttfts.setdefault(pod, LatencyHistogram()).add(record.ttft)
    for pod, row in by_pod.items():
        row["ttft_p50_ms"] = _ms(ttfts[pod].quantile(0.5)) if pod in ttfts else None
    source = "none" if not sources else sources.pop() if len(sources) == 1 else "mixed"
    return {"source": source, "unknown": unknown, "by_pod": dict(sorted(by_pod.items()))}


def _latency(h: LatencyHistogram) -> dict[str, float | None]:
    return {
        "p50": _ms(h.quantile(0.5)),
        "p99": _ms(h.quantile(0.99)),
        "mean": _ms(h.mean),
        "max": _ms(h.max if h.count else None),
    }


def run_json(result: RunResult, endpoint: tuple[str, str], decisions: Mapping[str, str]) -> dict[str, Any]:
    """The run as one JSON-ready object (fields in the module docstring); ``endpoint`` is (url, how),
    ``decisions`` the EPP's (request id -> pod)."""
    s, settings = result.overall, result.settings
    v = verdict(result)
    errors = {
        kind: {
            "count": count,
            "title": result.failures[kind].title if kind in result.failures else None,
            "fix": result.failures[kind].fix if kind in result.failures else None,
        }
        for kind, count in sorted(s.errors.items())
    }
    out: dict[str, Any] = {
        "schema": RUN_SCHEMA,
        "request_id_prefix": settings.request_id_prefix,
        "started_at": round(s.started_at, 3),
        "ended_at": round(s.at, 3),
        "duration_seconds": round(s.elapsed, 3),
        "endpoint": {"url": endpoint[0], "how": endpoint[1]},
        "model": settings.model,
        "api": settings.api,
        "profile": describe(result.profile),
        "stop_reason": result.stop_reason,
        "stop_why": result.stop_why,
        "requests": {
            "sent": s.sent,
            "completed": s.completed,
            "ok": s.ok,
            "failed": s.failed,
            "cancelled": s.cancelled,
        },
        "errors": errors,
        "ttft_ms": _latency(result.stats.ttft),
        "itl_ms": _latency(result.stats.itl),
        "e2e_ms": _latency(result.stats.e2e),
        "throughput": {
            "requests_per_second": round(s.completed / s.elapsed, 3) if s.elapsed > 0 else 0.0,
            "output_tokens": s.output_tokens,
            "output_tokens_per_second": round(s.output_tokens / s.elapsed, 3) if s.elapsed > 0 else 0.0,
        },
        "slo": {
            "ttft_ms": _ms(settings.slo.ttft),
            "itl_ms": _ms(settings.slo.itl),
            "met": v.slo_met,
            "good_requests": s.good,
            "goodput_per_second": round(s.goodput, 3),
        },
        "error_budget": {
            "fraction": settings.error_budget,
            "min_requests": settings.error_budget_min_requests,
            "error_ratio": round(s.error_ratio, 6),
            "exceeded": v.budget_exceeded,
        },
        "pods": pod_split(result.records, decisions),
        "records": {"kept": len(result.records), "dropped": result.dropped_records},
        "exit_code": v.exit_code,
        "verdict": v.why,
    }
    if isinstance(result.profile, Sweep):
        out["sweep"] = {
            "best_rate": result.best_rate,
            "steps": [
                {
                    "rate": step.rate,
                    "met": step.met,
                    "why": step.why,
                    "sent": step.snapshot.sent,
                    "completed": step.snapshot.completed,
                    "error_ratio": round(step.snapshot.error_ratio, 6),
                    "ttft_p99_ms": _ms(step.snapshot.ttft.p99),
                    "itl_p99_ms": _ms(step.snapshot.itl.p99),
                    "output_tokens_per_second": round(step.snapshot.output_tokens / step.snapshot.elapsed, 3)
                    if step.snapshot.elapsed > 0
                    else 0.0,
                }
                for step in result.steps
            ],
        }
    return out


def request_json(record: RequestRecord, decisions: Mapping[str, str]) -> dict[str, Any]:
    """One request as a JSON-ready object (fields in the module docstring)."""
    return {
        "schema": REQUEST_SCHEMA,
        "request_id": record.request_id,
        "index": record.index,
        "sent_at": round(record.sent_at, 6),
        "status": record.status,
        "ok": record.ok,
        "failure": record.failure,
        "stalled": record.stalled,
        "ttft_ms": _ms(record.ttft),
        "itl_p50_ms": _ms(record.itl_p50),
        "itl_p99_ms": _ms(record.itl_p99),
        "e2e_ms": _ms(record.e2e),
        "prompt_tokens": record.prompt_tokens,
        "output_tokens": record.output_tokens,
        "finish_reason": record.finish_reason,
        "pod": pod_of(record, decisions)[0],
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write the run's object (``-`` is stdout)."""
    text = json.dumps(data, indent=2) + "\n"
    if str(path) == "-":
        print(text, end="", flush=True)
    else:
        path.write_text(text)


def write_jsonl(out: IO[str], records: list[RequestRecord], decisions: Mapping[str, str]) -> None:
    """One line per request, in the order they were sent."""
    for record in sorted(records, key=lambda r: r.index):
        out.write(json.dumps(request_json(record, decisions), separators=(",", ":")) + "\n")


def summary(data: dict[str, Any]) -> list[str]:
    """The end-of-run summary, a few lines of text, from the run's object."""
    r, t = data["requests"], data["ttft_ms"]
    lines = [
        f"{data['profile']['kind']} run against {data['endpoint']['how']}: {data['stop_why']}",
        f"requests: {r['sent']} sent, {r['ok']} ok, {r['failed']} failed, {r['cancelled']} cancelled "
        f"in {data['duration_seconds']:.1f} s ({data['throughput']['requests_per_second']:.1f}/s)",
        f"TTFT p50 {_fmt(t['p50'])} p99 {_fmt(t['p99'])}; ITL p50 {_fmt(data['itl_ms']['p50'])} "
        f"p99 {_fmt(data['itl_ms']['p99'])}; {data['throughput']['output_tokens_per_second']:.0f} output tokens/s",
        f"goodput (TTFT <= {data['slo']['ttft_ms']:g} ms and ITL <= {data['slo']['itl_ms']:g} ms): "
        f"{data['slo']['good_requests']} requests, {data['slo']['goodput_per_second']:.2f}/s",
    ]
    for kind, e in data["errors"].items():
        lines.append(f"  error {kind} x{e['count']}: {e['title'] or ''}" + (f" (fix: {e['fix']})" if e["fix"] else ""))
    pods = data["pods"]
    if pods["by_pod"]:
        lines.append(f"per pod (from {pods['source']}):")
        for pod, row in pods["by_pod"].items():
            lines.append(
                f"  {pod}: {row['requests']} requests, {row['failed']} failed, TTFT p50 {_fmt(row['ttft_p50_ms'])}"
            )
    if pods["unknown"]:
        lines.append(f"  {pods['unknown']} requests with no known pod")
    if "sweep" in data:
        for step in data["sweep"]["steps"]:
            mark = "met" if step["met"] else f"missed: {step['why']}"
            lines.append(f"  rate {step['rate']:g}/s: TTFT p99 {_fmt(step['ttft_p99_ms'])}, {mark}")
    lines.append(f"result: {data['verdict']} (exit {data['exit_code']})")
    # Titles and fixes quote servers: made inert before they reach a terminal.
    return [one_line(line, 2000) for line in lines]


def _fmt(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.1f} ms"


def now_iso(at: float | None = None) -> str:
    """A UTC timestamp for messages."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at if at is not None else time.time()))
