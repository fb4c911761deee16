"""Which pod served each request of a run, from the endpoint picker's decision log.

After a run, the EPP pods' logs are read once through the Kubernetes API (bounded in lines,
bytes and time) and each "Scheduling decision" line is matched to a request by its
``x-request-id``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

from llmd_console.cluster.kube import KubeClient, KubeError

MAX_LOG_BYTES = 32 * 1024 * 1024  # of each EPP pod's log
MAX_TAIL_LINES = 500_000
MAX_EPP_PODS = 8
SECONDS = 20.0


def decision_of(line: str) -> tuple[str, str] | None:
    """(request id, picked pod) of one EPP log line, or None when it is not a scheduling decision."""
    start = line.find("{")
    if start < 0 or "pickedPod" not in line:
        return None
    try:
        record = json.loads(line[start:])
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    request_id, pod = record.get("x-request-id"), record.get("pickedPod")
    if isinstance(request_id, str) and isinstance(pod, str) and request_id and pod:
        return request_id, pod
    return None


def decisions_in(lines: Iterable[str], prefix: str) -> dict[str, str]:
    """Request id -> pod for the decisions of requests whose id starts with ``prefix``."""
    out: dict[str, str] = {}
    for line in lines:
        found = decision_of(line)
        if found is not None and found[0].startswith(prefix):
            out[found[0]] = found[1]
    return out


async def read_decisions(
    kube: KubeClient, namespace: str, epp_deployment: str, prefix: str, requests: int
) -> tuple[dict[str, str], str]:
    """The decisions for a run's requests (ids ``prefix``-N), and a note on what was read."""
    try:
        async with asyncio.timeout(SECONDS):
            deployment = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{epp_deployment}")
            labels = (deployment.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
            if not labels:
                return {}, f"the EPP Deployment {epp_deployment} has no label selector"
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            pods = (await kube.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)).get("items") or []
            names = sorted(str(p["metadata"]["name"]) for p in pods)[:MAX_EPP_PODS]
            # Each request logs one decision; other lines come between them.
            tail = min(MAX_TAIL_LINES, 20 * requests + 1000)
            out: dict[str, str] = {}
            for name in names:
                body = await kube.get_bytes(
                    f"/api/v1/namespaces/{namespace}/pods/{name}/log?tailLines={tail}&limitBytes={MAX_LOG_BYTES}",
                    max_bytes=MAX_LOG_BYTES + 65536,
                    accept="text/plain",
                    seconds=SECONDS,
                )
                out.update(decisions_in(body.decode("utf-8", "replace").splitlines(), f"{prefix}-"))
    except TimeoutError:
        return {}, f"the EPP's log could not be read within {SECONDS:g} s"
    except KubeError as exc:
        return {}, f"the EPP's log could not be read: {exc}"
    return out, f"{len(out)} decisions matched in the log of {', '.join(names) or 'no EPP pod'}"
