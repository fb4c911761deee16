"""The Kubernetes API as the console uses it: raw JSON lists, watches and log
streams over the official client's asyncio flavour (``kubernetes.aio``), so
kubeconfig contexts, certificates and exec auth plugins work as with kubectl.

Objects stay plain JSON dicts: the console reads a few fields of thousands of
objects, and deserializing them into generated models would cost more than the
whole rest of an update.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from llmd_console.sanitize import one_line

Obj = dict[str, Any]
YIELD_EVERY = 200
# A watch event is one object; the API server refuses objects past ~1.5 MiB (etcd).
MAX_WATCH_LINE = 16 * 1024 * 1024  # lines read from a busy stream (chatty pod, watch burst) between turns for the UI


class KubeError(Exception):
    """An API request that failed; ``status`` 0 means the server could not be reached."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else message)
        self.status, self.reason, self.message = status, reason, message


@dataclass(frozen=True)
class Kind:
    """A resource the console lists and watches."""

    name: str  # the key the console uses: pods, nodes, gateways, ...
    group: str  # "" for core
    version: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None) -> str:
        """The collection URL path (all namespaces when ``namespace`` is None)."""
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


KINDS = {
    k.name: k
    for k in (
        Kind("nodes", "", "v1", "nodes", namespaced=False),
        Kind("pods", "", "v1", "pods", namespaced=True),
        Kind("events", "", "v1", "events", namespaced=True),
        Kind("services", "", "v1", "services", namespaced=True),
        Kind("deployments", "apps", "v1", "deployments", namespaced=True),
        Kind("gatewayclasses", "gateway.networking.k8s.io", "v1", "gatewayclasses", namespaced=False),
        Kind("gateways", "gateway.networking.k8s.io", "v1", "gateways", namespaced=True),
        Kind("httproutes", "gateway.networking.k8s.io", "v1", "httproutes", namespaced=True),
        Kind("inferencepools", "inference.networking.k8s.io", "v1", "inferencepools", namespaced=True),
    )
}


@dataclass(frozen=True)
class HttpAccess:
    """What a plain HTTP client needs to call the API server as a :class:`KubeClient` does (its
    service and pod proxy, for one): the URL, the auth headers and the TLS settings."""

    server: str
    headers: dict[str, str]
    verify: bool | str  # False: no check; a path: the CA bundle
    cert: tuple[str, str] | None  # a client certificate and its key


