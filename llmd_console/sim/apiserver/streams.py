"""Long-lived responses: watch streams and pod logs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

from llmd_console.sim.apiserver.conversion import to_served
from llmd_console.sim.apiserver.errors import ApiError, invalid
from llmd_console.sim.apiserver.params import int_param
from llmd_console.sim.apiserver.tables import make_table
from llmd_console.sim.apiserver.wire import flag, wants_table
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.runtime.logs import ContainerLog
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import ResourceType
from llmd_console.sim.storage.selectors import parse_field_selector, parse_label_selector

BOOKMARK_INTERVAL = 5.0  # wall seconds between bookmarks when the stream is idle
DEFAULT_WATCH_TIMEOUT = 1800.0
FUTURE_RV_WAIT = 3.0  # wall seconds the watch cache waits for a resourceVersion it has not seen


def _status_event(err: ApiError) -> bytes:
    return json.dumps({"type": "ERROR", "object": err.status()}, separators=(",", ":")).encode() + b"\n"


async def _wait_for_resource_version(ctx: SimContext, rv: str | None) -> None:
    """A version the store has not reached yet: wait a little for it, then answer as the
    watch cache does, 504 ``Timeout`` "Too large resource version"."""
    if not rv or not rv.isascii() or not rv.isdigit() or len(rv) > 20:
        return  # absent, "0", or malformed (the store refuses those with an ERROR event)
    wanted = int(rv)
    deadline = time.monotonic() + FUTURE_RV_WAIT
    while ctx.store.rv < wanted:
        if time.monotonic() >= deadline:
            raise ApiError(
                504,
                f"Timeout: Too large resource version: {wanted}, current: {ctx.store.rv}",
                "Timeout",
                {
                    "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                    "retryAfterSeconds": 1,
                },
            )
        await asyncio.sleep(0.05)


INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def _showing(obj: Obj) -> Callable[[Obj], Obj]:
    """A table row view that shows ``obj`` (already in the client's version)."""
    return lambda _stored: obj


def _watch_list_mode(request: web.Request) -> bool | None:
    """``sendInitialEvents`` (None when absent), after the API server's checks of a WatchList request."""
    raw = request.query.get("sendInitialEvents")
    match = request.query.get("resourceVersionMatch", "")
    causes: list[tuple[str, str]] = []
    if raw is not None and raw.lower() not in ("true", "false", "1", "0"):
        raise ApiError(
            400, f'invalid value for sendInitialEvents: strconv.ParseBool: parsing "{raw[:64]}": invalid syntax'
        )
    if raw is not None and match != "NotOlderThan":
        causes.append(
            (
                "resourceVersionMatch",
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )
        )
    if match:
        if raw is None:
            causes.append(
                (
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                )
            )
        if match != "NotOlderThan":
            causes.append(("resourceVersionMatch", f'Unsupported value: "{match}": supported values: "NotOlderThan"'))
        if not flag(request, "allowWatchBookmarks"):
            causes.append(
                (
                    "allowWatchBookmarks",
                    "Forbidden: allowWatchBookmarks must be set to true when resourceVersionMatch is set",
                )
            )
    if causes:
        raise invalid("ListOptions", "", causes, "meta.k8s.io")
    return None if raw is None else raw.lower() in ("true", "1")


def _bookmark(rtype: ResourceType, rv: int, initial_end: bool = False) -> bytes:
    metadata: dict[str, object] = {"resourceVersion": str(rv)}
    if initial_end:
        metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
    mark = {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": metadata}
    return json.dumps({"type": "BOOKMARK", "object": mark}, separators=(",", ":")).encode() + b"\n"


async def serve_watch(
    ctx: SimContext,
    request: web.Request,
    rtype: ResourceType,
    namespace: str | None,
    served: ResourceType | None = None,
) -> web.StreamResponse:
    """Stream watch events as newline-delimited JSON until timeout, disconnect or shutdown;
    objects of ``rtype`` are shown as the client's version of them, ``served``."""
    served = served or rtype
    labels = parse_label_selector(request.query.get("labelSelector"))
    fields = parse_field_selector(request.query.get("fieldSelector"), rtype.key)
    rv = request.query.get("resourceVersion")
    table = wants_table(request)
    include = request.query.get("includeObject", "Metadata")
    bookmarks = flag(request, "allowWatchBookmarks")
    asked = int_param(request, "timeoutSeconds")
    # 0 (or absent) means the server's default, as the API server's minRequestTimeout does.
    timeout = float(asked) if asked else DEFAULT_WATCH_TIMEOUT
    send_initial = _watch_list_mode(request)
    await _wait_for_resource_version(ctx, rv)
    if send_initial is not None:
        # WatchList: the state now (not older than rv) as ADDED events and a bookmark marking
        # their end, or, with sendInitialEvents=false, only what happens from now on.
        rv = None if send_initial else str(ctx.store.rv)
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    try:
        watcher = ctx.store.watch(rtype, namespace, labels, fields, rv)
    except ApiError as err:
        # A real API server answers a too-old version with 200 and one ERROR event.
        await resp.write(_status_event(err))
        return resp
    deadline = time.monotonic() + timeout
    first_table = True
    initial_left = watcher.queue.qsize() if send_initial else -1
    initial_rv = ctx.store.rv
    try:
        while True:
            if initial_left == 0:
                await resp.write(_bookmark(served, initial_rv, initial_end=True))
            initial_left -= 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = await asyncio.wait_for(watcher.queue.get(), min(remaining, BOOKMARK_INTERVAL))
            except TimeoutError:
                if bookmarks:
                    await resp.write(_bookmark(served, ctx.store.rv))
                continue
            if item is None:
                break
            if watcher.overflowed:
                await resp.write(_status_event(ApiError(410, "watch channel was too slow and was closed", "Expired")))
                break
            etype, event = item
            if table or served != rtype:
                shown = to_served(served, rtype, event.obj)
                if table:
                    shown = make_table(
                        rtype,
                        [event.obj],
                        ctx.clock.now(),
                        include,
                        str(event.rv),
                        with_columns=first_table,
                        view=_showing(shown),
                    )
                    first_table = False
                line = json.dumps({"type": etype, "object": shown}, separators=(",", ":")).encode()
            else:
                line = b'{"type":"' + etype.encode() + b'","object":' + event.obj_json() + b"}"
            await resp.write(line + b"\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        ctx.store.unwatch(watcher)
    return resp


def _container_for(pod: Obj, requested: str | None) -> str:
    names = [c.get("name", "") for c in pod.get("spec", {}).get("containers") or []]
    inits = [c.get("name", "") for c in pod.get("spec", {}).get("initContainers") or []]
    pod_name = pod["metadata"]["name"]
    if requested:
        if requested not in names + inits:
            raise ApiError(400, f"container {requested} is not valid for pod {pod_name}")
        return requested
    default = (pod["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    if default in names:
        return str(default)
    if len(names) == 1:
        return str(names[0])
    raise ApiError(400, f"a container name must be specified for pod {pod_name}, choose one of: [{' '.join(names)}]")


def _waiting_reason(pod: Obj, container: str) -> str | None:
    for cs in pod.get("status", {}).get("containerStatuses") or []:
        if cs.get("name") == container:
            waiting = cs.get("state", {}).get("waiting")
            if waiting and not cs.get("lastState", {}).get("terminated"):
                return str(waiting.get("reason") or "ContainerCreating")
            return None
    return "ContainerCreating"


def _stamp(at: float) -> str:
    dt = datetime.fromtimestamp(at, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}000Z"


def _check_log_options(
    pod: str, tail: int | None, since: int | None, limit_bytes: int | None, since_time: bool
) -> None:
    """PodLogOptions validation, as the API server words it (422 Invalid)."""
    causes = []
    if tail is not None and tail < 0:
        causes.append(("tailLines", f"Invalid value: {tail}: must be greater than or equal to 0"))
    if limit_bytes is not None and limit_bytes < 1:
        causes.append(("limitBytes", f"Invalid value: {limit_bytes}: must be greater than 0"))
    if since is not None and since < 1:
        causes.append(("sinceSeconds", f"Invalid value: {since}: must be greater than 0"))
    if since is not None and since_time:
        causes.append(("sinceSeconds", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"))
    if causes:
        raise invalid("PodLogOptions", pod, causes)


async def serve_logs(ctx: SimContext, request: web.Request, pod: Obj) -> web.StreamResponse:
    """``pods/log`` with follow, tailLines, timestamps, sinceSeconds, sinceTime, previous, limitBytes."""
    container = _container_for(pod, request.query.get("container"))
    uid = pod["metadata"]["uid"]
    name = pod["metadata"]["name"]
    previous = flag(request, "previous")
    log: ContainerLog | None
    if previous:
        log = ctx.logs.previous(uid, container)
        if log is None:
            raise ApiError(400, f'previous terminated container "{container}" in pod "{name}" not found')
    else:
        log = ctx.logs.current(uid, container)
        reason = _waiting_reason(pod, container)
        if log is None or (reason and not log.lines):
            raise ApiError(
                400, f'container "{container}" in pod "{name}" is waiting to start: {reason or "ContainerCreating"}'
            )
    tail = int_param(request, "tailLines")
    since = int_param(request, "sinceSeconds")
    limit_bytes = int_param(request, "limitBytes")
    _check_log_options(name, tail, since, limit_bytes, "sinceTime" in request.query)
    since_at = ctx.clock.now() - since if since is not None else None
    if "sinceTime" in request.query:
        try:
            when = datetime.fromisoformat(request.query["sinceTime"].replace("Z", "+00:00"))
            since_at = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        except (ValueError, OverflowError, OSError) as exc:
            raise ApiError(400, f"invalid sinceTime: {exc}") from exc
    timestamps = flag(request, "timestamps")
    follow = flag(request, "follow") and not previous

    def render(at: float, text: str) -> bytes:
        return ((_stamp(at) + " ") if timestamps else "").encode() + text.encode() + b"\n"

    lines = [(at, text) for at, text in log.lines if since_at is None or at >= since_at]
    if tail is not None:
        lines = lines[-tail:] if tail else []
    if not follow:
        body = b"".join(render(at, text) for at, text in lines)
        if limit_bytes is not None:
            body = body[:limit_bytes]
        return web.Response(body=body, content_type="text/plain")
    resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain", "Cache-Control": "no-cache"})
    resp.enable_chunked_encoding()
    sent = log.written
    try:
        await resp.prepare(request)  # the client may be gone already (a console quitting)
        if lines:
            await resp.write(b"".join(render(at, text) for at, text in lines))
        while not log.closed:
            await log.wait(5.0)
            fresh = log.written - sent
            if fresh > 0:
                chunk = list(log.lines)[-min(fresh, len(log.lines)) :]
                sent = log.written
                await resp.write(b"".join(render(at, text) for at, text in chunk))
            if ctx.store.get("pods", pod["metadata"].get("namespace", ""), name) is None:
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp
