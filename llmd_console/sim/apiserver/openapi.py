"""The OpenAPI documents kubectl reads: ``/openapi/v3`` (index and one document per group
version) and ``/openapi/v2`` (one Swagger 2.0 document, JSON only).

Built-in kinds get their real schemas (``model_schemas``: generated from the ``kubernetes``
package's models); custom resources get their CRD's ``openAPIV3Schema`` with
``apiVersion``, ``kind`` and ``metadata`` described as the API server publishes them.
``kubectl explain`` walks these documents; ``kubectl apply`` looks in them for the
``fieldValidation`` query parameter before leaving field validation to the server.

Documents are built off the event loop (importing the client's models takes a second or
two), once per content: the cache key holds the group version's types and its CRDs'
resource versions, so a changed CRD gives a new document (and a new ``hash``, which is how
kubectl's cache notices). The cache holds a bounded number of documents.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from aiohttp import web

from llmd_console.sim.apiserver import model_schemas as ms
from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.wire import json_response
from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import Registry, ResourceType

CRDS = "customresourcedefinitions.apiextensions.k8s.io"
TITLE = "Kubernetes"
API_VERSION = "v1.32.4-gke.1415000"
_CACHE_ENTRIES = 64
_MODELS_VERSION = metadata.version("kubernetes")
_API_VERSION_DOC = (
    "APIVersion defines the versioned schema of this representation of an object. Servers should convert "
    "recognized schemas to the latest internal value, and may reject unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND_DOC = (
    "Kind is a string value representing the REST resource this object represents. Servers may infer this from "
    "the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
_METADATA_DOC = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
OPEN_OBJECT: Obj = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def gv_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/<group>/<version>``."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def crd_definition_name(rt: ResourceType) -> str:
    """``inference.networking.k8s.io`` v1 InferencePool -> ``io.k8s.networking.inference.v1.InferencePool``."""
    return ".".join([*reversed(rt.group.split(".")), rt.version, rt.kind])


def crd_version_schema(crd: Obj, version: str) -> Obj | None:
    """The ``openAPIV3Schema`` a CRD declares for one version (None: no schema)."""
    for ver in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(ver, dict) and ver.get("name") == version:
            schema = (ver.get("schema") or {}).get("openAPIV3Schema")
            return schema if isinstance(schema, dict) else None
    return None


def _gvk(rt: ResourceType) -> Obj:
    return {"group": rt.group, "version": rt.version, "kind": rt.kind}


def _ref(name: str) -> Obj:
    return {"$ref": f"#/components/schemas/{name}"}


def _operations(rt: ResourceType, name: str, group: str, version: str) -> dict[str, Obj]:
    """The list and item paths of one resource, with the operations kubectl looks at."""
    prefix = "/" + gv_path(group, version)
    base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
    gvk = _gvk(rt)
    writes = [
        {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for n in ("dryRun", "fieldManager", "fieldValidation")
    ]
    body = {"200": {"description": "OK", "content": {"application/json": {"schema": _ref(name)}}}}

    def op(action: str, params: list[Obj]) -> Obj:
        verb = {"get": "read", "list": "list", "post": "create", "put": "replace", "patch": "patch"}.get(action, action)
        out: Obj = {
            "operationId": f"{verb}{rt.kind}",
            "responses": body,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        }
        if params:
            out["parameters"] = params
        return out

    return {
        base: {"get": op("list", []), "post": op("post", writes)},
        f"{base}/{{name}}": {
            "get": op("get", []),
            "put": op("put", writes),
            "patch": op("patch", writes),
            "delete": op("delete", []),
        },
    }


def _crd_schema(crd: Obj | None, rt: ResourceType, builder: ms.SchemaBuilder) -> Obj:
    """A CRD version's schema as the API server publishes it."""
    declared = crd_version_schema(crd, rt.version) if crd else None
    schema = copy.deepcopy(declared) if declared else dict(OPEN_OBJECT)
    meta_cls = ms.model_class("", "v1", "ObjectMeta")
    props = schema.setdefault("properties", {}) if isinstance(schema.get("properties", {}), dict) else {}
    props["apiVersion"] = {"description": _API_VERSION_DOC, "type": "string"}
    props["kind"] = {"description": _KIND_DOC, "type": "string"}
    if meta_cls is not None:
        props["metadata"] = {"allOf": [_ref(builder.add(meta_cls))], "description": _METADATA_DOC}
    schema["x-kubernetes-group-version-kind"] = [_gvk(rt)]
    return schema


def build_v3(group: str, version: str, types: list[ResourceType], crds: dict[str, Obj]) -> Obj:
    """The OpenAPI v3 document of one group version (runs the models' import: call off the loop)."""
    builder = ms.SchemaBuilder(ms.package_of(group, version))
    paths: dict[str, Any] = {}
    for rt in types:
        crd = crds.get(rt.key)
        cls = None if crd is not None else ms.model_class(rt.group, rt.version, rt.kind)
        if cls is not None:
            name = builder.add(cls, _gvk(rt))
        else:
            name = crd_definition_name(rt)
            builder.schemas[name] = _crd_schema(crd, rt, builder)
        paths.update(_operations(rt, name, group, version))
    return {
        "openapi": "3.0.0",
        "info": {"title": TITLE, "version": API_VERSION},
        "paths": paths,
        "components": {"schemas": dict(sorted(builder.schemas.items()))},
    }


def _to_v2(node: Any) -> Any:
    """A v3 schema node in Swagger 2.0 form: ``#/definitions`` refs, no ``oneOf``."""
    if isinstance(node, list):
        return [_to_v2(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_v2(v) for k, v in node.items()}
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict) and "$ref" in all_of[0]:
        del out["allOf"]
        out["$ref"] = all_of[0]["$ref"]
    ref = out.get("$ref")
    if isinstance(ref, str):
        out["$ref"] = ref.replace("#/components/schemas/", "#/definitions/")
    if "oneOf" in out:  # IntOrString and Quantity: v2 has one type per schema
        del out["oneOf"]
        out["type"] = "string"
    return out


def build_v2(docs: list[Obj]) -> Obj:
    """One Swagger 2.0 document over every group version's v3 document."""
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for doc in docs:
        definitions.update(_to_v2(doc["components"]["schemas"]))
        for path, ops in doc["paths"].items():
            v2_ops = {}
            for method, op in ops.items():
                ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                v2 = {k: v for k, v in op.items() if k not in ("responses", "parameters")}
                v2["responses"] = {"200": {"description": "OK", "schema": _to_v2({"$ref": ref})}}
                if "parameters" in op:
                    v2["parameters"] = [
                        {"name": p["name"], "in": p["in"], "type": "string", "uniqueItems": True}
                        for p in op["parameters"]
                    ]
                v2_ops[method] = v2
            paths[path] = v2_ops
    return {
        "swagger": "2.0",
        "info": {"title": TITLE, "version": API_VERSION},
        "paths": paths,
        "definitions": dict(sorted(definitions.items())),
    }


def digest(key: tuple[Any, ...]) -> str:
    """The ``hash`` kubectl's OpenAPI cache keys a document by (SHA-512, as the API server's).

    It is taken over what determines the document (its types, their CRDs' resource
    versions and the models' version) rather than over the document itself, so the index
    needs no document built and still changes whenever a document would."""
    return hashlib.sha512(repr((_MODELS_VERSION, key)).encode()).hexdigest().upper()


@dataclass(frozen=True)
class Document:
    """One built document: the JSON value, its hash and its encoded body (served as is)."""

    doc: Obj
    hash: str
    body: bytes


def _encode(doc: Obj) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _build(group: str, version: str, types: list[ResourceType], crds: dict[str, Obj], key: tuple[Any, ...]) -> Document:
    doc = build_v3(group, version, types, crds)
    return Document(doc, digest(key), _encode(doc))


def _group_version(rest: str) -> tuple[str, str] | None:
    """``api/v1`` -> ("", "v1"); ``apis/apps/v1`` -> ("apps", "v1"); anything else None."""
    parts = rest.split("/")
    if parts[0] == "api" and len(parts) == 2:
        return "", parts[1]
    if parts[0] == "apis" and len(parts) == 3:
        return parts[1], parts[2]
    return None


