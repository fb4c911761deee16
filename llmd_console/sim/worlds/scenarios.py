"""Fault scenarios: the runbook's troubleshooting cases and common llm-d failures,
made by changing the world the way an operator's mistake or a cloud problem
would. Nothing in the cluster names the scenario; it shows only through status,
events, logs and request errors, as on a real cluster.

``clear`` puts every Pattern 1 object back to its canonical form, which also
undoes whatever a scenario changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llmd_console.sim.apiserver.admission import admit
from llmd_console.sim.gke.nodepools import NodePools
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, deep_copy, name_of
from llmd_console.sim.worlds.world import (
    DECODE_NAME,
    GATEWAY_NAME,
    HF_SECRET,
    NAMESPACE,
    ROUTE_NAME,
    SIM_HF_TOKEN,
    Accelerator,
    decode_deployment,
    epp_objects,
    gateway_manifest,
    hf_secret,
    route_manifest,
)

DEPLOYMENTS = "deployments.apps"
GATEWAYS = "gateways.gateway.networking.k8s.io"
ROUTES = "httproutes.gateway.networking.k8s.io"


class ScenarioError(Exception):
    """A scenario that does not exist or does not apply to this world."""


@dataclass(frozen=True)
class Scenario:
    """One way the deployment can break."""

    name: str
    summary: str  # for the operator choosing a scenario, never written into the cluster
    apply: Callable[[Faults], None]
    tpu_only: bool = False


class Faults:
    """Applies scenarios to a Pattern 1 world and restores it."""

    def __init__(self, ctx: SimContext, pools: NodePools, acc: Accelerator) -> None:
        self.ctx = ctx
        self.pools = pools
        self.acc = acc
        self.active: str | None = None

    # ---- editing the world ----------------------------------------------------
    def _container(self, draft: Obj) -> Obj:
        containers: list[Obj] = draft["spec"]["template"]["spec"]["containers"]
        return containers[0]

    def edit_decode(self, change: Callable[[Obj], None]) -> None:
        """Redeploy the decode Deployment with a changed pod template.

        Like ``helm uninstall`` + ``install``: with one TPU node a rolling update would
        wait forever for chips the old pod holds, so changed values are reinstalled."""
        current = self.ctx.store.get(DEPLOYMENTS, NAMESPACE, DECODE_NAME)
        if current is None:
            raise ScenarioError(f"deployment {NAMESPACE}/{DECODE_NAME} does not exist")
        wanted = decode_deployment(self.acc, int(current["spec"].get("replicas", 1)))
        change(wanted)
        self._reinstall(wanted)

    def _reinstall(self, wanted: Obj) -> None:
        current = self.ctx.store.get(DEPLOYMENTS, NAMESPACE, wanted["metadata"]["name"])
        if current is not None:
            # The template as the API server would store it: defaults added, nothing removed.
            defaulted = deep_copy(wanted)
            admit(self.ctx.rt(DEPLOYMENTS), defaulted, creating=True, ips=self.ctx.service_ips)
            if defaulted["spec"]["template"] == current["spec"]["template"]:
                return
            self.ctx.delete(self.ctx.rt(DEPLOYMENTS), current)
        self.ctx.create(DEPLOYMENTS, wanted)

    def set_arg(self, flag: str, value: str) -> Callable[[Obj], None]:
        """A template change that sets ``--flag=value`` on the vLLM command line."""

        def change(draft: Obj) -> None:
            c = self._container(draft)
            args = [a for a in c.get("args") or [] if not str(a).startswith(f"{flag}=")]
            if flag in args:
                at = args.index(flag)
                del args[at : at + 2]
            c["args"] = [*args, f"{flag}={value}"]

        return change

    def restart_decode_pods(self) -> None:
        """Delete the decode pods (the runbook's way to pick up a changed Secret)."""
        for pod in self.ctx.store.list("pods", NAMESPACE):
            if name_of(pod).startswith(DECODE_NAME) and not pod["metadata"].get("deletionTimestamp"):
                self.ctx.delete(self.ctx.rt("pods"), pod)

    def _replace_spec(self, key: str, wanted: Obj) -> None:
        current = self.ctx.store.get(key, NAMESPACE, wanted["metadata"]["name"])
        if current is None:
            self.ctx.create(key, wanted)
            return
        if current.get("spec") != wanted.get("spec") or current.get("data") != wanted.get("data"):
            draft = deep_copy(current)
            for part in ("spec", "data"):
                if part in wanted:
                    draft[part] = deep_copy(wanted[part])
            self.ctx.store.update(self.ctx.rt(key), draft)

    # ---- scenarios --------------------------------------------------------------
    def set(self, name: str) -> None:
        """Switch to scenario ``name`` (clearing any other first)."""
        scenario = SCENARIOS.get(name)
        if scenario is None:
            raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        if scenario.tpu_only and self.acc.kind != "tpu":
            raise ScenarioError(f"scenario {name!r} needs the TPU world (llmd-console sim --accelerator tpu)")
        self.clear()
        scenario.apply(self)
        self.active = name

    def clear(self) -> None:
        """Restore the healthy Pattern 1 world."""
        self.active = None
        if self.pools.pools.get(self.acc.pool) is not None and self.pools.pools[self.acc.pool].target < 1:
            self.pools.resize(self.acc.pool, 1)
        network_changed = not self.ctx.network.proxy_only_subnet
        self.ctx.network.proxy_only_subnet = True
        secret = hf_secret(SIM_HF_TOKEN)
        secret_changed = (self.ctx.store.get("secrets", NAMESPACE, HF_SECRET) or {}).get("data") != secret["data"]
        self._replace_spec("secrets", secret)
        current = self.ctx.store.get(DEPLOYMENTS, NAMESPACE, DECODE_NAME)
        replicas = int((current or {}).get("spec", {}).get("replicas", 1))
        self._reinstall(decode_deployment(self.acc, replicas))
        for key, obj in epp_objects(self.acc):
            if key == DEPLOYMENTS:
                self._reinstall(obj)
        self._replace_spec(ROUTES, route_manifest())
        if network_changed:
            self._recreate_gateway()
        if secret_changed:
            self.restart_decode_pods()

    def _recreate_gateway(self) -> None:
        gw = self.ctx.store.get(GATEWAYS, NAMESPACE, GATEWAY_NAME)
        if gw is not None:
            self.ctx.store.delete(self.ctx.rt(GATEWAYS), NAMESPACE, GATEWAY_NAME)
        self.ctx.create(GATEWAYS, gateway_manifest())


def _tpu_pool_empty(f: Faults) -> None:
    f.pools.resize(f.acc.pool, 0)


def _no_devices(f: Faults) -> None:
    # The accelerator request is gone from the values, so the device plugin mounts no chips.
    def change(draft: Obj) -> None:
        res = f._container(draft).setdefault("resources", {})
        for part in ("requests", "limits"):
            res.get(part, {}).pop(f.acc.resource, None)

    f.edit_decode(change)


def _pjrt_bounds(f: Faults) -> None:
    def change(draft: Obj) -> None:
        for var in f._container(draft).get("env") or []:
            if var.get("name") == "TPU_CHIPS_PER_HOST_BOUNDS":
                var["value"] = "2,4,1"

    f.edit_decode(change)


def _xla_timeout(f: Faults) -> None:
    # A startup probe budget (15 s + 4 x 30 s) shorter than weight loading plus XLA precompilation
    # (about 185 s once the weights are cached), so the kill lands in the middle of precompiling.
    def change(draft: Obj) -> None:
        f._container(draft)["startupProbe"]["failureThreshold"] = 5

    f.edit_decode(change)


def _oom(f: Faults) -> None:
    long_context = f.set_arg("--max-model-len", "32768")

    def change(draft: Obj) -> None:
        long_context(draft)
        res = f._container(draft).setdefault("resources", {})
        res.setdefault("limits", {})["memory"] = "16Gi"
        res.setdefault("requests", {})["memory"] = "16Gi"

    f.edit_decode(change)


def _gemma_tp4(f: Faults) -> None:
    def change(draft: Obj) -> None:
        c = f._container(draft)
        c["args"] = ["google/gemma-2b-it" if a == "Qwen/Qwen2.5-3B-Instruct" else a for a in c.get("args") or []]

    f.edit_decode(change)


def _hf_403(f: Faults) -> None:
    f._replace_spec("secrets", hf_secret("YOUR_HUGGINGFACE_TOKEN"))
    f.restart_decode_pods()


def _gateway_no_address(f: Faults) -> None:
    f.ctx.network.proxy_only_subnet = False
    f._recreate_gateway()


def _route_missing(f: Faults) -> None:
    if f.ctx.store.get(ROUTES, NAMESPACE, ROUTE_NAME) is not None:
        f.ctx.store.delete(f.ctx.rt(ROUTES), NAMESPACE, ROUTE_NAME)


def _route_port(f: Faults) -> None:
    f._replace_spec(ROUTES, route_manifest(port=8000))


def _epp_down(f: Faults) -> None:
    # The EPP is pointed at a pool name that does not exist, so it never reports SERVING.
    wanted = next(obj for key, obj in epp_objects(f.acc) if key == DEPLOYMENTS)
    c = wanted["spec"]["template"]["spec"]["containers"][0]
    args = [str(a) for a in c.get("args") or []]
    args[args.index("--pool-name") + 1] = "gaie-pattern-1"
    c["args"] = args
    f._reinstall(wanted)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "tpu-pool-empty",
            "The accelerator node pool is scaled to 0: the decode pod is Pending (FailedScheduling).",
            _tpu_pool_empty,
        ),
        Scenario(
            "no-tpu-devices",
            "The decode pod requests no accelerator: vLLM crashes with 'No TPU devices found' (CrashLoopBackOff).",
            _no_devices,
        ),
        Scenario(
            "pjrt-bounds",
            "TPU_CHIPS_PER_HOST_BOUNDS does not match the 2x2 host: PJRT fails to initialize the TPU.",
            _pjrt_bounds,
            tpu_only=True,
        ),
        Scenario(
            "xla-timeout",
            "The startup probe allows less time than XLA precompilation takes: the container is restarted.",
            _xla_timeout,
        ),
        Scenario(
            "oom",
            "--max-model-len 32768 under a 16Gi memory limit: the container is OOMKilled while loading.",
            _oom,
        ),
        Scenario(
            "gemma-tp4",
            "google/gemma-2b-it with tensor parallelism 4: the shard_map ValueError at load time.",
            _gemma_tp4,
            tpu_only=True,
        ),
        Scenario(
            "hf-403",
            "The huggingface-token Secret holds a bad token and the pod restarts: 403 Forbidden downloading.",
            _hf_403,
        ),
        Scenario(
            "gateway-no-address",
            "No proxy-only subnet in the region: the Gateway is never Programmed and gets no address.",
            _gateway_no_address,
        ),
        Scenario(
            "httproute-missing",
            "The HTTPRoute is deleted: 0 attached routes and 'fault filter abort' from the gateway.",
            _route_missing,
        ),
        Scenario(
            "httproute-port",
            "The HTTPRoute's InferencePool backendRef carries a port: the route is not accepted.",
            _route_port,
        ),
        Scenario(
            "epp-down",
            "The EPP is started for a pool that does not exist: it never becomes ready; requests fail closed.",
            _epp_down,
        ),
    )
}