class KubeClient:
    """Authenticated raw requests to one cluster."""

    def __init__(self, api_client: Any, context: str, namespace: str, request_timeout: float) -> None:
        self._api = api_client
        self.context = context
        self.namespace = namespace
        self.timeout = request_timeout

    @classmethod
    async def connect(
        cls, kubeconfig: str | None, context: str | None, namespace: str | None, request_timeout: float
    ) -> KubeClient:
        """Load the kubeconfig (as kubectl would) and make a client."""
        paths = kubeconfig_paths(kubeconfig)
        if not any_file(paths):
            raise KubeError(
                0,
                "NoKubeconfig",
                f"no kubeconfig at {', '.join(paths)} (use --kubeconfig or KUBECONFIG, or try 'llmd-console demo')",
            )
        from kubernetes.aio import client as aio_client  # noqa: PLC0415 - heavy; after first frame
        from kubernetes.aio import config as aio_config  # noqa: PLC0415

        contexts, current = aio_config.list_kube_config_contexts(kubeconfig)
        chosen = context or (current or {}).get("name", "")
        known = {c["name"]: c for c in contexts}
        if chosen not in known:
            raise KubeError(0, "NoContext", f"context {chosen!r} is not in the kubeconfig")
        configuration = aio_client.Configuration()
        await aio_config.load_kube_config(config_file=kubeconfig, context=chosen, client_configuration=configuration)
        ns = namespace or known[chosen].get("context", {}).get("namespace") or "default"
        return cls(aio_client.ApiClient(configuration), chosen, ns, request_timeout)

    @property
    def server(self) -> str:
        """The API server URL."""
        return str(self._api.configuration.host)

    async def http_access(self) -> HttpAccess:
        """The API server's URL, auth and TLS settings as this client uses them (a token from an
        exec plugin is refreshed first, as for any request)."""
        cfg = self._api.configuration
        auth = await cfg.auth_settings()
        headers: dict[str, str] = {}
        for setting in auth.values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[str(setting["key"])] = str(setting["value"])
        verify: bool | str = (cfg.ssl_ca_cert or True) if cfg.verify_ssl else False
        cert = (str(cfg.cert_file), str(cfg.key_file)) if cfg.cert_file and cfg.key_file else None
        return HttpAccess(str(cfg.host), headers, verify, cert)

    async def close(self) -> None:
        """Release connections."""
        await self._api.close()

    async def _open(
        self,
        path: str,
        query: dict[str, Any],
        request_timeout: float | None,
        method: str = "GET",
        accept: str = "application/json",
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        url = path + ("?" + urlencode({k: v for k, v in query.items() if v is not None}) if query else "")
        header_params = {"Accept": accept}
        if body is not None:
            header_params["Content-Type"] = content_type
        method, full_url, headers, body, post = await self._api.param_serialize(
            method, url, header_params=header_params, body=body, auth_settings=["BearerToken"]
        )
        try:
            response = await self._api.call_api(method, full_url, headers, body, post, _request_timeout=request_timeout)
        except Exception as exc:
            raise _as_kube_error(exc) from None
        if response.status >= 400:
            raw = await response.read()
            raise _status_error(response.status, raw)
        return response

    async def get(self, path: str, **query: Any) -> Obj:
        """GET a JSON object."""
        return await self._json("GET", path, query)

    async def send(
        self, method: str, path: str, body: Any, *, content_type: str = "application/json", **query: Any
    ) -> Obj:
        """A write (POST, PUT, PATCH) with a JSON body; ``content_type`` picks the patch kind
        (``application/apply-patch+yaml`` for server-side apply)."""
        return await self._json(method, path, query, body, content_type)

    async def apply(
        self, path: str, obj: Obj, *, field_manager: str, force: bool = False, dry_run: bool = False
    ) -> Obj:
        """Server-side apply of ``obj`` at its object ``path`` (as ``kubectl apply --server-side``)."""
        query: dict[str, Any] = {"fieldManager": field_manager}
        if force:
            query["force"] = "true"
        if dry_run:
            query["dryRun"] = "All"
        return await self._json("PATCH", path, query, obj, "application/apply-patch+yaml")

    async def can_i(self, verb: str, group: str, resource: str, namespace: str, name: str = "", sub: str = "") -> Obj:
        """A SelfSubjectAccessReview's status (``allowed``, ``reason``), as ``kubectl auth can-i``."""
        attrs = {"verb": verb, "group": group, "resource": resource, "namespace": namespace}
        if name:
            attrs["name"] = name
        if sub:
            attrs["subresource"] = sub
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        answer = await self.send("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
        status = answer.get("status")
        return status if isinstance(status, dict) else {}

    async def _json(
        self, method: str, path: str, query: dict[str, Any], body: Any = None, content_type: str = "application/json"
    ) -> Obj:
        response = await self._open(path, query, self.timeout, method, body=body, content_type=content_type)
        try:
            data = json.loads(await response.read())
        except ValueError as exc:
            raise KubeError(502, "BadResponse", f"the API server sent invalid JSON for {path}: {exc}") from None
        if not isinstance(data, dict):
            raise KubeError(502, "BadResponse", f"the API server sent a non-object for {path}")
        return data

    async def get_bytes(self, path: str, *, max_bytes: int, accept: str, seconds: float) -> bytes:
        """GET a whole body of at most ``max_bytes`` (a proxied ``/metrics`` page, as ``kubectl get
        --raw`` fetches it) within ``seconds``; a longer body is refused, unread, as a KubeError with
        status 413, and a slower one as a timeout."""
        try:
            # One deadline for the whole exchange: a server that drips its body stays bounded too.
            async with asyncio.timeout(seconds):
                response = await self._open(path, {}, seconds, accept=accept)
                try:
                    stream = response.response.content
                    body = bytearray()
                    while chunk := await stream.read(65536):
                        body += chunk
                        if len(body) > max_bytes:
                            raise KubeError(413, "TooLarge", f"the body is larger than {max_bytes:,} bytes")
                    return bytes(body)
                finally:
                    response.response.release()
        except TimeoutError:
            raise KubeError(0, "Timeout", f"no answer (timed out after {seconds:g} s)") from None

    async def open_lines(self, path: str, *, max_line: int = MAX_WATCH_LINE, **query: Any) -> AsyncIterator[bytes]:
        """GET a streamed body (watch, follow logs); returns once the server has answered,
        with an iterator over the body's lines, each cut at ``max_line`` bytes."""
        response = await self._open(path, query, None)
        return _read_lines(response, max_line)

    async def lines(self, path: str, **query: Any) -> AsyncIterator[bytes]:
        """GET a streamed body line by line."""
        async for line in await self.open_lines(path, **query):
            yield line

    async def list(self, kind: Kind, namespace: str | None, page: int = 500) -> tuple[list[Obj], str]:
        """All objects of a kind (paged) and the list's resourceVersion."""
        items: list[Obj] = []
        token: str | None = None
        while True:
            data = await self.get(kind.path(namespace), limit=page, **{"continue": token})
            items.extend(data.get("items") or [])
            meta = data.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion", ""))

    async def watch(self, kind: Kind, namespace: str | None, resource_version: str) -> AsyncIterator[Obj]:
        """Watch events (``{"type", "object"}``) from a resourceVersion; ends when the server closes."""
        async for line in self.lines(
            kind.path(namespace),
            watch="true",
            resourceVersion=resource_version,
            allowWatchBookmarks="true",
            timeoutSeconds=240,
        ):
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn line at disconnect; the relist covers it
            if isinstance(event, dict):
                yield event

    async def open_logs(
        self,
        namespace: str,
        pod: str,
        container: str | None,
        *,
        tail: int,
        previous: bool,
        follow: bool,
        since_time: str | None = None,
        max_line: int = 8192,
    ) -> AsyncIterator[str]:
        """A container's log, with the kubelet's RFC 3339 timestamps: returns once the server
        has answered (a refusal raises here), with an iterator over the lines."""
        query: dict[str, Any] = {"timestamps": "true"}
        if since_time:
            query["sinceTime"] = since_time
        else:
            query["tailLines"] = tail
        if container:
            query["container"] = container
        if previous:
            query["previous"] = "true"
        if follow:
            query["follow"] = "true"
        raw = await self.open_lines(f"/api/v1/namespaces/{namespace}/pods/{pod}/log", max_line=max_line, **query)
        return _decoded(raw)

    async def websocket(self, path: str, protocol: str, seconds: float) -> Any:
        """Open a WebSocket to the API server (``pods/NAME/portforward``, ``exec``) with the
        kubeconfig's credentials and TLS settings: an aiohttp ``ClientWebSocketResponse``."""
        method, url, headers, _, _ = await self._api.param_serialize(
            "GET", path, header_params={}, auth_settings=["BearerToken"]
        )
        rest = self._api.rest_client
        if rest.pool_manager is None:
            rest.pool_manager = rest._create_pool_manager()
        ws_url = "ws" + url[len("http") :] if url.startswith("http") else url
        try:
            return await rest.pool_manager.ws_connect(
                ws_url, method=method, headers=headers, protocols=(protocol,), timeout=_ws_timeout(seconds)
            )
        except Exception as exc:
            raise _as_kube_error(exc) from None

    async def bearer_token(self) -> str | None:
        """The kubeconfig's bearer token for this context (refreshed as for API requests, e.g.
        by an exec plugin), if it authenticates with one."""
        value = await self._api.configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if not value:
            return None
        text = str(value)
        return text.split(" ", 1)[1] if text.lower().startswith("bearer ") else text

    async def delete(self, path: str, *, dry_run: bool = False) -> Obj:
        """DELETE an object (``dry_run``: the server checks and answers, and changes nothing)."""
        query = {"dryRun": "All"} if dry_run else {}
        return await self._json("DELETE", path, query)


async def _read_lines(response: Any, max_line: int) -> AsyncIterator[bytes]:
    """The body's lines (without the newline). A line longer than ``max_line`` bytes is cut
    there and ends with a note of how much was cut: whatever the server sends, a line held
    in memory is bounded (a reader by line would hold the whole of it first)."""
    stream = response.response.content
    line = bytearray()
    cut = 0
    read = 0
    try:
        while True:
            try:
                chunk = await stream.readany()
            except Exception as exc:
                raise _as_kube_error(exc) from None
            if not chunk:
                if line or cut:
                    yield _ended(line, cut)
                return
            start = 0
            while start <= len(chunk):
                end = chunk.find(b"\n", start)
                piece = chunk[start : len(chunk) if end < 0 else end]
                room = max_line - len(line)
                if len(piece) > room:
                    line += piece[: max(room, 0)]
                    cut += len(piece) - max(room, 0)
                else:
                    line += piece
                if end < 0:
                    break
                yield _ended(line, cut)
                line, cut = bytearray(), 0
                start = end + 1
                read += 1
                if read % YIELD_EVERY == 0:
                    # A buffered stream never suspends by itself: give the rest of the app a turn.
                    await asyncio.sleep(0)
    finally:
        response.response.release()


def _ended(line: bytearray, cut: int) -> bytes:
    return bytes(line) + (f" \u2026 [{cut:,} more bytes cut]".encode() if cut else b"")


async def _decoded(lines: AsyncIterator[bytes]) -> AsyncIterator[str]:
    async for raw in lines:
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def kubeconfig_paths(flag: str | None) -> list[str]:
    """Where kubectl would look: the flag, else $KUBECONFIG's list, else ~/.kube/config."""
    paths = [flag] if flag else os.environ.get("KUBECONFIG", "").split(os.pathsep)
    return [p for p in paths if p] or [str(Path.home() / ".kube" / "config")]


def any_file(paths: list[str]) -> bool:
    """Whether at least one of ``paths`` is a file (a quick stat, fine before connecting)."""
    return any(Path(p).expanduser().is_file() for p in paths)


def _ws_timeout(seconds: float) -> Any:
    import aiohttp  # noqa: PLC0415 - loaded with the client, after the first frame

    return aiohttp.ClientWSTimeout(ws_receive=None, ws_close=seconds)


def _status_error(status: int, raw: bytes) -> KubeError:
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    text = one_line(raw[:200].decode("utf-8", "replace")) if raw else f"HTTP {status}"
    return KubeError(status, str(body.get("reason") or "Error"), str(body.get("message") or text))


def _as_kube_error(exc: Exception) -> KubeError:
    if isinstance(exc, KubeError):
        return exc
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status:
        return _status_error(status, getattr(exc, "body", b"") or b"")
    return KubeError(0, "Unreachable", unreachable_words(exc))


def unreachable_words(exc: BaseException) -> str:
    """Why a server could not be reached, in the words an operator uses (the client libraries'
    own messages name the socket call and the SSL context; those stay in the logs)."""
    text = str(exc) or type(exc).__name__
    host = ""
    connection_key = getattr(exc, "host", None), getattr(exc, "port", None)
    if all(connection_key):
        host = f" ({connection_key[0]}:{connection_key[1]})"
    lowered = text.lower()
    if isinstance(exc, ConnectionRefusedError) or "connect call failed" in lowered or "refused" in lowered:
        return "connection refused" + host
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "name resolution" in lowered:
        return "host name not found" + host
    if "certificate" in lowered and "verif" in lowered:
        return "the server's TLS certificate is not trusted" + host
    if isinstance(exc, TimeoutError) or "timeout" in lowered or "timed out" in lowered:
        return "no answer (timed out)" + host
    if any(words in lowered for words in ("reset by peer", "server disconnected", "payload is not completed")):
        return "the connection was dropped" + host
    return one_line(text, 160)
