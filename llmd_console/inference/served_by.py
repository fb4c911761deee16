"""Which pod served which request, where the cluster tells: the endpoint picker logs one
``Scheduling decision`` JSON line per request, with its ``x-request-id`` and ``pickedPod``.

No response header of llm-d's data path names the pod (vLLM echoes an ``X-Request-Id`` only
with ``--enable-request-id-headers``, and nothing names the pod), so the EPP's log is the source;
a request sent through a pod proxy was served by that pod (``Endpoint.served_by``).
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable, Mapping

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.inference.request import Outcome

DECISION = "Scheduling decision"
MAX_LOG_LINE = 64 * 1024  # a decision line is a few hundred bytes; longer lines are not decisions
EPP_TAIL = 5000  # lines read from each EPP pod's log


def decisions(lines: Iterable[str], request_ids: Container[str] | None = None) -> dict[str, str]:
    """Request id -> the pod the EPP picked, from its log ``lines`` (with or without the kubelet's
    timestamp in front); only ``request_ids`` when given. Lines that are not decisions are skipped;
    a request scheduled twice (a retry) keeps its last pick."""
    out: dict[str, str] = {}
    for line in lines:
        if DECISION not in line or len(line) > MAX_LOG_LINE:
            continue
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("msg") != DECISION:
            continue
        request_id, pod = record.get("x-request-id"), record.get("pickedPod")
        if not isinstance(request_id, str) or not isinstance(pod, str) or not pod:
            continue
        if request_ids is not None and request_id not in request_ids:
            continue
        out[request_id] = pod.rpartition("/")[2]  # logged as namespace/name
    return out


async def epp_decisions(
    kube: KubeClient, namespace: str, epp: str, request_ids: Container[str] | None = None, *, tail: int = EPP_TAIL
) -> dict[str, str]:
    """Request id -> pod, from the logs of the EPP pods of ``epp`` (the chart labels them
    ``inferencepool=<epp>``); a pod whose log cannot be read is skipped."""
    pods = await kube.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"inferencepool={epp}")
    out: dict[str, str] = {}
    for pod in pods.get("items") or []:
        name = (pod.get("metadata") or {}).get("name")
        if not isinstance(name, str):
            continue
        try:
            log = await kube.open_logs(
                namespace, name, None, tail=tail, previous=False, follow=False, max_line=MAX_LOG_LINE
            )
            lines = [line async for line in log]
        except KubeError:
            continue
        out.update(decisions(lines, request_ids))
    return out


def attach(outcomes: Iterable[Outcome], picked: Mapping[str, str]) -> int:
    """Fill ``served_by`` of the outcomes the EPP's decisions name (those that know it already
    keep theirs); returns how many were filled."""
    filled = 0
    for outcome in outcomes:
        pod = picked.get(outcome.request_id)
        if outcome.served_by is None and pod is not None:
            outcome.served_by = pod
            filled += 1
    return filled
