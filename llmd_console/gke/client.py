"""The Container API client for node pools: list and get them, set a pool's size and wait for
the operation that does it, as ``gcloud container clusters resize`` does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from llmd_console.config import GkeConfig
from llmd_console.gke.credentials import access_token

DEFAULT_ENDPOINT = "https://container.googleapis.com/"
MAX_BODY = 4 * 1024 * 1024
TPU_TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"
# Google's access tokens live an hour. Each new one costs a gcloud process (about a second), and
# an operation is polled every two seconds: a token is kept this long, or until it is refused.
TOKEN_SECONDS = 300.0


class GkeError(Exception):
    """A Container API request that failed: its HTTP status (0: no answer) and Google's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Container API: {status} {message}" if status else f"Container API: {message}")
        self.status, self.message = status, message


@dataclass(frozen=True)
class NodePoolInfo:
    """What the actions need to know of a node pool."""

    name: str
    machine_type: str
    node_count: int  # nodes it has now
    status: str
    autoscaling: bool
    min_nodes: int
    max_nodes: int
    tpu_topology: str  # "" when not a TPU slice pool
    accelerator: str = ""  # the node accelerator label value (the prices' key); "" for CPU pools
    chips_per_node: int = 0

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> NodePoolInfo:
        """From a NodePool resource."""
        config = raw.get("config") or {}
        labels = config.get("labels") or {}
        auto = raw.get("autoscaling") or {}
        topology = str((raw.get("placementPolicy") or {}).get("tpuTopology") or labels.get(TPU_TOPOLOGY_LABEL) or "")
        accelerators = [a for a in config.get("accelerators") or [] if isinstance(a, dict)]
        accelerator = str(
            labels.get("cloud.google.com/gke-tpu-accelerator")
            or labels.get("cloud.google.com/gke-accelerator")
            or (accelerators[0].get("acceleratorType") if accelerators else "")
            or ""
        )
        machine = str(config.get("machineType", ""))
        chips = int(accelerators[0].get("acceleratorCount") or 0) if accelerators else _machine_chips(machine)
        return cls(
            accelerator=accelerator,
            chips_per_node=chips if accelerator else 0,
            name=str(raw.get("name", "")),
            machine_type=str(config.get("machineType", "")),
            node_count=int(raw.get("currentNodeCount") or 0),
            status=str(raw.get("status", "")),
            autoscaling=bool(auto.get("enabled")),
            min_nodes=int(auto.get("minNodeCount") or 0),
            max_nodes=int(auto.get("maxNodeCount") or 0),
            tpu_topology=topology,
        )

    @property
    def hosts_per_slice(self) -> int:
        """Hosts (nodes) in one TPU slice: a multi-host slice is created and removed as a unit.
        A v6e host holds at most 2x4 chips, so a topology with more chips spans several hosts."""
        if not self.tpu_topology:
            return 1
        chips = 1
        for part in self.tpu_topology.split("x"):
            chips *= int(part) if part.isdigit() else 1
        return max(1, chips // (self.chips_per_node or 4))


def _machine_chips(machine_type: str) -> int:
    """Chips of a TPU machine type from its name: ``ct6e-standard-4t`` -> 4."""
    last = machine_type.rsplit("-", 1)[-1]
    digits = last[:-1] if last.endswith("t") else ""
    return int(digits) if digits.isdigit() else 0


class NodePoolClient:
    """Node pools of one cluster (``gke:`` in the config)."""

    def __init__(
        self,
        config: GkeConfig,
        *,
        token: Callable[[], Any] | None = None,
        timeout: float = 30.0,
        poll_seconds: float = 2.0,
    ) -> None:
        self.config = config
        self.base = (config.endpoint or DEFAULT_ENDPOINT).rstrip("/") + "/v1"
        self._token = token
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self.clock: Callable[[], float] = time.monotonic
        self._kept: tuple[float, str | None] | None = None  # (when it was had, the token)

    @property
    def cluster_path(self) -> str:
        """``projects/P/locations/L/clusters/C``."""
        c = self.config
        return f"projects/{c.project}/locations/{c.location}/clusters/{c.cluster}"

    @property
    def token_kept(self) -> str | None:
        """The access token reused for the next calls (None: none kept, or none needed)."""
        return self._kept[1] if self._kept else None

    async def _headers(self, *, fresh: bool) -> tuple[dict[str, str], bool]:
        """The request's headers, and whether their token was a kept one."""
        reused = False
        if self._token:
            token = await self._token()
        else:
            kept = self._kept
            reused = not fresh and kept is not None and self.clock() - kept[0] < TOKEN_SECONDS
            if not reused or kept is None:
                kept = self._kept = (self.clock(), await access_token(self.config.auth))
            token = kept[1]
        return ({"Authorization": f"Bearer {token}"} if token else {}), reused and token is not None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base}/{path}"
        for fresh in (False, True):
            headers, reused = await self._headers(fresh=fresh)
            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.request(method, url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise GkeError(0, f"{url} did not answer ({type(exc).__name__}: {exc})") from None
            if response.status_code != 401 or not reused:
                break
            # A kept token was refused (revoked, or the login changed): once more with a new one.
        return self._answer(response)

    @staticmethod
    def _answer(response: httpx.Response) -> dict[str, Any]:
        raw = response.content[:MAX_BODY]
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code >= 400:
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            message = str((error or {}).get("message") or raw[:300].decode("utf-8", "replace") or "no message")
            raise GkeError(response.status_code, message)
        return data

    async def list_pools(self) -> list[NodePoolInfo]:
        """The cluster's node pools."""
        data = await self._call("GET", f"{self.cluster_path}/nodePools")
        return [NodePoolInfo.from_api(p) for p in data.get("nodePools") or [] if isinstance(p, dict)]

    async def get_pool(self, name: str) -> NodePoolInfo:
        """One node pool."""
        return NodePoolInfo.from_api(await self._call("GET", f"{self.cluster_path}/nodePools/{name}"))

    async def set_size(self, name: str, count: int) -> dict[str, Any]:
        """Start resizing ``name`` to ``count`` nodes; returns the Operation."""
        if count < 0:
            raise ValueError("a node pool size must not be negative")
        return await self._call("POST", f"{self.cluster_path}/nodePools/{name}:setSize", {"nodeCount": count})

    async def wait(self, operation: dict[str, Any], seconds: float = 1800.0) -> dict[str, Any]:
        """Poll an Operation until DONE; raises GkeError if it ended in an error or took too long."""
        c = self.config
        path = f"projects/{c.project}/locations/{c.location}/operations/{operation.get('name', '')}"
        op = operation
        try:
            async with asyncio.timeout(seconds):
                while op.get("status") != "DONE":
                    await asyncio.sleep(self.poll_seconds)
                    op = await self._call("GET", path)
        except TimeoutError:
            raise GkeError(0, f"operation {operation.get('name')} not done after {seconds:g} s") from None
        error = op.get("error") or {}
        if error or op.get("statusMessage"):
            raise GkeError(0, str((error or {}).get("message") or op.get("statusMessage")))
        return op

    async def resize(self, name: str, count: int, seconds: float = 1800.0) -> dict[str, Any]:
        """Resize and wait for the operation to finish."""
        return await self.wait(await self.set_size(name, count), seconds)
