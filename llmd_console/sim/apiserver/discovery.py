"""Discovery (``/version``, ``/api``, ``/apis``) and the OpenAPI v3 index kubectl reads."""

from __future__ import annotations

import hashlib
from typing import Any

from llmd_console.sim.storage.objects import Obj
from llmd_console.sim.storage.registry import Registry, ResourceType

KUBE_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-gke.1415000",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-05-01T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# The order a 1.32 API server lists its built-in groups in (by their priority); CRD groups follow.
GROUP_ORDER = [
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
]


def api_versions(server_address: str) -> Obj:
    """``/api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _sorted_groups(registry: Registry) -> list[tuple[str, list[str]]]:
    groups = registry.groups()
    return sorted(
        ((g, v) for g, v in groups.items() if g),
        key=lambda gv: (GROUP_ORDER.index(gv[0]) if gv[0] in GROUP_ORDER else 99, gv[0]),
    )


def api_group(group: str, versions: list[str]) -> Obj:
    """One ``APIGroup``."""
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def api_group_list(registry: Registry) -> Obj:
    """``/apis``: every named group."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [api_group(g, v) for g, v in _sorted_groups(registry)],
    }


def _resource_entry(rt: ResourceType) -> Obj:
    entry: Obj = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
        "storageVersionHash": hashlib.sha256(rt.key.encode()).hexdigest()[:11],
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _subresource_entry(rt: ResourceType, sub: str) -> Obj:
    entry: Obj = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced, "kind": rt.kind}
    if sub == "status":
        entry["verbs"] = ["get", "patch", "update"]
    elif sub == "scale":
        entry.update({"group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
    elif sub == "log":
        entry.update({"kind": "Pod", "verbs": ["get"]})
    elif sub == "proxy":
        entry.update({"kind": f"{rt.kind}ProxyOptions", "verbs": ["create", "delete", "get", "patch", "update"]})
    elif sub == "eviction":
        entry.update({"group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
    elif sub == "finalize":
        entry["verbs"] = ["update"]
    elif sub in ("attach", "exec", "portforward"):
        options = {"attach": "PodAttachOptions", "exec": "PodExecOptions", "portforward": "PodPortForwardOptions"}
        entry.update({"kind": options[sub], "verbs": ["create", "get"]})
    return entry


def api_resource_list(registry: Registry, group: str, version: str) -> Obj | None:
    """``/api/v1`` or ``/apis/group/version``; None when the group version is not served."""
    types = [rt for rt in registry.all() if rt.group == group and rt.version == version]
    if not types:
        return None
    resources: list[Obj] = []
    for rt in types:
        resources.append(_resource_entry(rt))
        resources.extend(_subresource_entry(rt, sub) for sub in rt.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": types[0].group_version,
        "resources": resources,
    }


DISCOVERY_VERSIONS = ("v2", "v2beta1")


def aggregated_content_type(version: str) -> str:
    """The Content-Type of an aggregated discovery document."""
    return f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


def aggregated_version(accept: str) -> str | None:
    """The apidiscovery.k8s.io version to answer with, when the Accept header asks for
    aggregated discovery (kubectl lists ``...;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList``
    first), else None for the legacy documents."""
    for media_range in accept.split(","):
        kind, *raw_params = (part.strip() for part in media_range.split(";"))
        params = dict(p.partition("=")[::2] for p in raw_params)
        if (
            kind == "application/json"
            and params.get("g") == "apidiscovery.k8s.io"
            and params.get("as") == "APIGroupDiscoveryList"
            and params.get("v") in DISCOVERY_VERSIONS
        ):
            return params["v"]
        if kind in ("application/json", "*/*", "application/*"):
            return None
    return None


def _kind_ref(group: str, version: str, kind: str) -> Obj:
    return {"group": group, "version": version, "kind": kind}


def _aggregated_resource(rt: ResourceType) -> Obj:
    entry: Obj = {
        "resource": rt.plural,
        "responseKind": _kind_ref(rt.group, rt.version, rt.kind),
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources = []
    for sub in rt.subresources:
        legacy = _subresource_entry(rt, sub)
        subresources.append(
            {
                "subresource": sub,
                "responseKind": _kind_ref(
                    legacy.get("group", rt.group), legacy.get("version", rt.version), legacy["kind"]
                ),
                "verbs": legacy.get("verbs", []),
            }
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated_discovery(registry: Registry, legacy: bool, version: str) -> Obj:
    """``/api`` (legacy) or ``/apis`` as an ``APIGroupDiscoveryList``: every group, version
    and resource in one document, as a 1.32 server answers kubectl."""
    groups = [("", ["v1"])] if legacy else _sorted_groups(registry)
    items = []
    for group, served in groups:
        metadata: Obj = {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
        items.append(
            {
                "metadata": metadata,
                "versions": [
                    {
                        "version": gv,
                        "resources": [
                            _aggregated_resource(rt) for rt in registry.all() if rt.group == group and rt.version == gv
                        ],
                        "freshness": "Current",
                    }
                    for gv in served
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def openapi_v3_root(registry: Registry) -> Obj:
    """``/openapi/v3``: one document per served group version."""
    paths: dict[str, Any] = {}
    for group, versions in [("", ["v1"]), *_sorted_groups(registry)]:
        for version in versions:
            rel = _gv_path(group, version)
            digest = hashlib.sha256(repr(sorted(rt.key for rt in registry.all())).encode()).hexdigest()[:16].upper()
            paths[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={digest}"}
    return {"paths": paths}


def openapi_v3_doc(registry: Registry, group: str, version: str) -> Obj | None:
    """A per-group-version OpenAPI v3 document.

    The schemas are open (unknown fields allowed); what kubectl needs from them is
    the ``x-kubernetes-group-version-kind`` of each kind and the PATCH operations
    with a ``fieldValidation`` query parameter, which tell it the server validates
    fields itself.
    """
    types = [rt for rt in registry.all() if rt.group == group and rt.version == version]
    if not types:
        return None
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for rt in types:
        gvk = [{"group": rt.group, "version": rt.version, "kind": rt.kind}]
        schema_name = f"{rt.group or 'io.k8s.api.core'}.{rt.version}.{rt.kind}"
        schemas[schema_name] = {
            "type": "object",
            "description": f"{rt.kind} ({rt.api_version})",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
            "x-kubernetes-preserve-unknown-fields": True,
            "x-kubernetes-group-version-kind": gvk,
        }
        prefix = "/" + _gv_path(group, version)
        item = (
            f"{prefix}/namespaces/{{namespace}}/{rt.plural}/{{name}}"
            if rt.namespaced
            else f"{prefix}/{rt.plural}/{{name}}"
        )
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        params = [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        ]
        op = {
            "x-kubernetes-group-version-kind": gvk[0],
            "parameters": params,
            "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
        }
        paths[item] = {
            "get": {**op, "x-kubernetes-action": "get"},
            "put": {**op, "x-kubernetes-action": "put"},
            "patch": {**op, "x-kubernetes-action": "patch"},
            "delete": {**op, "x-kubernetes-action": "delete"},
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBE_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }
