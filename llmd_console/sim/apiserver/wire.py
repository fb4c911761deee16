"""Request and response encoding shared by the simulator's HTTP handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from llmd_console.sim.apiserver import protobuf
from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json, loads_yaml, plain

# Go's encoding/json writes UTF-8 as is but escapes these (HTML-safe and JavaScript-safe output).
GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def go_json(body: Any) -> bytes:
    """``body`` encoded as the API server's ``json.Encoder`` writes it: compact, UTF-8, HTML
    characters escaped, a newline at the end."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    for char, escape in GO_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    # A lone surrogate (from a \ud800 escape in a request) is not UTF-8; Go writes U+FFFD for it.
    return text.encode("utf-8", "replace") + b"\n"


def json_response(body: Any, status: int = 200) -> web.Response:
    """A JSON response in the API server's encoding (:func:`go_json`)."""
    return web.Response(body=go_json(body), status=status, content_type="application/json")


def error_response(err: ApiError) -> web.Response:
    """A ``Status`` body with the error's code."""
    return json_response(err.status(), err.code)


async def read_body(request: web.Request) -> Any:
    """Decode a JSON or YAML request body into plain JSON values; a malformed one, or one
    holding what JSON cannot (a YAML timestamp or ``!!binary``, NaN, nesting past the
    bound), is a 400 with the parser's words, before anything is stored."""
    raw = await request.read()
    if not raw.strip():
        raise ApiError(400, "the body of the request was empty")
    return decode_body(raw, request.content_type or "application/json")


def decode_body(raw: bytes, ctype: str) -> Any:
    """:func:`read_body` on bytes already read."""
    if ctype == "application/vnd.kubernetes.protobuf":
        try:
            return plain(protobuf.decode(raw))
        except (DecodeError, ValueError, IndexError) as exc:  # ValueError: bad UTF-8 in a string field
            raise ApiError(400, f"unable to decode the protobuf body: {exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body of the request is not UTF-8: {exc}") from exc
    if "yaml" in ctype:
        try:
            return loads_yaml(text)
        except DecodeError as exc:
            raise ApiError(400, f"error converting YAML to JSON: {exc}") from exc
    try:
        return loads_json(text)
    except DecodeError as exc:
        raise ApiError(400, f"couldn't get version/kind; json parse error: {exc}") from exc


@dataclass(frozen=True)
class ResourcePath:
    """A parsed ``/api`` or ``/apis`` resource path."""

    group: str
    version: str
    resource: str
    namespace: str | None
    name: str | None
    subresource: str | None
    tail: str  # what follows proxy/


def parse_resource_path(path: str) -> ResourcePath | None:
    """Split a Kubernetes REST path into its parts (None when it is not a resource path)."""
    segs = [s for s in path.split("/") if s != ""]
    tail_keep = path.endswith("/")
    if not segs:
        return None
    if segs[0] == "api" and len(segs) >= 3:
        group, version, rest = "", segs[1], segs[2:]
    elif segs[0] == "apis" and len(segs) >= 4:
        group, version, rest = segs[1], segs[2], segs[3:]
    else:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    tail = "/".join(rest[3:]) + ("/" if tail_keep and len(rest) > 3 else "")
    return ResourcePath(group, version, resource, namespace, name, sub, tail)


def wants_table(request: web.Request) -> bool:
    """Whether the client asked for a server-side printed Table (as kubectl does)."""
    accept = request.headers.get("Accept", "")
    return "as=Table" in accept


def flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter."""
    return request.query.get(name, "").lower() in ("true", "1")
