"""Gathers, once, what ``llmd-console check`` evaluates: a snapshot made from one list of
every kind (no watch), the recent log lines of the model and EPP pods, the Hugging Face
Secret's key names, one or two metrics rounds, and test inferences through the gateway.

Every part is bounded in lines, bytes and time; a part that fails leaves its evidence empty
(the rules that need it stay silent, and the criteria say "skip") instead of failing the check.
Only an API server that cannot be reached at all ends it, as :class:`Unreachable`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from llmd_console.cluster.kube import KINDS, Kind, KubeClient, KubeError
from llmd_console.cluster.logs import split_timestamp
from llmd_console.cluster.watch import Batch, object_key
from llmd_console.config import AlertsConfig, Config
from llmd_console.doctor.evidence import Evidence, Inference, PodLog
from llmd_console.inference.client import ModelsError, list_models, send
from llmd_console.inference.failures import FixHints
from llmd_console.inference.request import Outcome, PromptRequest
from llmd_console.inference.resolve import EndpointError, resolve
from llmd_console.metrics.alerts import AlertEngine
from llmd_console.metrics.readings import Reader
from llmd_console.metrics.runner import endpoint_token
from llmd_console.metrics.scrape import Scraper, targets_of
from llmd_console.models import KindState, Obj, Snapshot
from llmd_console.state import ClusterState

LOG_SECONDS = 3.0  # one container's log excerpt
MAX_LOG_PODS = 16
MAX_LINE = 4096
PROMPT = "What is Kubernetes?"


class Unreachable(Exception):
    """The API server cannot be reached (or the kubeconfig cannot be used)."""


@dataclass(frozen=True)
class Gathered:
    """One snapshot and its evidence."""

    snapshot: Snapshot
    evidence: Evidence
    server: str
    context: str
    seconds: float


async def _list(client: KubeClient, kind: Kind, namespace: str | None) -> tuple[str, list[Obj] | None, KindState]:
    try:
        items, _ = await client.list(kind, namespace if kind.namespaced else None)
    except KubeError as exc:
        if exc.status == 0:
            raise Unreachable(f"the API server {client.server} cannot be reached: {exc.message}") from None
        if exc.status == 404:
            return kind.name, None, KindState("missing", f"{kind.group}/{kind.version} {kind.plural} is not served")
        if exc.status in (401, 403):
            return kind.name, None, KindState("forbidden", exc.message[:200])
        return kind.name, None, KindState("reconnecting", str(exc)[:200])
    return kind.name, items, KindState("live")


async def snapshot_once(client: KubeClient, config: Config, namespace: str | None) -> tuple[Snapshot, ClusterState]:
    """Every kind listed once, concurrently, into one snapshot (and the state holding the raw objects)."""
    batch = Batch()
    for name, items, kind_state in await asyncio.gather(*(_list(client, k, namespace) for k in KINDS.values())):
        if items is not None:
            batch.relisted[name] = items
        batch.states[name] = kind_state
    state = ClusterState(KINDS, namespace=namespace, resources=config.resources, prices=config.prices)
    return state.apply(batch), state


async def _log(client: KubeClient, namespace: str, pod: str, tail: int, previous: bool) -> PodLog | None:
    lines: list[str] = []
    try:
        async with asyncio.timeout(LOG_SECONDS):
            stream = await client.open_logs(
                namespace, pod, None, tail=tail, previous=previous, follow=False, max_line=MAX_LINE
            )
            try:
                async for raw in stream:
                    lines.append(split_timestamp(raw)[1])
                    if len(lines) >= tail:
                        break
            finally:
                # Closed now, not when collected: the console reads again every few seconds, and
                # an open response holds one of the client's connections.
                close = getattr(stream, "aclose", None)
                if close is not None:
                    await close()
    except (KubeError, TimeoutError):
        if not lines:
            return None
    return PodLog(f"{namespace}/{pod}", "", tuple(lines), previous)


async def pod_logs(client: KubeClient, snapshot: Snapshot, tail: int) -> tuple[PodLog, ...]:
    """The last ``tail`` lines of each model server and EPP pod (and of its previous instance when
    it restarted), for at most ``MAX_LOG_PODS`` pods."""
    wanted = [
        p
        for p in sorted(snapshot.pods.values(), key=lambda p: p.key)
        if p.role in ("decode", "prefill", "epp") and not p.terminating and p.node
    ][:MAX_LOG_PODS]
    jobs = [_log(client, p.namespace, p.name, tail, False) for p in wanted]
    jobs += [_log(client, p.namespace, p.name, tail, True) for p in wanted if p.restarts]
    return tuple(log for log in await asyncio.gather(*jobs) if log is not None)


async def secret_keys(client: KubeClient, snapshot: Snapshot, name: str) -> dict[str, frozenset[str]]:
    """The key names (never the values) of the token Secret in each namespace with model pods."""
    namespaces = sorted({p.namespace for p in snapshot.pods.values() if p.role in ("decode", "prefill")})
    out: dict[str, frozenset[str]] = {}
    for ns in namespaces[:MAX_LOG_PODS]:
        try:
            secret = await client.get(f"/api/v1/namespaces/{ns}/secrets/{name}")
        except KubeError:
            continue
        out[f"{ns}/{name}"] = frozenset(str(k) for k in (secret.get("data") or {}))
    return out


OLD_POOLS = "/apis/inference.networking.x-k8s.io/v1alpha2"


async def old_pools(client: KubeClient, snapshot: Snapshot) -> dict[str, Obj] | None:
    """The older group's InferencePools, looked for only when the newer group is not served."""
    state = snapshot.kinds.get("inferencepools")
    if state is None or state.status != "missing":
        return None
    where = f"/namespaces/{snapshot.namespace}" if snapshot.namespace else ""
    try:
        data = await client.get(f"{OLD_POOLS}{where}/inferencepools", limit=500)
    except KubeError:
        return None
    items = [item for item in data.get("items") or [] if isinstance(item, dict)]
    return {object_key(item): item for item in items}


def inference_of(outcome: Outcome, how: str, what: str = "a test inference") -> Inference:
    """What the doctor keeps of a request's outcome (``how``: the endpoint, in words)."""
    failure = outcome.failure
    return Inference(
        ok=failure is None and outcome.status == 200,
        status=outcome.status,
        ttft=outcome.ttft,
        total=outcome.total,
        failure_kind=failure.kind if failure else "",
        failure_title=failure.title if failure else "",
        failure_fix=failure.fix if failure else "",
        endpoint=how,
        served_by=outcome.served_by,
        what=what,
    )


async def inferences(client: KubeClient, config: Config, namespace: str, count: int = 2) -> tuple[Inference, ...]:
    """``count`` test completions through the gateway (the first may compile; the next is the
    measure), or the one failure that stopped them."""
    seconds = config.doctor.inference_timeout_seconds
    try:
        endpoint = await resolve(client, config, namespace)
    except (EndpointError, KubeError) as exc:
        return (Inference(False, failure_kind="no-endpoint", failure_title=str(exc)[:300]),)
    hints = FixHints.from_config(config, namespace)
    out: list[Inference] = []
    async with endpoint.client(timeout=seconds) as http:
        try:
            async with asyncio.timeout(seconds):
                models = await list_models(http, endpoint, hints=hints)
        except ModelsError as exc:
            f = exc.failure
            return (Inference(False, None, None, None, f.kind, f.title, f.fix, endpoint.how),)
        except TimeoutError:
            return (
                Inference(
                    False, failure_kind="timeout", failure_title="/v1/models did not answer", endpoint=endpoint.how
                ),
            )
        if not models:
            return (
                Inference(
                    False,
                    200,
                    failure_kind="no-model",
                    failure_title="/v1/models lists no model",
                    endpoint=endpoint.how,
                ),
            )
        for _ in range(count):
            request = PromptRequest(PROMPT, models[0], api="completions", max_tokens=8, stream=True)
            outcome = await send(http, endpoint, request, stall_seconds=seconds, deadline_seconds=seconds, hints=hints)
            out.append(inference_of(outcome, endpoint.how))
            if not out[-1].ok:
                break
    return tuple(out)


async def gather(client: KubeClient, config: Config, namespace: str | None, *, infer: bool = True) -> Gathered:
    """Snapshot and evidence, with metrics read before and after the test inferences."""
    started = time.monotonic()
    snapshot, state = await snapshot_once(client, config, namespace)
    if not any(s.status == "live" for s in snapshot.kinds.values()):
        raise Unreachable("no kind could be listed: " + "; ".join(s.message for s in snapshot.kinds.values())[:400])
    settings = config.metrics
    scraper = Scraper(
        client,
        interval=1.0,
        history_seconds=10.0,
        timeout=3.0,
        max_bytes=settings.max_page_bytes,
        token=endpoint_token(config, client),
    )
    targets = targets_of(snapshot, settings.vllm_port, settings.epp_port)
    ns = namespace or config.cluster.namespace
    first_round = asyncio.ensure_future(scraper.round(targets))
    secrets_job = asyncio.ensure_future(secret_keys(client, snapshot, config.deploy.hf_secret))
    old_job = asyncio.ensure_future(old_pools(client, snapshot))
    tests = await inferences(client, config, ns) if infer else ()
    await first_round
    # After the test requests, so the EPP's log holds their scheduling decisions.
    logs, _ = await asyncio.gather(pod_logs(client, snapshot, config.doctor.log_lines), scraper.round(targets))
    feed = scraper.feed()
    # A point-in-time check: a condition that holds now is reported (no ``for`` window).
    alerts = AlertEngine(AlertsConfig(*(0.0 for _ in AlertsConfig.__dataclass_fields__)))
    reader = Reader(1.0, rate_window=settings.rate_window_seconds, span=settings.rate_window_seconds)
    now = time.time()
    evidence = Evidence(
        config=config,
        now=now,
        objects=Evidence.objects_of(state),
        logs=logs,
        secrets=await secrets_job,
        old_pools=await old_job,
        feed=feed,
        alerts=tuple(alerts.evaluate(feed, reader, now)),
        inferences=tests,
    )
    return Gathered(snapshot, evidence, client.server, client.context, time.monotonic() - started)
