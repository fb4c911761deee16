"""Which pod served which request, where the cluster tells: the endpoint picker logs one
``Scheduling decision`` JSON line per request, with its ``x-request-id`` and ``pickedPod``.

No response header of llm-d's data path names the pod (vLLM echoes an ``X-Request-Id`` only
with ``--enable-request-id-headers``, and nothing names the pod), so the EPP's log is the source;
a request sent through a pod proxy was served by that pod (``Endpoint.served_by``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Container, Iterable, Mapping

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.inference.request import Outcome

DECISION = "Scheduling decision"
MAX_LOG_LINE = 64 * 1024  # a decision line is a few hundred bytes; longer lines are not decisions
EPP_TAIL = 5000  # lines read from each EPP pod's log
EPP_SECONDS = 20.0  # to find the EPP pods and read their logs
MAX_EPP_PODS = 8  # the EPP runs one replica (active-passive at most a few)


def decision(line: str) -> tuple[str, str] | None:
    """(request id, pod) of one EPP log line (with or without the kubelet's timestamp in front),
    or None when it is not a scheduling decision."""
    if DECISION not in line or len(line) > MAX_LOG_LINE:
        return None
    start = line.find("{")
    if start < 0:
        return None
    try:
        record = json.loads(line[start:])
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return None
    if not isinstance(record, dict) or record.get("msg") != DECISION:
        return None
    request_id, pod = record.get("x-request-id"), record.get("pickedPod")
    if not isinstance(request_id, str) or not isinstance(pod, str) or not pod:
        return None
    return request_id, pod.rpartition("/")[2]  # logged as namespace/name


def decisions(lines: Iterable[str], request_ids: Container[str] | None = None) -> dict[str, str]:
    """Request id -> the pod the EPP picked, from its log ``lines``; only ``request_ids`` when
    given. Lines that are not decisions are skipped; a request scheduled twice keeps its last pick."""
    out: dict[str, str] = {}
    for line in lines:
        found = decision(line)
        if found is not None and (request_ids is None or found[0] in request_ids):
            out[found[0]] = found[1]
    return out


async def epp_decisions(
    kube: KubeClient,
    namespace: str,
    epp: str,
    request_ids: Container[str] | None = None,
    *,
    tail: int = EPP_TAIL,
    seconds: float = EPP_SECONDS,
) -> dict[str, str]:
    """Request id -> pod, from the logs of the pods of the EPP Deployment ``epp`` (found by its
    selector), within ``seconds``; a pod whose log cannot be read is skipped, and an EPP that
    cannot be found or read in time gives what was read so far."""
    out: dict[str, str] = {}
    try:
        async with asyncio.timeout(seconds):
            deployment = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{epp}")
            labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            if not labels:
                return out
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            pods = await kube.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)
            for pod in (pods.get("items") or [])[:MAX_EPP_PODS]:
                name = (pod.get("metadata") or {}).get("name")
                if isinstance(name, str):
                    out.update(await _pod_decisions(kube, namespace, name, request_ids, tail))
    except (KubeError, TimeoutError):
        pass
    return out


async def _pod_decisions(
    kube: KubeClient, namespace: str, pod: str, request_ids: Container[str] | None, tail: int
) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        log = await kube.open_logs(namespace, pod, None, tail=tail, previous=False, follow=False, max_line=MAX_LOG_LINE)
        async for line in log:  # one line at a time: memory stays one line whatever the log
            found = decision(line)
            if found is not None and (request_ids is None or found[0] in request_ids):
                out[found[0]] = found[1]
    except KubeError:
        pass  # what was read before the error stands
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
