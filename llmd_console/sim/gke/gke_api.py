"""The slice of the GKE Container API (``container.googleapis.com/v1``) that gcloud's
``container clusters describe|list|resize|update|get-credentials``, ``container node-pools
list|describe|create|update|delete`` and ``container operations list|describe|wait`` call.

Every mutation answers with an Operation that gcloud then polls, as the real API does; one
mutating operation runs at a time per cluster. The Cluster carries the HTTPS ``endpoint``
(``host:port``) and ``masterAuth.clusterCaCertificate`` of the simulated API server.

gcloud reaches it with ``CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER=<simulator URL>/``
and ``CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from aiohttp import web

from llmd_console.sim.gke.nodepools import MACHINES, NodePool, NodePools, Operation
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json

GKE_VERSION = "1.32.4-gke.1415000"
MAX_NODES_PER_POOL = 1000  # GKE's limit per node pool per zone
_PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/(?:locations|zones)/(?P<location>[^/]+)"
    r"(?:/clusters(?:/(?P<cluster>[^/:]+))?(?:(?P<pools>/nodePools)(?:/(?P<pool>[^/:]+))?)?(?P<verb>:[A-Za-z]+)?"
    r"|(?P<operations>/operations)(?:/(?P<operation>[^/:]+))?)?$"
)
# A node pool name: lowercase letters, digits and hyphens, starting with a letter (RFC 1035).
_POOL_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$")
# UpdateNodePoolRequest fields that only name the pool.
_POOL_REF_FIELDS = {"name", "projectId", "zone", "clusterId", "nodePoolId"}
_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


def google_error(code: int, status: str, message: str) -> web.Response:
    """An error body as Google APIs send it."""
    return web.json_response({"error": {"code": code, "message": message, "status": status}}, status=code)


class GkeApi:
    """Serves the cluster and its node pools from a :class:`NodePools`."""

    def __init__(self, pools: NodePools, endpoint: str = "", ca_pem: bytes = b"") -> None:
        self.pools = pools
        self.endpoint = endpoint  # host:port of the HTTPS API server, set once it listens
        self.ca_pem = ca_pem

    # ---- resources -------------------------------------------------------
    def _base(self) -> str:
        p = self.pools
        return f"projects/{p.project}/locations/{p.location}"

    def _self_link(self, path: str) -> str:
        return f"https://container.googleapis.com/v1/{path}"

    def node_pool(self, pool: NodePool) -> dict[str, Any]:
        """A NodePool resource."""
        m = pool.machine
        labels = dict(m.labels)
        config: dict[str, Any] = {
            "machineType": m.name,
            "diskSizeGb": 100,
            "diskType": "pd-balanced",
            "imageType": "COS_CONTAINERD",
            "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "serviceAccount": "default",
            "metadata": {"disable-legacy-endpoints": "true"},
        }
        labels.update(pool.labels)
        if labels:
            config["labels"] = labels
        if m.taints:
            config["taints"] = [{"key": k, "value": v, "effect": _TAINT_EFFECTS[e]} for k, v, e in m.taints]
        if m.accelerator_resource == "nvidia.com/gpu":
            config["accelerators"] = [
                {"acceleratorCount": str(m.accelerators), "acceleratorType": labels["cloud.google.com/gke-accelerator"]}
            ]
        path = f"{self._base()}/clusters/{self.pools.cluster}/nodePools/{pool.name}"
        group = f"gke-{self.pools.cluster}-{pool.name}-{pool.hash}-grp"
        out: dict[str, Any] = {
            "name": pool.name,
            "config": config,
            "initialNodeCount": max(pool.target, 1),
            "locations": [self.pools.location],
            "selfLink": self._self_link(path),
            "version": GKE_VERSION,
            "instanceGroupUrls": [
                f"https://www.googleapis.com/compute/v1/projects/{self.pools.project}/zones/"
                f"{self.pools.location}/instanceGroupManagers/{group}"
            ],
            "status": pool.status,
            "management": {"autoUpgrade": True, "autoRepair": True},
            "podIpv4CidrSize": 24,
            "currentNodeCount": len(self.pools.nodes_of(pool.name)),
        }
        if pool.autoscaling:
            out["autoscaling"] = {
                "enabled": True,
                "minNodeCount": pool.min_nodes,
                "maxNodeCount": pool.max_nodes,
                "locationPolicy": "ANY",
            }
        topology = labels.get("cloud.google.com/gke-tpu-topology")
        if topology:
            out["placementPolicy"] = {"tpuTopology": topology, "type": "COMPACT"}
        return out

    def cluster(self) -> dict[str, Any]:
        """The Cluster resource."""
        p = self.pools
        pools = [self.node_pool(pool) for pool in p.pools.values()]
        return {
            "name": p.cluster,
            "location": p.location,
            "zone": p.location,
            "locations": [p.location],
            "status": "RUNNING",
            "endpoint": self.endpoint,
            "masterAuth": {"clusterCaCertificate": base64.b64encode(self.ca_pem).decode()},
            "initialClusterVersion": GKE_VERSION,
            "currentMasterVersion": GKE_VERSION,
            "currentNodeVersion": GKE_VERSION,
            "currentNodeCount": sum(pool["currentNodeCount"] for pool in pools),
            "network": "default",
            "subnetwork": "default",
            "clusterIpv4Cidr": "10.8.0.0/14",
            "servicesIpv4Cidr": "34.118.224.0/20",
            "nodePools": pools,
            "addonsConfig": {"gcpFilestoreCsiDriverConfig": {}, "httpLoadBalancing": {}},
            "networkConfig": {"gatewayApiConfig": {"channel": p.gateway_api}},
            "releaseChannel": {"channel": "REGULAR"},
            "selfLink": self._self_link(f"{self._base()}/clusters/{p.cluster}"),
            "createTime": "2026-01-12T09:14:03+00:00",
        }

    def operation(self, op: Operation) -> dict[str, Any]:
        """An Operation resource."""
        p = self.pools
        out: dict[str, Any] = {
            "name": op.name,
            "zone": p.location,
            "location": p.location,
            "operationType": op.op_type,
            "status": op.status,
            "selfLink": self._self_link(f"projects/{p.project}/zones/{p.location}/operations/{op.name}"),
            "targetLink": self._self_link(
                f"{self._base()}/clusters/{p.cluster}" + (f"/nodePools/{op.target}" if op.target else "")
            ),
            "startTime": op.start,
        }
        if op.end:
            out["endTime"] = op.end
        return out

    # ---- HTTP --------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route one Container API request."""
        match = _PATH.match(request.path)
        if match is None:
            return google_error(404, "NOT_FOUND", f"The requested URL {request.path} was not found on this server.")
        parts = match.groupdict()
        p = self.pools
        if parts["project"] != p.project:
            return google_error(403, "PERMISSION_DENIED", f"Permission denied on resource project {parts['project']}.")
        location_ok = parts["location"] in (p.location, "-")
        if parts["operations"]:
            return self._operations(request, parts["operation"], location_ok)
        if parts["cluster"] is None:
            clusters = [self.cluster()] if location_ok else []
            return web.json_response({"clusters": clusters} if clusters else {})
        if parts["cluster"] != p.cluster or not location_ok:
            return google_error(
                404,
                "NOT_FOUND",
                f"Not found: projects/{parts['project']}/locations/{parts['location']}/clusters/{parts['cluster']}.",
            )
        return await self._cluster_request(request, parts)

    def _operations(self, request: web.Request, name: str | None, location_ok: bool) -> web.Response:
        if request.method != "GET":
            return google_error(400, "INVALID_ARGUMENT", f"Unsupported request {request.method} {request.path}.")
        ops = self.pools.operations if location_ok else {}
        if name is None:
            listed = [self.operation(op) for op in ops.values()]
            return web.json_response({"operations": listed} if listed else {})
        op = ops.get(name)
        if op is None:
            return google_error(404, "NOT_FOUND", f'Not found: operation "{name}".')
        return web.json_response(self.operation(op))

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = loads_json(await request.read() or b"{}")
        except DecodeError:
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if not isinstance(body, dict):
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received: not an object.")
        return body

    def _busy(self) -> web.Response | None:
        busy = self.pools.busy()
        if busy is None:
            return None
        return google_error(400, "FAILED_PRECONDITION", f"Cluster is running incompatible operation {busy.name}.")

    async def _cluster_request(self, request: web.Request, parts: dict[str, str | None]) -> web.StreamResponse:
        p = self.pools
        pool_name, verb, method = parts["pool"], parts["verb"], request.method
        if not parts["pools"]:
            if verb is None and method == "GET":
                return web.json_response(self.cluster())
            if verb is None and method == "PUT":
                return await self._update_cluster(request)
            return google_error(400, "INVALID_ARGUMENT", f"Unsupported request {method} {request.path}.")
        if pool_name is None:
            if method == "POST":
                return await self._create_pool(request)
            return web.json_response({"nodePools": [self.node_pool(pool) for pool in p.pools.values()]})
        pool = p.pools.get(pool_name)
        if pool is None:
            return google_error(
                404, "NOT_FOUND", f"Not found: {self._base()}/clusters/{p.cluster}/nodePools/{pool_name}."
            )
        if verb is None and method == "GET":
            return web.json_response(self.node_pool(pool))
        if verb == ":setSize" and method == "POST":
            return self._set_size(pool, await request.read())
        if verb is None and method == "PUT":
            return await self._update_pool(request, pool)
        if verb is None and method == "DELETE":
            return self._busy() or web.json_response(self.operation(p.delete_pool(pool.name)))
        return google_error(400, "INVALID_ARGUMENT", f"Unsupported request {method} {request.path}.")

    async def _create_pool(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        spec = body.get("nodePool")
        if not isinstance(spec, dict):
            return google_error(400, "INVALID_ARGUMENT", "Missing required field 'node_pool'.")
        name = spec.get("name")
        if not isinstance(name, str) or not _POOL_NAME.match(name):
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"Invalid value for field 'node_pool.name': {name!r}. Must be 1-40 lowercase letters, digits "
                "or hyphens, starting with a letter and not ending with a hyphen.",
            )
        if name in self.pools.pools:
            return google_error(
                409, "ALREADY_EXISTS", f"Already exists: {self._base()}/clusters/{self.pools.cluster}/nodePools/{name}."
            )
        config: dict[str, Any] = spec["config"] if isinstance(spec.get("config"), dict) else {}
        machine = config.get("machineType") or "e2-medium"
        if machine not in MACHINES:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"Machine type {machine!r} is not one the simulated cluster provides; it provides: "
                f"{', '.join(sorted(MACHINES))}.",
            )
        count = _count(spec.get("initialNodeCount", 3))
        if count is None:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"Invalid value for field 'node_pool.initial_node_count': {spec.get('initialNodeCount')!r}. "
                f"Must be between 0 and {MAX_NODES_PER_POOL}.",
            )
        labels = config.get("labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            return google_error(400, "INVALID_ARGUMENT", "Invalid value for field 'node_pool.config.labels'.")
        limits = _autoscaling(spec.get("autoscaling"))
        if isinstance(limits, str):
            return google_error(400, "INVALID_ARGUMENT", limits)
        busy = self._busy()
        if busy is not None:
            return busy
        op = self.pools.create_pool(name, machine, count, labels=labels, autoscaling=limits)
        return web.json_response(self.operation(op))

    async def _update_cluster(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        update = body.get("update")
        if not isinstance(update, dict) or not update:
            return google_error(400, "INVALID_ARGUMENT", "Missing required field 'update'.")
        if set(update) == {"desiredGatewayApiConfig"}:
            return self._update_gateway_api(update["desiredGatewayApiConfig"])
        unsupported = sorted(k for k in update if k not in ("desiredNodePoolId", "desiredNodePoolAutoscaling"))
        if unsupported or "desiredNodePoolAutoscaling" not in update:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "The simulated cluster updates only node pool autoscaling (update.desiredNodePoolAutoscaling) "
                "and the Gateway API channel (update.desiredGatewayApiConfig); not supported here: "
                f"{', '.join(unsupported) or 'none given'}.",
            )
        pool = self.pools.pools.get(str(update.get("desiredNodePoolId", "")))
        if pool is None:
            return google_error(
                404, "NOT_FOUND", f"Node pool {update.get('desiredNodePoolId')!r} not found in cluster."
            )
        limits = _autoscaling(update["desiredNodePoolAutoscaling"])
        if isinstance(limits, str):
            return google_error(400, "INVALID_ARGUMENT", limits)
        busy = self._busy()
        if busy is not None:
            return busy
        low, high = limits or (0, 0)
        return web.json_response(self.operation(self.pools.set_autoscaling(pool.name, limits is not None, low, high)))

    def _update_gateway_api(self, config: object) -> web.Response:
        channel = config.get("channel") if isinstance(config, dict) else None
        if channel != "CHANNEL_STANDARD":
            # The simulated cluster always serves the standard Gateway API CRDs: switching
            # them off or to experimental would change what exists, which is not simulated.
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"The simulated cluster offers only the standard Gateway API channel (CHANNEL_STANDARD), "
                f"not {channel!r}.",
            )
        return self._busy() or web.json_response(self.operation(self.pools.set_gateway_api(channel)))

    async def _update_pool(self, request: web.Request, pool: NodePool) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        unsupported = sorted(k for k, v in body.items() if k not in _POOL_REF_FIELDS and k != "labels" and v)
        labels = (body.get("labels") or {}).get("labels", {}) if isinstance(body.get("labels"), dict) else None
        if unsupported or labels is None:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "The simulated cluster updates only a node pool's labels (labels.labels); "
                f"not supported here: {', '.join(unsupported) or 'labels'}.",
            )
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            return google_error(400, "INVALID_ARGUMENT", "Invalid value for field 'labels.labels'.")
        return self._busy() or web.json_response(self.operation(self.pools.set_labels(pool.name, labels)))

    def _set_size(self, pool: NodePool, raw: bytes) -> web.Response:
        try:
            body = loads_json(raw or b"{}")
        except DecodeError:
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        count = body.get("nodeCount") if isinstance(body, dict) else None
        if isinstance(count, str) and count.isdigit():
            count = int(count)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            return google_error(400, "INVALID_ARGUMENT", "Invalid value for field 'nodeCount': must be >= 0.")
        if count > MAX_NODES_PER_POOL:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"Invalid value for field 'nodeCount': {count}. A node pool can have at most "
                f"{MAX_NODES_PER_POOL} nodes per zone.",
            )
        return self._busy() or web.json_response(self.operation(self.pools.resize(pool.name, count)))


def _count(value: object) -> int | None:
    """A node count (int64 fields arrive as JSON strings or numbers), or None when invalid."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_NODES_PER_POOL:
        return value
    return None


def _autoscaling(spec: object) -> tuple[int, int] | str | None:
    """(min, max) of an enabled NodePoolAutoscaling, None when disabled, or what is wrong."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return "Invalid value for field 'autoscaling': not an object."
    if not spec.get("enabled"):
        return None
    low, high = _count(spec.get("minNodeCount", 0)), _count(spec.get("maxNodeCount", 0))
    if low is None or high is None or high < 1 or low > high:
        return (
            f"Invalid autoscaling limits: minNodeCount {spec.get('minNodeCount', 0)!r}, maxNodeCount "
            f"{spec.get('maxNodeCount', 0)!r} (need 0 <= min <= max, max >= 1, max <= {MAX_NODES_PER_POOL})."
        )
    return low, high
