"""Following an action to its end: a Deployment's rollout, the request path's health, and a
first inference through the gateway. Each waits by re-reading the cluster until the condition
holds or its time is up, then says what is still wrong."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from llmd_console.cluster.kube import KINDS, KubeClient, KubeError
from llmd_console.config import Config
from llmd_console.inference.client import send
from llmd_console.inference.request import PromptRequest
from llmd_console.inference.resolve import EndpointError, resolve
from llmd_console.models import Hop
from llmd_console.views.common import is_true, meta
from llmd_console.views.gateway import PATH_KINDS, PathInput, request_path

Obj = dict[str, Any]
T = TypeVar("T")
POLL_SECONDS = 0.5


class NotReady(Exception):
    """A wait ran out of time; the message says what was still missing."""


Waiting = Callable[[str], None]


async def wait_until(
    check: Callable[[], Awaitable[tuple[T | None, str]]],
    seconds: float,
    what: str,
    poll: float = POLL_SECONDS,
    on_wait: Waiting | None = None,
) -> T:
    """Call ``check`` until it returns a value; it also returns why not yet, said on timeout and
    to ``on_wait`` each time it changes (a pod Pending, then starting, then Ready ...)."""
    deadline = time.monotonic() + seconds
    why = said = ""
    while True:
        value, why = await check()
        if value is not None:
            return value
        if on_wait is not None and why != said:
            on_wait(why)
            said = why
        if time.monotonic() >= deadline:
            raise NotReady(f"{what}: not done after {seconds:g} s: {why}")
        await asyncio.sleep(poll)


def _owned_pods(pods: list[Obj], selector: dict[str, str]) -> list[Obj]:
    return [
        p
        for p in pods
        if all((meta(p).get("labels") or {}).get(k) == v for k, v in selector.items())
        and not meta(p).get("deletionTimestamp")
    ]


def pod_trouble(pod: Obj) -> str:
    """Why a pod is not Ready, in a few words: unschedulable, a waiting reason, or its phase."""
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"{meta(pod).get('name')} Pending: {cond.get('reason', '')} {cond.get('message', '')}".strip()
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return f"{meta(pod).get('name')} {waiting['reason']}: {waiting.get('message', '')}".strip(": ")
    return f"{meta(pod).get('name')} {status.get('phase', 'Unknown')}, not Ready"


async def rollout_done(
    kube: KubeClient, namespace: str, name: str, seconds: float, *, avoid: str = "", on_wait: Waiting | None = None
) -> str:
    """Wait until Deployment ``name`` has rolled out: every replica updated, Ready, no old pod
    left (and none named ``avoid``, a pod deleted on purpose). Returns a one-line summary."""
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"

    async def check() -> tuple[str | None, str]:
        dep = await kube.get(path)
        spec, status = dep.get("spec") or {}, dep.get("status") or {}
        want = int(spec.get("replicas", 1))
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        pods, _ = await kube.list(KINDS["pods"], namespace)
        mine = _owned_pods(pods, selector)
        ready = [p for p in mine if is_true(p, "Ready")]
        done = (
            int(status.get("observedGeneration", 0)) >= int(meta(dep).get("generation", 0))
            and int(status.get("updatedReplicas", 0)) == want
            and int(status.get("readyReplicas", 0) or 0) == want
            and len(mine) == want
            and len(ready) == want
            and all(meta(p).get("name") != avoid for p in mine)
        )
        if done:
            return f"{name}: {want}/{want} Ready", ""
        troubles = [pod_trouble(p) for p in mine if not is_true(p, "Ready")][:3]
        return None, f"{len(ready)}/{want} Ready, {len(mine)} pod(s)" + (f"; {'; '.join(troubles)}" if troubles else "")

    return await wait_until(check, seconds, f"rollout of {name}", on_wait=on_wait)


async def path_hops(kube: KubeClient, config: Config, namespace: str) -> list[Hop]:
    """The request path Gateway -> route -> pool -> EPP -> pods, as the gateway pane computes it."""
    objects: dict[str, dict[str, Obj]] = {}
    missing: set[str] = set()
    forbidden: set[str] = set()
    for kind in PATH_KINDS:
        k = KINDS[kind]
        try:
            items, _ = await kube.list(k, namespace if k.namespaced else None)
        except KubeError as exc:
            (forbidden if exc.status == 403 else missing).add(kind)
            items = []
        objects[kind] = {
            (f"{meta(o).get('namespace')}/{meta(o).get('name')}" if k.namespaced else str(meta(o).get("name"))): o
            for o in items
        }
    return request_path(PathInput.of(config.resources, namespace, objects, frozenset(missing), frozenset(forbidden)))


async def path_healthy(
    kube: KubeClient, config: Config, namespace: str, seconds: float, on_wait: Waiting | None = None
) -> str:
    """Wait until every hop of the request path is healthy."""

    async def check() -> tuple[str | None, str]:
        hops = await path_hops(kube, config, namespace)
        bad = [h for h in hops if h.light != "ok"]
        if not bad:
            return "request path healthy: " + " -> ".join(h.kind for h in hops), ""
        return None, "; ".join(f"{h.kind} {h.name}: {h.problem or h.light}" for h in bad)

    return await wait_until(check, seconds, "the request path", on_wait=on_wait)


async def first_inference(
    kube: KubeClient, config: Config, namespace: str, seconds: float, on_wait: Waiting | None = None
) -> str:
    """Send one short completion through the gateway (as the prompt pane resolves it) until one
    answers; returns who served it and the start of the answer."""

    async def check() -> tuple[str | None, str]:
        try:
            endpoint = await resolve(kube, config, namespace)
        except EndpointError as exc:
            return None, str(exc)
        request = PromptRequest("Say hello.", config.deploy.model, max_tokens=8, stream=False)
        async with endpoint.client(timeout=30.0) as client:
            outcome = await send(client, endpoint, request, deadline_seconds=60.0)
        if outcome.ok:
            by = f" (served by {outcome.served_by})" if outcome.served_by else ""
            return f"first inference answered through {endpoint.how}{by}: {outcome.text[:60]!r}", ""
        failure = outcome.failure
        return None, f"{failure.title}: {failure.cause}" if failure else f"HTTP {outcome.status}"

    return await wait_until(check, seconds, "the first inference", poll=1.0, on_wait=on_wait)
