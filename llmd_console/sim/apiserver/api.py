"""The Kubernetes REST API: discovery, CRUD, patch, apply, scale, watch, logs and proxy."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from llmd_console.sim.apiserver import (
    authz,
    conversion,
    discovery,
    fieldvalidation,
    managedfields,
    params,
    reviews,
    schema,
)
from llmd_console.sim.apiserver.admission import admit
from llmd_console.sim.apiserver.errors import ApiError, already_exists, invalid, not_found
from llmd_console.sim.apiserver.openapi import OpenApi
from llmd_console.sim.apiserver.patching import apply_patch, json_patch, merge_patch, strategic_merge_patch
from llmd_console.sim.apiserver.podstreams import PodStreams
from llmd_console.sim.apiserver.streams import serve_logs, serve_watch
from llmd_console.sim.apiserver.tables import make_table
from llmd_console.sim.apiserver.wire import (
    ResourcePath,
    decode_body,
    error_response,
    flag,
    go_json,
    json_response,
    parse_resource_path,
    read_body,
    wants_table,
)
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, deep_copy, meta, new_uid, random_suffix
from llmd_console.sim.storage.registry import ResourceType
from llmd_console.sim.storage.selectors import format_selector, parse_field_selector, parse_label_selector

Deleter = Callable[[ResourceType, Obj, Obj], Obj]
# The resource type the client addressed; handlers work on the type it is stored as.
SERVED = web.RequestKey("llmd_sim_served_type", ResourceType)
Proxy = Callable[[web.Request, ResourcePath], Awaitable[web.StreamResponse]]
log = logging.getLogger("llmd_console.sim")
# The API server refuses bodies over 3 MiB (maxRequestBodyBytes) before decoding them;
# etcd refuses to store an object over 1.5 MiB (--max-request-bytes).
MAX_REQUEST_BYTES = 3 * 1024 * 1024
MAX_OBJECT_BYTES = 3 * 512 * 1024
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply",
}


class KubeApi:
    """Serves the Kubernetes API of one simulated cluster."""

    def __init__(self, ctx: SimContext, deleter: Deleter, proxy: Proxy, server_address: Callable[[], str]) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._delete_hook = deleter
        self._proxy = proxy
        self._server_address = server_address
        self.openapi = OpenApi(ctx.registry, ctx.store)
        self._pod_streams = PodStreams(ctx)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Entry point for every request under /api, /apis, /openapi, /version."""
        try:
            response = await self._dispatch(request)
            fieldvalidation.add_warning_headers(request, response)
            return response
        except ApiError as err:
            return error_response(err)
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                ApiError(413, f"Request entity too large: limit is {MAX_REQUEST_BYTES}", "RequestEntityTooLarge")
            )
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception:
            # A bug, not the client's fault: still a Status body, and logged with its trace.
            log.exception("internal error serving %s %s", request.method, request.path_qs)
            return error_response(ApiError(500, "Internal error occurred: the simulator failed to serve the request"))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        reg = self.ctx.registry
        if path in ("/version", "/version/"):
            return json_response(discovery.KUBE_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path in ("/api", "/apis"):
            version = discovery.aggregated_version(request.headers.get("Accept", ""))
            if version is not None:
                listing = discovery.aggregated_discovery(reg, path == "/api", version)
                ctype = discovery.aggregated_content_type(version)
                return web.Response(body=go_json(listing), headers={"Content-Type": ctype, "Vary": "Accept"})
            if path == "/api":
                return json_response(discovery.api_versions(self._server_address()))
            return json_response(discovery.api_group_list(reg))
        if path.startswith("/openapi/v3"):
            return await self.openapi.serve_v3(request)
        if path in ("/openapi/v2", "/openapi/v2/"):
            return await self.openapi.serve_v2(request)
        segs = [s for s in path.split("/") if s]
        if len(segs) == 2 and segs[0] == "api":
            doc = discovery.api_resource_list(reg, "", segs[1])
            if doc is None:
                raise ApiError(404, "the server could not find the requested resource")
            return json_response(doc)
        if len(segs) == 2 and segs[0] == "apis":
            versions = reg.groups().get(segs[1])
            if not versions:
                raise ApiError(404, "the server could not find the requested resource")
            return json_response(discovery.api_group(segs[1], versions))
        if len(segs) == 3 and segs[0] == "apis":
            doc = discovery.api_resource_list(reg, segs[1], segs[2])
            if doc is None:
                raise ApiError(404, "the server could not find the requested resource")
            return json_response(doc)
        rp = parse_resource_path(path)
        if rp is None:
            raise ApiError(404, "the server could not find the requested resource")
        rtype = reg.lookup(rp.group, rp.version, rp.resource)
        if rtype is None:
            raise ApiError(404, "the server could not find the requested resource")
        if rp.namespace is not None and not rtype.namespaced:
            raise ApiError(404, "the server could not find the requested resource")
        access = authz.request_of(request, rtype, rp)
        if rtype.key in self.ctx.denied or authz.is_denied(access, self.ctx.denied, self.ctx.denials):
            raise authz.forbidden(access)
        params.validate(request)
        params.validate_dry_run(request)
        if request.method in ("POST", "PUT", "PATCH") and rp.subresource in (None, "status"):
            await self.openapi.prepare(rtype)  # the schemas writes are validated against
        request[SERVED] = rtype
        return await self._resource(request, reg.by_key(rtype.key) if rtype.stored else rtype, rp)

    # ---- routing within a resource --------------------------------------
    async def _resource(self, request: web.Request, rtype: ResourceType, rp: ResourcePath) -> web.StreamResponse:
        method = request.method
        ns = rp.namespace or ""
        if not rtype.stored and (method != "POST" or rp.name is not None):
            raise self._not_allowed(method, rtype)
        if rp.name is None:
            if method == "GET":
                if flag(request, "watch"):
                    return await serve_watch(self.ctx, request, rtype, rp.namespace, request[SERVED])
                return self._list(request, rtype, rp.namespace)
            if method == "POST":
                return await self._create(request, rtype, ns)
            if method == "DELETE":
                return await self._delete_collection(request, rtype, rp.namespace)
            raise self._not_allowed(method, rtype)
        if rp.subresource is None:
            handlers: dict[str, Callable[[], Awaitable[web.StreamResponse]]] = {
                "GET": lambda: self._get(request, rtype, ns, rp.name or ""),
                "PUT": lambda: self._update(request, rtype, ns, rp.name or "", status_only=False),
                "PATCH": lambda: self._patch(request, rtype, ns, rp.name or "", status_only=False),
                "DELETE": lambda: self._delete(request, rtype, ns, rp.name or ""),
            }
            if method not in handlers:
                raise self._not_allowed(method, rtype)
            return await handlers[method]()
        sub = rp.subresource
        if sub == "proxy" and sub in rtype.subresources:
            return await self._proxy(request, rp)
        name = rp.name
        if sub not in rtype.subresources:
            # The generic NotFound carries empty details: kubectl debug tells it from a missing pod that way.
            raise ApiError(404, "the server could not find the requested resource", details={})
        if sub in PodStreams.SUBRESOURCES and rtype.key == "pods":
            return await self._pod_streams.serve(request, self.store.require(rtype, ns, name), sub)
        if sub == "log":
            if method != "GET":
                raise self._not_allowed(method, rtype)
            return await serve_logs(self.ctx, request, self.store.require(rtype, ns, name))
        if sub == "status":
            if method == "GET":
                return self._out(request, rtype, self.store.require(rtype, ns, name))
            if method == "PUT":
                return await self._update(request, rtype, ns, name, status_only=True)
            if method == "PATCH":
                return await self._patch(request, rtype, ns, name, status_only=True)
            raise self._not_allowed(method, rtype)
        if sub == "scale":
            return await self._scale(request, rtype, ns, name)
        raise self._not_allowed(method, rtype)

    @staticmethod
    def _out(request: web.Request, rtype: ResourceType, obj: Obj, status: int = 200) -> web.Response:
        """A stored object as the client's version of it."""
        return json_response(conversion.to_served(request[SERVED], rtype, obj), status)

    @staticmethod
    def _view(request: web.Request, rtype: ResourceType) -> Callable[[Obj], Obj]:
        served = request[SERVED]
        return lambda obj: conversion.to_served(served, rtype, obj)

    def _in(self, request: web.Request, rtype: ResourceType, body: Any, **validation: Any) -> Obj:
        """A request body checked against the client's version (kind, field types, field
        validation), in the stored version."""
        served = request[SERVED]
        obj = fieldvalidation.check(self.openapi, request, served, self._check_kind(served, body), **validation)
        return conversion.to_stored(served, rtype, obj)

    @staticmethod
    def _not_allowed(method: str, rtype: ResourceType) -> ApiError:
        return ApiError(405, f"the server does not allow this method on the requested resource ({method} {rtype.key})")

    # ---- reads -------------------------------------------------------------
    async def _get(self, request: web.Request, rtype: ResourceType, ns: str, name: str) -> web.StreamResponse:
        obj = self.store.require(rtype, ns, name)
        if wants_table(request):
            return json_response(
                make_table(
                    rtype,
                    [obj],
                    self.ctx.clock.now(),
                    request.query.get("includeObject", "Metadata"),
                    str(self.store.rv),
                    view=self._view(request, rtype),
                )
            )
        return self._out(request, rtype, obj)

    def _list(self, request: web.Request, rtype: ResourceType, namespace: str | None) -> web.StreamResponse:
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields = parse_field_selector(request.query.get("fieldSelector"), rtype.key)
        items = self.store.list(rtype.key, namespace, labels, fields)
        rv = str(self.store.rv)
        start, cont = 0, ""
        if request.query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(request.query["continue"].encode()))
                start, rv = int(token["start"]), str(token["rv"])
                if start < 0:
                    raise ValueError(start)
            except (ValueError, KeyError, TypeError) as exc:
                raise ApiError(400, "continue key is not valid: illegal base64 data") from exc
        limit = params.int_param(request, "limit")
        if limit is not None and limit > 0:
            end = start + limit
            if end < len(items):
                cont = base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": end}).encode()).decode()
            page = items[start:end]
        else:
            page = items[start:]
        if wants_table(request):
            include = request.query.get("includeObject", "Metadata")
            now = self.ctx.clock.now()
            return json_response(make_table(rtype, page, now, include, rv, cont, view=self._view(request, rtype)))
        served = request[SERVED]
        page = [conversion.to_served(served, rtype, obj) for obj in page]
        body: Obj = {
            "kind": f"{served.kind}List",
            "apiVersion": served.api_version,
            "metadata": {"resourceVersion": rv},
            "items": page,
        }
        if cont:
            body["metadata"]["continue"] = cont
            body["metadata"]["remainingItemCount"] = len(items) - start - len(page)
        return json_response(body)

    # ---- writes ------------------------------------------------------------
    def _check_kind(self, rtype: ResourceType, obj: Any) -> Obj:
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request must be a JSON or YAML object")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != rtype.kind:
            raise ApiError(400, f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})")
        if api_version and api_version != rtype.api_version:
            raise ApiError(
                400,
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rtype.api_version})",
            )
        return schema.check(rtype, obj)

    def _check_namespace(self, rtype: ResourceType, obj: Obj, ns: str) -> None:
        if not rtype.namespaced:
            return
        body_ns = meta(obj).get("namespace")
        if body_ns and body_ns != ns:
            raise ApiError(400, "the namespace of the provided object does not match the namespace sent on the request")
        meta(obj)["namespace"] = ns
        namespace = self.store.get("namespaces", "", ns)
        if namespace is None:
            raise not_found("namespaces", ns)
        if namespace.get("status", {}).get("phase") == "Terminating":
            raise ApiError(
                403,
                f'{rtype.plural} "{meta(obj).get("name", "")}" is forbidden: unable to create new content '
                f"in namespace {ns} because it is being terminated",
                "Forbidden",
            )

    def _writer(
        self, request: web.Request, rtype: ResourceType, *, apply: bool, subresource: str = ""
    ) -> managedfields.Writer:
        """Who makes this write, for managedFields."""
        return managedfields.Writer(
            managedfields.manager_of(request, apply=apply),
            request[SERVED].api_version,
            self.ctx.clock.iso(),
            subresource,
            status_in_main="status" not in rtype.subresources,
        )

    def _store_new(
        self, request: web.Request, rtype: ResourceType, obj: Obj, ns: str, applied: Obj | None = None
    ) -> Obj:
        obj = schema.check(rtype, obj)
        self._check_namespace(rtype, obj, ns)
        m = meta(obj)
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + random_suffix(self.ctx.rng)
        # The uid is a system field the server fills before admission (a Job's selector uses it).
        uid = m["uid"] = new_uid()
        given_ip = (obj.get("spec") or {}).get("clusterIP") if rtype.key == "services" else None
        admit(rtype, obj, creating=True, ips=self.ctx.service_ips)
        if rtype.key == "services" and not given_ip and params.dry_run(request):
            self.ctx.service_ips.release(str((obj.get("spec") or {}).get("clusterIP") or ""))
        if applied is None:
            managedfields.record_update(None, obj, self._writer(request, rtype, apply=False))
        else:
            managedfields.record_apply(None, applied, obj, self._writer(request, rtype, apply=True), force=True)
        _check_object_size(obj)
        if params.dry_run(request):
            return self._dry_created(rtype, obj)
        return self.store.create(rtype, obj, uid=uid)

    def _dry_created(self, rtype: ResourceType, obj: Obj) -> Obj:
        """What a create would have stored (no resourceVersion: nothing was written)."""
        m = meta(obj)
        if self.store.get(rtype.key, m.get("namespace", "") if rtype.namespaced else "", m.get("name", "")):
            raise already_exists(rtype.plural, m.get("name", ""), rtype.group)
        obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
        m["creationTimestamp"] = m.get("creationTimestamp") or self.ctx.clock.iso()
        m["generation"] = 1
        return obj

    async def _create(self, request: web.Request, rtype: ResourceType, ns: str) -> web.StreamResponse:
        if "create" not in rtype.verbs:
            raise self._not_allowed("POST", rtype)
        if not rtype.stored:
            body = await read_body(request)
            if not isinstance(body, dict):
                raise ApiError(400, "the body of the request must be a JSON or YAML object")
            return json_response(reviews.answer(self.ctx.registry, rtype, body, self.ctx.denied, self.ctx.denials), 201)
        obj = self._in(request, rtype, await read_body(request))
        return self._out(request, rtype, self._store_new(request, rtype, obj, ns), 201)

    def _store_update(
        self, request: web.Request, rtype: ResourceType, obj: Obj, *, status_only: bool, check_rv: bool
    ) -> Obj:
        obj = schema.check(rtype, obj)
        if not status_only:
            admit(rtype, obj, creating=False, ips=self.ctx.service_ips)
        _check_object_size(obj)
        if params.dry_run(request):
            return self.store.prepare_update(rtype, obj, check_rv=check_rv, status_only=status_only)[0]
        return self.store.update(rtype, obj, check_rv=check_rv, status_only=status_only)

    async def _update(
        self, request: web.Request, rtype: ResourceType, ns: str, name: str, *, status_only: bool
    ) -> web.StreamResponse:
        obj = self._in(request, rtype, await read_body(request))
        if meta(obj).get("name") not in (None, name):
            raise ApiError(
                400, f"the name of the object ({meta(obj).get('name')}) does not match the name on the URL ({name})"
            )
        meta(obj)["name"] = name
        self._check_namespace_unchanged(rtype, obj, ns)
        current = self.store.require(rtype, ns, name)
        _check_immutable_meta(rtype, current, obj)
        writer = self._writer(request, rtype, apply=False, subresource="status" if status_only else "")
        managedfields.record_update(current, obj, writer)
        return self._out(
            request, rtype, self._store_update(request, rtype, obj, status_only=status_only, check_rv=True)
        )

    @staticmethod
    def _check_namespace_unchanged(rtype: ResourceType, obj: Obj, ns: str) -> None:
        if not rtype.namespaced:
            meta(obj).pop("namespace", None)
            return
        body_ns = meta(obj).get("namespace")
        if body_ns and body_ns != ns:
            raise ApiError(400, "the namespace of the provided object does not match the namespace sent on the request")
        meta(obj)["namespace"] = ns

    def _apply_patch_body(self, kind: str, current: Obj, body: Any) -> Obj:
        if kind == "json":
            result = json_patch(current, body)
        elif not isinstance(body, dict):
            raise ApiError(400, "the patch body must be a JSON object")
        elif kind == "merge":
            result = merge_patch(current, body)
        elif kind == "strategic":
            result = strategic_merge_patch(current, body)
        else:
            result = apply_patch(current, body)
        if not isinstance(result, dict):
            raise ApiError(422, "the patch produced something that is not an object")
        return result

    async def _patch(
        self, request: web.Request, rtype: ResourceType, ns: str, name: str, *, status_only: bool
    ) -> web.StreamResponse:
        kind = PATCH_TYPES.get(request.content_type)
        if kind is None:
            raise ApiError(
                415,
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{', '.join(PATCH_TYPES)}",
            )
        if kind == "strategic" and rtype.custom:  # custom resources have no patch strategies
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            )
        body = await read_body(request)
        if kind == "apply":
            # The patch options are checked before the body (an apply without a field manager is a
            # 422 whatever it carries).
            managedfields.manager_of(request, apply=True)
        current = self.store.get(rtype.key, ns, name)
        if current is None:
            if kind != "apply":
                raise not_found(rtype.plural, name, rtype.group)
            _check_apply_body(body)
            obj = self._in(request, rtype, body, source="apply", patch=body, namespace=ns)
            meta(obj)["name"] = name
            return self._out(request, rtype, self._store_new(request, rtype, obj, ns, applied=body), 201)
        if kind == "apply":
            _check_apply_body(body)
            self._check_kind(request[SERVED], body)
        served = request[SERVED]
        live = conversion.to_served(served, rtype, deep_copy(current))
        result = self._apply_patch_body(kind, live, body)
        result = schema.check(served, result)
        source = {"json": "merge"}.get(kind, kind)
        result = fieldvalidation.check(self.openapi, request, served, result, source=source, patch=body)
        writer = self._writer(request, rtype, apply=kind == "apply", subresource="status" if status_only else "")
        if kind == "apply":
            force = request.query.get("force", "") in ("true", "1", "True")
            managedfields.record_apply(live, body, result, writer, force=force)
        else:
            managedfields.record_update(live, result, writer)
        result = conversion.to_stored(served, rtype, result)
        rmeta = meta(result)
        if rmeta.get("name") != name:
            raise ApiError(
                422,
                f'{rtype.kind} "{name}" is invalid: metadata.name: Invalid value: "{rmeta.get("name")}": '
                "field is immutable",
                "Invalid",
            )
        self._check_namespace_unchanged(rtype, result, ns)
        _check_immutable_meta(rtype, current, result)
        expect_rv = isinstance(body, dict) and bool((body.get("metadata") or {}).get("resourceVersion"))
        return self._out(
            request, rtype, self._store_update(request, rtype, result, status_only=status_only, check_rv=expect_rv)
        )

    # ---- scale -----------------------------------------------------------------
    def _scale_of(self, rtype: ResourceType, obj: Obj) -> Obj:
        sel = (obj.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
        m = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": m["name"],
                "namespace": m.get("namespace", ""),
                "uid": m["uid"],
                "resourceVersion": m["resourceVersion"],
                "creationTimestamp": m["creationTimestamp"],
            },
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0), "selector": format_selector(sel)},
        }

    async def _scale(self, request: web.Request, rtype: ResourceType, ns: str, name: str) -> web.StreamResponse:
        current = self.store.require(rtype, ns, name)
        scale = self._scale_of(rtype, current)
        if request.method == "GET":
            return json_response(scale)
        if request.method == "PUT":
            body = await read_body(request)
            new_scale = body if isinstance(body, dict) else {}
        elif request.method == "PATCH":
            kind = PATCH_TYPES.get(request.content_type)
            if kind is None:
                raise ApiError(415, "the body of the request was in an unknown format")
            new_scale = self._apply_patch_body(kind, scale, await read_body(request))
        else:
            raise self._not_allowed(request.method, rtype)
        replicas = (new_scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(
                422,
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas}: '
                "must be greater than or equal to 0",
                "Invalid",
            )
        updated = deep_copy(current)
        updated["spec"]["replicas"] = replicas
        managedfields.record_update(current, updated, self._writer(request, rtype, apply=False, subresource="scale"))
        stored = self._store_update(request, rtype, updated, status_only=False, check_rv=False)
        return json_response(self._scale_of(rtype, stored))

    # ---- delete ----------------------------------------------------------------
    async def _delete_options(self, request: web.Request) -> Obj:
        opts: Obj = {}
        if request.can_read_body:
            raw = await request.read()
            if raw.strip():
                body = decode_body(raw, request.content_type or "application/json")
                if isinstance(body, dict):
                    opts.update(body)
        params.validate_dry_run(request, opts)
        grace = params.int_param(request, "gracePeriodSeconds")
        if grace is not None:
            opts["gracePeriodSeconds"] = grace
        if "propagationPolicy" in request.query:
            opts["propagationPolicy"] = request.query["propagationPolicy"]
        grace = opts.get("gracePeriodSeconds")
        if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
            raise ApiError(
                400,
                f"json: cannot unmarshal {type(grace).__name__} into Go struct field "
                "DeleteOptions.gracePeriodSeconds of type int64",
            )
        policy = opts.get("propagationPolicy")
        if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
            raise invalid(
                "DeleteOptions",
                "",
                [
                    (
                        "propagationPolicy",
                        f'Unsupported value: "{policy}": supported values: "Background", "Foreground", "Orphan"',
                    )
                ],
            )
        return opts

    async def _delete(self, request: web.Request, rtype: ResourceType, ns: str, name: str) -> web.StreamResponse:
        opts = await self._delete_options(request)
        current = self.store.require(rtype, ns, name)
        if params.dry_run(request):
            return self._out(request, rtype, current)
        return self._out(request, rtype, self._delete_hook(rtype, current, opts))

    async def _delete_collection(
        self, request: web.Request, rtype: ResourceType, namespace: str | None
    ) -> web.StreamResponse:
        if "deletecollection" not in rtype.verbs:
            raise self._not_allowed("DELETE", rtype)
        opts = await self._delete_options(request)
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields = parse_field_selector(request.query.get("fieldSelector"), rtype.key)
        items = self.store.list(rtype.key, namespace, labels, fields)
        served = request[SERVED]
        if not params.dry_run(request):
            items = [self._delete_hook(rtype, obj, opts) for obj in items]
        deleted = [conversion.to_served(served, rtype, obj) for obj in items]
        return json_response(
            {
                "kind": f"{served.kind}List",
                "apiVersion": served.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)},
                "items": deleted,
            }
        )


def _check_immutable_meta(rtype: ResourceType, current: Obj, new: Obj) -> None:
    """metadata.uid cannot change (ValidateObjectMetaUpdate); leaving it out keeps it.

    creationTimestamp is the server's: an update or patch that drops or nulls it (a manifest
    from ``kubectl create --dry-run -o yaml`` carries ``creationTimestamp: null``) keeps the
    stored value, as the API server's BeforeUpdate does.
    """
    uid, old_uid = meta(new).get("uid"), current["metadata"].get("uid")
    if uid and uid != old_uid:
        name = current["metadata"].get("name", "")
        raise invalid(rtype.kind, name, [("metadata.uid", f'Invalid value: "{uid}": field is immutable')], rtype.group)
    for keep in ("uid", "creationTimestamp"):
        if keep in current["metadata"]:
            meta(new)[keep] = current["metadata"][keep]


def _check_apply_body(body: Any) -> None:
    """An applied configuration may not carry managedFields (the server keeps them)."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    if isinstance(metadata, dict) and metadata.get("managedFields") is not None:
        raise ApiError(400, "metadata.managedFields must be nil")


def _check_object_size(obj: Obj) -> None:
    """etcd's per-request limit, which the API server reports as 413."""
    size = len(json.dumps(obj, separators=(",", ":")).encode())
    if size > MAX_OBJECT_BYTES:
        raise ApiError(
            413,
            f"etcdserver: request is too large (the object is {size} bytes; the limit is {MAX_OBJECT_BYTES})",
            "RequestEntityTooLarge",
        )
