"""GKE node pools: machine shapes, and resizes that add or drain Node objects after a
simulated provisioning delay."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, name_of, random_suffix


@dataclass(frozen=True)
class MachineType:
    """A GCE machine shape as a node reports it."""

    name: str
    cpu: int
    memory_gi: int
    accelerator_resource: str = ""
    accelerators: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[tuple[str, str, str], ...] = ()  # key, value, effect
    provision_seconds: float = 60.0


NODES_PER_TURN = 10  # nodes created, readied or removed per event-loop turn
MAX_OPERATIONS = 500  # operations remembered (operations list), the oldest finished first out
UPDATE_SECONDS = 20.0  # simulated duration of an autoscaling or node-label update
GATEWAY_API_SECONDS = 180.0  # enabling the Gateway API "takes 3-5 minutes" (runbook)

MACHINES = {
    m.name: m
    for m in (
        MachineType("e2-medium", 2, 4),  # what GKE creates when no machine type is given
        MachineType("e2-standard-4", 4, 16),
        MachineType("e2-standard-8", 8, 32),
        MachineType(
            "ct6e-standard-1t",
            44,
            176,
            "google.com/tpu",
            1,
            (("cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"), ("cloud.google.com/gke-tpu-topology", "1x1")),
            (("google.com/tpu", "present", "NoSchedule"),),
            150.0,
        ),
        MachineType(
            "ct6e-standard-4t",
            180,
            720,
            "google.com/tpu",
            4,
            (("cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"), ("cloud.google.com/gke-tpu-topology", "2x2")),
            (("google.com/tpu", "present", "NoSchedule"),),
            150.0,
        ),
        MachineType(
            "ct6e-standard-8t",
            180,
            1440,
            "google.com/tpu",
            8,
            (("cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"), ("cloud.google.com/gke-tpu-topology", "2x4")),
            (("google.com/tpu", "present", "NoSchedule"),),
            150.0,
        ),
        MachineType(
            "a3-highgpu-4g",
            104,
            936,
            "nvidia.com/gpu",
            4,
            (("cloud.google.com/gke-accelerator", "nvidia-h100-80gb"), ("cloud.google.com/gke-gpu", "true")),
            (("nvidia.com/gpu", "present", "NoSchedule"),),
            120.0,
        ),
        MachineType(
            "a3-highgpu-8g",
            208,
            1872,
            "nvidia.com/gpu",
            8,
            (("cloud.google.com/gke-accelerator", "nvidia-h100-80gb"), ("cloud.google.com/gke-gpu", "true")),
            (("nvidia.com/gpu", "present", "NoSchedule"),),
            120.0,
        ),
    )
}


@dataclass
class NodePool:
    """One GKE node pool."""

    name: str
    machine: MachineType
    target: int
    min_nodes: int = 0
    max_nodes: int = 3
    autoscaling: bool = False
    status: str = "RUNNING"
    hash: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # config.labels the user set


@dataclass
class Operation:
    """A long-running GKE operation."""

    name: str
    op_type: str
    target: str  # the node pool's name, or "" for the cluster itself
    status: str = "RUNNING"
    start: str = ""
    end: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class NodePools:
    """Owns the cluster's node pools and their Node objects."""

    def __init__(self, ctx: SimContext, project: str, location: str, cluster: str) -> None:
        self.ctx = ctx
        self.project, self.location, self.cluster = project, location, cluster
        self.pools: dict[str, NodePool] = {}
        self.operations: dict[str, Operation] = {}
        self.gateway_api = "CHANNEL_STANDARD"  # the cluster's networkConfig.gatewayApiConfig.channel
        self._ip = 2
        self._cidr = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def add_pool(
        self,
        name: str,
        machine_type: str,
        count: int,
        *,
        min_nodes: int = 0,
        max_nodes: int = 3,
        autoscaling: bool = False,
    ) -> NodePool:
        """Create a pool with ``count`` nodes ready now."""
        machine = MACHINES[machine_type]
        digest = hashlib.sha256(f"{self.cluster}/{name}".encode()).hexdigest()[:8]
        pool = NodePool(name, machine, count, min_nodes, max_nodes, autoscaling, hash=digest)
        self.pools[name] = pool
        for _ in range(count):
            self._create_node(pool, ready=True)
        return pool

    def nodes_of(self, pool: str) -> list[Obj]:
        """Node objects that belong to a pool."""
        return [
            n
            for n in self.ctx.store.list("nodes")
            if n["metadata"].get("labels", {}).get("cloud.google.com/gke-nodepool") == pool
        ]

    def _create_node(self, pool: NodePool, *, ready: bool) -> Obj:
        m = pool.machine
        name = ""
        while not name or self.ctx.store.get("nodes", "", name) is not None:
            name = f"gke-{self.cluster}-{pool.name}-{pool.hash}-{random_suffix(self.ctx.rng, 4)}"
        ip = str(ipaddress.ip_address("10.164.0.0") + self._ip)
        self._ip += 1
        cidr = f"10.{8 + self._cidr // 256}.{self._cidr % 256}.0/24"
        self._cidr += 1
        region = self.location.rsplit("-", 1)[0] if self.location.count("-") == 2 else self.location
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": m.name,
            "beta.kubernetes.io/instance-type": m.name,
            "cloud.google.com/gke-nodepool": pool.name,
            "cloud.google.com/gke-os-distribution": "cos",
            "cloud.google.com/machine-family": m.name.split("-")[0],
            "topology.kubernetes.io/zone": self.location,
            "topology.kubernetes.io/region": region,
            "failure-domain.beta.kubernetes.io/zone": self.location,
        }
        labels.update(dict(m.labels))
        labels.update(pool.labels)
        capacity = {
            "cpu": str(m.cpu),
            "memory": f"{m.memory_gi * 1024 * 1024}Ki",
            "pods": "110",
            "ephemeral-storage": "98831908Ki",
        }
        allocatable = {
            "cpu": f"{m.cpu * 1000 - 80 - m.cpu * 10}m",
            "memory": f"{int(m.memory_gi * 0.88 * 1024 * 1024)}Ki",
            "pods": "110",
            "ephemeral-storage": "47060071478",
        }
        if m.accelerator_resource:
            capacity[m.accelerator_resource] = str(m.accelerators)
            allocatable[m.accelerator_resource] = str(m.accelerators)
        now = self.ctx.clock.iso()
        status = "True" if ready else "False"
        conditions = [
            {
                "type": t,
                "status": "False",
                "reason": r,
                "message": msg,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
            for t, r, msg in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            )
        ]
        conditions.append(
            {
                "type": "Ready",
                "status": status,
                "reason": "KubeletReady" if ready else "KubeletNotReady",
                "message": "kubelet is posting ready status" if ready else "container runtime network not ready",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        )
        taints = [{"key": k, "value": v, "effect": e} for k, v, e in m.taints]
        if not ready:
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        node: Obj = {
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {"container.googleapis.com/instance_id": str(self.ctx.rng.getrandbits(62))},
            },
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "providerID": f"gce://{self.project}/{self.location}/{name}"},
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "nodeInfo": {
                    "kubeletVersion": "v1.32.4-gke.1415000",
                    "kubeProxyVersion": "v1.32.4-gke.1415000",
                    "osImage": "Container-Optimized OS from Google",
                    "kernelVersion": "6.6.87+",
                    "containerRuntimeVersion": "containerd://1.7.27",
                    "architecture": "amd64",
                    "operatingSystem": "linux",
                    "machineID": "",
                    "systemUUID": "",
                    "bootID": "",
                },
            },
        }
        if taints:
            node["spec"]["taints"] = taints
        return self.ctx.create("nodes", node)

    def _set_ready(self, name: str) -> None:
        now = self.ctx.clock.iso()

        def ready(draft: Obj) -> None:
            for cond in draft["status"]["conditions"]:
                if cond["type"] == "Ready":
                    cond.update(
                        {
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastTransitionTime": now,
                            "lastHeartbeatTime": now,
                        }
                    )
            draft["spec"]["taints"] = [
                t for t in draft["spec"].get("taints") or [] if t.get("key") != "node.kubernetes.io/not-ready"
            ]
            if not draft["spec"]["taints"]:
                draft["spec"].pop("taints")

        nodes = self.ctx.rt("nodes")
        self.ctx.store.mutate(nodes, "", name, ready)
        self.ctx.store.mutate(nodes, "", name, ready, status_only=True)

    def busy(self) -> Operation | None:
        """A running operation, if any: GKE runs one mutating operation per cluster at a time."""
        return next((op for op in self.operations.values() if op.status != "DONE"), None)

    def _operation(self, op_type: str, target: str, work: Coroutine[Any, Any, None]) -> Operation:
        op = Operation(
            f"operation-{self.ctx.rng.getrandbits(48):x}-{random_suffix(self.ctx.rng, 8)}",
            op_type,
            target,
            start=self.ctx.clock.iso_micro(),
        )
        # Operations are kept as GKE keeps them, but bounded: the oldest finished go first.
        done = [name for name, old in self.operations.items() if old.status == "DONE"]
        for name in done[: max(0, len(self.operations) - MAX_OPERATIONS + 1)]:
            del self.operations[name]
        self.operations[op.name] = op

        async def run() -> None:
            try:
                await work
            finally:
                op.status = "DONE"
                op.end = self.ctx.clock.iso_micro()

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return op

    def resize(self, pool_name: str, count: int) -> Operation:
        """Start resizing a pool; nodes come and go after simulated delays."""
        pool = self.pools[pool_name]
        pool.target = count
        pool.status = "RECONCILING"
        return self._operation("SET_NODE_POOL_SIZE", pool_name, self._converge(pool))

    def create_pool(
        self, name: str, machine_type: str, count: int, *, labels: dict[str, str], autoscaling: tuple[int, int] | None
    ) -> Operation:
        """Start creating a pool: PROVISIONING until its nodes are up, then RUNNING."""
        machine = MACHINES[machine_type]
        digest = hashlib.sha256(f"{self.cluster}/{name}".encode()).hexdigest()[:8]
        low, high = autoscaling or (0, 3)
        pool = NodePool(name, machine, count, low, high, autoscaling is not None, "PROVISIONING", digest, dict(labels))
        self.pools[name] = pool
        return self._operation("CREATE_NODE_POOL", name, self._converge(pool))

    def delete_pool(self, name: str) -> Operation:
        """Start deleting a pool: its nodes are drained and removed, then the pool goes."""
        pool = self.pools[name]
        pool.target = 0
        pool.status = "STOPPING"

        async def delete() -> None:
            await self._converge(pool)
            self.pools.pop(name, None)

        return self._operation("DELETE_NODE_POOL", name, delete())

    def set_autoscaling(self, name: str, enabled: bool, min_nodes: int, max_nodes: int) -> Operation:
        """Change a pool's autoscaling limits (a cluster update)."""
        pool = self.pools[name]
        pool.autoscaling, pool.min_nodes, pool.max_nodes = enabled, min_nodes, max_nodes
        return self._operation("UPDATE_CLUSTER", "", self.ctx.clock.sleep(UPDATE_SECONDS))

    def set_gateway_api(self, channel: str) -> Operation:
        """Set the cluster's Gateway API channel (the runbook's ``clusters update --gateway-api``,
        which takes minutes on GKE)."""
        self.gateway_api = channel
        return self._operation("UPDATE_CLUSTER", "", self.ctx.clock.sleep(GATEWAY_API_SECONDS))

    def set_labels(self, name: str, labels: dict[str, str]) -> Operation:
        """Replace a pool's node labels; GKE applies them to the existing nodes in place."""
        pool = self.pools[name]
        before = pool.labels
        pool.labels = dict(labels)
        pool.status = "RECONCILING"

        async def relabel() -> None:
            await self.ctx.clock.sleep(UPDATE_SECONDS)

            def change(draft: Obj) -> None:
                node_labels = draft["metadata"].setdefault("labels", {})
                for key in before:
                    node_labels.pop(key, None)
                node_labels.update(pool.labels)

            for i, node in enumerate(self.nodes_of(name)):
                self.ctx.store.mutate(self.ctx.rt("nodes"), "", name_of(node), change)
                if i % NODES_PER_TURN == NODES_PER_TURN - 1:
                    await asyncio.sleep(0)
            pool.status = "RUNNING"

        return self._operation("UPGRADE_NODES", name, relabel())

    async def _converge(self, pool: NodePool) -> None:
        nodes = self.nodes_of(pool.name)
        clock = self.ctx.clock
        if len(nodes) < pool.target:
            await clock.sleep(pool.machine.provision_seconds * 0.8)
            created = []
            for i in range(pool.target - len(nodes)):
                created.append(self._create_node(pool, ready=False))
                if i % NODES_PER_TURN == NODES_PER_TURN - 1:
                    await asyncio.sleep(0)
            await clock.sleep(pool.machine.provision_seconds * 0.2)
            for i, node in enumerate(created):
                self._set_ready(name_of(node))
                if i % NODES_PER_TURN == NODES_PER_TURN - 1:
                    await asyncio.sleep(0)
        elif len(nodes) > pool.target:
            doomed = sorted(nodes, key=name_of)[pool.target :]
            for i, node in enumerate(doomed):
                self.ctx.store.mutate(
                    self.ctx.rt("nodes"), "", name_of(node), lambda d: d["spec"].__setitem__("unschedulable", True)
                )
                if i % NODES_PER_TURN == NODES_PER_TURN - 1:
                    await asyncio.sleep(0)
            await clock.sleep(20.0)
            doomed_names = {name_of(node) for node in doomed}
            evicted = 0
            for pod in self.ctx.store.list("pods"):
                if pod.get("spec", {}).get("nodeName") in doomed_names and not pod["metadata"].get("deletionTimestamp"):
                    self.ctx.delete(self.ctx.rt("pods"), pod)
                    evicted += 1
                    if evicted % NODES_PER_TURN == 0:
                        await asyncio.sleep(0)
            await clock.sleep(10.0)
            for i, node in enumerate(doomed):
                if self.ctx.store.get("nodes", "", name_of(node)) is not None:
                    self.ctx.store.delete(self.ctx.rt("nodes"), "", name_of(node))
                if i % NODES_PER_TURN == NODES_PER_TURN - 1:
                    await asyncio.sleep(0)
        if pool.status != "STOPPING":
            pool.status = "RUNNING"

    def remove_node_now(self, name: str) -> None:
        """A node vanishes (preemption, repair): its pods are removed by pod GC."""
        self.ctx.store.delete(self.ctx.rt("nodes"), "", name)
