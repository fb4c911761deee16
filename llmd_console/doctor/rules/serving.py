"""Serving health: llm-d's alerts on the metrics (KV cache saturated, a growing queue,
preemptions, the EPP's error ratio, no ready endpoint), and the test inference (its failure,
and a time to first token far above the runbook's 1-3 s)."""

from __future__ import annotations

import re

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.rules.common import Rule
from llmd_console.models import Snapshot

_ALERT_FIX = {
    "kv_cache_high": "add replicas or lower --max-num-seqs; check the load: llmd-console load --profile sweep",
    "queue_growing": "add replicas (kubectl scale deployment/{decode} -n {ns} --replicas=2) or shed load",
    "preemptions": "lower --max-num-seqs or --max-model-len, or add replicas",
    "epp_errors_critical": "kubectl logs -n {ns} deploy/{epp} --tail=100",
    "epp_errors_warning": "kubectl logs -n {ns} deploy/{epp} --tail=100",
    "no_ready_endpoints": "kubectl get pods -n {ns} -l llm-d.ai/inferenceServing=true",
    "epp_metrics_absent": "kubectl get pods -n {ns} -l inferencepool={epp}",
}


def alerts(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """Every firing alert as a finding."""
    r = evidence.config.resources
    ns = snapshot.namespace or evidence.config.cluster.namespace
    out = []
    ready = sorted(
        p.name for p in snapshot.pods.values() if p.role in ("decode", "prefill") and p.is_ready and not p.terminating
    )
    for alert in evidence.alerts:
        if not alert.firing or alert.key == "epp_metrics_absent":  # the metrics rules say that one
            continue
        title = alert.summary
        quotes: tuple[Quote, ...] = (Quote("Metrics", ns, alert.key, alert.summary),)
        fix = _ALERT_FIX.get(alert.key, "").format(ns=ns, epp=r.epp, decode=r.decode_deployment)
        if alert.key == "no_ready_endpoints" and ready:
            # The EPP counts no endpoint while model pods are Ready: it is the EPP that does not see them.
            title = (
                f"the EPP sees no ready endpoint in the InferencePool, but {len(ready)} model server pod(s) are Ready"
            )
            quotes = (*quotes, *(Quote("Pod", ns, name, "Ready") for name in ready[:3]))
            fix = f"kubectl logs -n {ns} deploy/{r.epp} --tail=50  # is its --pool-name {r.inference_pool}?"
        out.append(
            Finding(
                f"alert-{alert.key.replace('_', '-')}",
                "error" if alert.severity == "critical" else "warning",
                title,
                quotes,
                (fix,) if fix else (),
                area="serving",
                symptom=alert.key == "no_ready_endpoints",
            )
        )
    return out


# A command in a request failure's advice, which is prose: up to the next ";", "(" or ")".
_COMMAND = re.compile(r"\b(?:kubectl|gcloud) [^;()\n]+")


def commands_in(advice: str) -> tuple[str, ...]:
    """The kubectl and gcloud commands a request failure's advice names, without the prose
    around them: what the doctor offers to copy must paste into a shell as it is."""
    return tuple(dict.fromkeys(m.group().strip().rstrip(".,").strip() for m in _COMMAND.finditer(advice)))


def inference(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """The test inference: failed (with the client's diagnosis), or slow to its first token."""
    ns = snapshot.namespace or evidence.config.cluster.namespace
    if not evidence.inferences:
        return []
    last = evidence.inferences[-1]
    if not last.ok:
        said = f"HTTP {last.status}: {last.failure_title}" if last.status else last.failure_title
        return [
            Finding(
                f"inference-{last.failure_kind or 'failed'}".replace("_", "-"),
                "error",
                f"{last.what} through {last.endpoint or 'the gateway'} failed: {last.failure_title}",
                (Quote("Inference", ns, last.endpoint or "gateway", said),),
                commands_in(last.failure_fix),
                area="serving",
                symptom=True,
            )
        ]
    limit = evidence.config.doctor.ttft_seconds
    # The first request after Ready may still compile (runbook step 8); a later one is the measure.
    measured = evidence.inferences[1:] or evidence.inferences
    slow = [i for i in measured if i.ttft is not None and i.ttft > limit]
    if slow and len(slow) == len(measured):
        ttft = min(i.ttft or 0.0 for i in slow)
        return [
            Finding(
                "slow-ttft",
                "warning",
                f"requests through the gateway take {ttft:.1f} s to the first token, above the runbook's 1-3 s "
                f"(doctor.ttft_seconds {limit:g})",
                (Quote("Inference", ns, last.endpoint or "gateway", f"TTFT {ttft:.2f} s"),),
                (f"kubectl logs -n {ns} deploy/{evidence.config.resources.decode_deployment} --tail=100",),
                area="serving",
            )
        ]
    return []


RULES: tuple[Rule, ...] = (alerts, inference)
