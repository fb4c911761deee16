"""The slice of the GKE Container API (``container.googleapis.com/v1``) that
``gcloud container clusters resize`` and ``gcloud container node-pools list|describe``
call: cluster get/list, node pools list/get, ``setSize`` and operations get.

gcloud reaches it with ``CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER=<simulator URL>/``
and ``CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from llmd_console.sim.gke.nodepools import NodePool, NodePools, Operation
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json

GKE_VERSION = "1.32.4-gke.1415000"
MAX_NODES_PER_POOL = 1000  # GKE's limit per node pool per zone
_PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/(?:locations|zones)/(?P<location>[^/]+)"
    r"(?:/clusters(?:/(?P<cluster>[^/:]+))?(?:/nodePools(?:/(?P<pool>[^/:]+))?)?(?P<verb>:[A-Za-z]+)?"
    r"|/operations/(?P<operation>[^/]+))?$"
)
_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


def google_error(code: int, status: str, message: str) -> web.Response:
    """An error body as Google APIs send it."""
    return web.json_response({"error": {"code": code, "message": message, "status": status}}, status=code)


class GkeApi:
    """Serves the cluster and its node pools from a :class:`NodePools`."""

    def __init__(self, pools: NodePools, endpoint: str) -> None:
        self.pools = pools
        self.endpoint = endpoint

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
            "networkConfig": {"gatewayApiConfig": {"channel": "CHANNEL_STANDARD"}},
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
            "targetLink": self._self_link(f"{self._base()}/clusters/{p.cluster}/nodePools/{op.target}"),
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
        if parts["operation"]:
            op = p.operations.get(parts["operation"])
            if op is None:
                return google_error(404, "NOT_FOUND", f'Not found: operation "{parts["operation"]}".')
            return web.json_response(self.operation(op))
        location_ok = parts["location"] in (p.location, "-")
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

    async def _cluster_request(self, request: web.Request, parts: dict[str, str | None]) -> web.StreamResponse:
        p = self.pools
        pool_name, verb = parts["pool"], parts["verb"]
        if "/nodePools" not in request.path:
            return web.json_response(self.cluster())
        if pool_name is None:
            return web.json_response({"nodePools": [self.node_pool(pool) for pool in p.pools.values()]})
        pool = p.pools.get(pool_name)
        if pool is None:
            return google_error(
                404, "NOT_FOUND", f"Not found: {self._base()}/clusters/{p.cluster}/nodePools/{pool_name}."
            )
        if verb is None and request.method == "GET":
            return web.json_response(self.node_pool(pool))
        if verb == ":setSize" and request.method == "POST":
            return self._set_size(pool, await request.read())
        return google_error(400, "INVALID_ARGUMENT", f"Unsupported request {request.method} {request.path}.")

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
        busy = [op for op in self.pools.operations.values() if op.status != "DONE"]
        if busy:
            return google_error(
                400,
                "FAILED_PRECONDITION",
                f"Cluster is running incompatible operation {busy[0].name}.",
            )
        return web.json_response(self.operation(self.pools.resize(pool.name, count)))