class OpenApi:
    """Builds, caches and looks up the OpenAPI documents of one simulated cluster."""

    def __init__(self, registry: Registry, store: Any) -> None:
        self.registry = registry
        self.store = store
        self._docs: OrderedDict[tuple[Any, ...], Document] = OrderedDict()
        self._swagger: tuple[tuple[Any, ...], bytes] | None = None
        self._lock = asyncio.Lock()

    def group_versions(self) -> list[tuple[str, str]]:
        """Every served group version, core first."""
        seen: list[tuple[str, str]] = []
        for rt in self.registry.all():
            if (rt.group, rt.version) not in seen:
                seen.append((rt.group, rt.version))
        return sorted(seen, key=lambda gv: (gv[0] != "", gv))

    def crd_of(self, rt: ResourceType) -> Obj | None:
        """The CRD object defining ``rt`` (None for built-in kinds)."""
        if not rt.group:
            return None
        crd = self.store.get(CRDS, "", f"{rt.plural}.{rt.group}")
        return crd if isinstance(crd, dict) else None

    async def document(self, group: str, version: str) -> Document | None:
        """A group version's v3 document; None when it is not served."""
        types = self._types(group, version)
        if not types:
            return None
        crds = self._crds(types)
        key = self._key(group, version, types, crds)
        async with self._lock:
            cached = self._docs.get(key)
            if cached is None:
                snapshot = copy.deepcopy(crds)
                cached = self._keep(key, await asyncio.to_thread(_build, group, version, types, snapshot, key))
            else:
                self._docs.move_to_end(key)
        return cached

    def _keep(self, key: tuple[Any, ...], doc: Document) -> Document:
        self._docs[key] = doc
        while len(self._docs) > _CACHE_ENTRIES:
            self._docs.popitem(last=False)
        return doc

    async def prepare(self, rt: ResourceType) -> None:
        """Build (off the loop) the document :meth:`schema_of` will read for ``rt``; writes
        await this first so that their validation, which is synchronous, finds it built."""
        await self.document(rt.group, rt.version)

    def _types(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.registry.all() if rt.group == group and rt.version == version]

    def _crds(self, types: list[ResourceType]) -> dict[str, Obj]:
        return {rt.key: crd for rt in types if (crd := self.crd_of(rt)) is not None}

    @staticmethod
    def _key(group: str, version: str, types: list[ResourceType], crds: dict[str, Obj]) -> tuple[Any, ...]:
        return (
            group,
            version,
            tuple(rt.key for rt in types),
            tuple((k, c["metadata"].get("resourceVersion")) for k, c in sorted(crds.items())),
        )

    def current_hash(self, group: str, version: str) -> str:
        """The hash of a group version's document as it is now (nothing is built)."""
        types = self._types(group, version)
        return digest(self._key(group, version, types, self._crds(types)))

    def index(self) -> Obj:
        """``/openapi/v3``: one entry per group version, with the hash of its current document."""
        paths: dict[str, Any] = {}
        for group, version in self.group_versions():
            rel = gv_path(group, version)
            paths[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={self.current_hash(group, version)}"}
        return {"paths": paths}

    async def serve_v3(self, request: web.Request) -> web.Response:
        """``/openapi/v3`` and ``/openapi/v3/<api/v1 | apis/group/version>``.

        As kube-openapi's handler: a ``hash`` that is no longer current is redirected (301)
        to the current one, and a current one is served as immutable (cacheable for a year)."""
        rest = request.path[len("/openapi/v3") :].strip("/")
        if not rest:
            response = json_response(self.index())
            response.headers["Cache-Control"] = "no-cache, private"
            return response
        group_version = _group_version(rest)
        if group_version is None or not self._types(*group_version):
            raise ApiError(404, "the server could not find the requested resource")
        asked = request.query.get("hash")
        current = self.current_hash(*group_version)
        if asked is not None and asked != current:
            moved = f"/openapi/v3/{rest}?hash={current}"
            return web.Response(
                status=301, headers={"Location": moved}, text=f'<a href="{moved}">Moved Permanently</a>.'
            )
        found = await self.document(*group_version)
        if found is None:
            raise ApiError(404, "the server could not find the requested resource")
        headers = {"Etag": f'"{found.hash}"'}
        headers["Cache-Control"] = "public, immutable" if asked else "no-cache, private"
        return web.Response(body=found.body, content_type="application/json", headers=headers)

    async def serve_v2(self, request: web.Request) -> web.Response:
        """``/openapi/v2`` as JSON; the protobuf form (gnostic's ``Document``) is not served."""
        accept = request.headers.get("Accept", "")
        if accept and not any(t in accept for t in ("application/json", "*/*")):
            raise ApiError(
                406,
                f"only the following media types are accepted: application/json (asked for: {accept[:200]})",
                "NotAcceptable",
            )
        return web.Response(body=await self.swagger(), content_type="application/json")

    async def swagger(self) -> bytes:
        """``/openapi/v2``, encoded (kept until a group version's document changes)."""
        docs = []
        for group, version in self.group_versions():
            found = await self.document(group, version)
            if found is not None:
                docs.append(found)
        hashes = tuple(d.hash for d in docs)
        if self._swagger is None or self._swagger[0] != hashes:
            body = await asyncio.to_thread(lambda: _encode(build_v2([d.doc for d in docs])))
            self._swagger = (hashes, body)
        return self._swagger[1]

    def schema_of(self, rt: ResourceType) -> tuple[Obj, dict[str, Obj]]:
        """The root schema of a kind and the component schemas its refs point into (from the
        document :meth:`prepare` built; built here, on the loop, only if it was not)."""
        types = self._types(rt.group, rt.version)
        crds = self._crds(types)
        key = self._key(rt.group, rt.version, types, crds)
        found = self._docs.get(key) or self._keep(key, _build(rt.group, rt.version, types, copy.deepcopy(crds), key))
        schemas: dict[str, Obj] = found.doc["components"]["schemas"]
        for schema in schemas.values():
            if _gvk(rt) in schema.get("x-kubernetes-group-version-kind", []):
                return schema, schemas
        return OPEN_OBJECT, schemas
