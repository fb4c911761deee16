"""Field validation on writes: ``fieldValidation=Ignore|Warn|Strict`` and CRD schemas.

What the API server does with a field its schema does not declare (k8s.io/apiserver's
create, update and patch handlers):

- ``Strict``: refuse the request. The words depend on the path: a created or replaced
  object is a 400 ``<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding
  error: unknown field "spec.foo"``; a patch a 422 ``"" is invalid: patch: Invalid value:
  "...": strict decoding error: ...`` showing the patch map (strategic merge) or the whole
  patched object (JSON and merge patches).
- ``Warn`` (the server's default when the parameter is absent; kubectl 1.32 itself sends
  ``Strict`` unless told ``--validate=warn``): store the object without the field and
  answer with a ``Warning: 299 - "unknown field \\"spec.foo\\""`` header per field.
- ``Ignore``: store it without the field, silently.

Server-side apply converts the patch to a typed object whatever the directive, and fails
with a 500 ``failed to create typed patch object (...): .spec.foo: field not declared in
schema``. Custom resources are then checked against their CRD's structural schema
(``structural.Validator``) and refused with a 422 listing every field error.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.openapi import OpenApi, crd_version_schema
from llmd_console.sim.apiserver.structural import FieldError, Pruner, Validator, go_format, go_value, resolve
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import ResourceType

DIRECTIVES = ("", "Ignore", "Strict", "Warn")
WARNINGS = web.RequestKey("llmd_sim_warnings", list[str])
MAX_WARNINGS = 50  # the API server also caps the warnings it returns


def directive(request: web.Request) -> str:
    """The request's ``fieldValidation`` (validated); "" means the server default, Warn."""
    value = request.query.get("fieldValidation", "")
    if value not in DIRECTIVES:
        action = {"POST": "CreateOptions", "PUT": "UpdateOptions"}.get(request.method, "PatchOptions")
        supported = ", ".join(f'"{d}"' for d in DIRECTIVES)
        shown = value[:64].replace("\\", "\\\\").replace('"', '\\"')
        message = f'Unsupported value: "{shown}": supported values: {supported}'
        raise ApiError(
            422,
            f'{action}.meta.k8s.io "" is invalid: fieldValidation: {message}',
            "Invalid",
            {
                "group": "meta.k8s.io",
                "kind": action,
                "causes": [{"reason": "FieldValueNotSupported", "message": message, "field": "fieldValidation"}],
            },
        )
    return value or "Warn"


def warn(request: web.Request, text: str) -> None:
    """Queue a ``Warning`` header for the response (see :func:`add_warning_headers`)."""
    queued = request.get(WARNINGS)
    if queued is None:
        queued = []
        request[WARNINGS] = queued
    if len(queued) < MAX_WARNINGS:
        queued.append(text)


def add_warning_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``Warning: 299 - "<text>"`` for each queued warning (RFC 7234, as the API server writes it)."""
    if response.prepared:
        return
    for text in request.get(WARNINGS) or []:
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        # Go's net/http writes a newline in a header value as a space; control bytes never reach
        # the wire (a field name may carry them: it is the client's).
        quoted = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in quoted)
        response.headers.add("Warning", f'299 - "{quoted}"')


def _strict_error(rtype: ResourceType, unknown: list[str], source: str, patch: Any, patched: Obj) -> ApiError:
    strict = "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in unknown)
    if source == "body":
        kind, version = rtype.kind, rtype.version
        return ApiError(400, f'{kind} in version "{version}" cannot be handled as a {kind}: {strict}')
    # A patch: the strategic path shows the patch map (Go's %+v), the JSON and merge path
    # the whole patched object as JSON (re-encoded from a Go map, so with sorted keys).
    shown = go_format(patch) if source == "strategic" else json.dumps(patched, separators=(",", ":"), sort_keys=True)
    body = f"Invalid value: {go_value(shown)}: {strict}"
    return ApiError(
        422,
        f'"" is invalid: patch: {body}',
        "Invalid",
        {"causes": [{"reason": "FieldValueInvalid", "message": body, "field": "patch"}]},
    )


def _apply_error(rtype: ResourceType, obj: Obj, unknown: str, namespace: str) -> ApiError:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    where = f"{meta.get('namespace') or namespace}/{meta.get('name', '')}"
    return ApiError(
        500,
        f"failed to create typed patch object ({where}; {rtype.api_version if rtype.group else '/v1'}, "
        f"Kind={rtype.kind}): .{unknown}: field not declared in schema",
    )


def _invalid(rtype: ResourceType, obj: Obj, errors: list[FieldError]) -> ApiError:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    name = str(meta.get("name", ""))
    qualified = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
    text = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    return ApiError(
        422,
        f'{qualified} "{name}" is invalid: {text}',
        "Invalid",
        {
            "name": name,
            "group": rtype.group,
            "kind": rtype.kind,
            "causes": [{"reason": e.reason, "message": e.body, "field": e.field} for e in errors],
        },
    )


def check(
    api: OpenApi,
    request: web.Request,
    rtype: ResourceType,
    obj: Obj,
    *,
    source: str = "body",
    patch: Any = None,
    namespace: str = "",
) -> Obj:
    """``obj`` as it will be stored: unknown fields handled per the request's directive and,
    for a custom resource, its CRD schema enforced. ``source`` says how the object came:
    ``body`` (create, replace), ``merge`` (JSON or merge patch), ``strategic`` or ``apply``
    (whose error names ``namespace``, the request's). Await ``api.prepare(rtype)`` first."""
    mode = directive(request)
    crd = api.crd_of(rtype)
    schema, components = api.schema_of(rtype)
    declared = crd_version_schema(crd, rtype.version) if crd is not None else None
    if crd is not None and declared is None:
        return obj  # a CRD without a schema (only possible before apiextensions/v1) keeps everything
    pruned, unknown = _prune(obj, schema, components, declared)
    if unknown:
        if source == "apply":
            raise _apply_error(rtype, obj, unknown[0], namespace)
        if mode == "Strict":
            raise _strict_error(rtype, unknown, source, patch, obj)
        if mode == "Warn":
            for path in unknown:
                warn(request, f'unknown field "{path}"')
    if declared is not None:
        validator = Validator(components)
        validator.validate({k: v for k, v in pruned.items() if k != "metadata"}, declared)
        if validator.errors:
            raise _invalid(rtype, pruned, validator.errors)
    return pruned


def _prune(obj: Obj, schema: Obj, components: dict[str, Obj], declared: Obj | None) -> tuple[Obj, list[str]]:
    """The object without undeclared fields, and their paths (sorted for custom resources,
    as the pruning reports them; in document order for built-ins, as the decoder meets them)."""
    if declared is None:
        pruner = Pruner(components, structural=False)
        return pruner.prune(obj, schema, root=True), pruner.unknown
    # A custom resource: metadata is decoded as the built-in ObjectMeta, the rest pruned
    # to the CRD's structural schema.
    pruner = Pruner(components, structural=True)
    rest = pruner.prune({k: v for k, v in obj.items() if k != "metadata"}, declared, root=True)
    meta_pruner = Pruner(components, structural=False)
    meta_schema = resolve((schema.get("properties") or {}).get("metadata") or {}, components)
    pruned = {
        k: meta_pruner.prune(v, meta_schema, "metadata") if k == "metadata" else rest[k]
        for k, v in obj.items()
        if k == "metadata" or k in rest
    }
    return pruned, meta_pruner.unknown + sorted(pruner.unknown)
