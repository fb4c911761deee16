"""The kubelet of every simulated node: image pulls, container states, probes,
restarts with CrashLoopBackOff, OOMKilled, and graceful termination."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.controllers.base import Controller, split_key
from llmd_console.sim.programs import Exit, program_for
from llmd_console.sim.programs.base import ConfigError, ContainerIO, SimpleHttp, resolve_env
from llmd_console.sim.programs.generic import listen_ports
from llmd_console.sim.runtime.clock import Timeline
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, name_of, namespace_of, set_condition
from llmd_console.sim.storage.registry import ResourceType

log = logging.getLogger("llmd_console.sim")

BACKOFF_START, BACKOFF_MAX = 10.0, 300.0
BIG_IMAGES = ("vllm", "llm-d-cuda")


@dataclass
class ContainerState:
    """The kubelet's view of one container."""

    name: str
    image: str
    restart_count: int = 0
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    ready: bool = False
    started: bool = False

    def status(self) -> Obj:
        """A containerStatuses entry."""
        image_ref = self.image if ":" in self.image.split("/")[-1] else f"{self.image}:latest"
        out: Obj = {
            "name": self.name,
            "image": image_ref,
            "imageID": "",
            "ready": self.ready,
            "restartCount": self.restart_count,
            "started": self.started,
            "state": self.state,
            "lastState": self.last_state,
        }
        if "running" in self.state or "terminated" in self.state:
            # Stable digests (not hash()) so a fixed seed gives the same world in every process.
            out["imageID"] = f"{image_ref.split(':')[0]}@sha256:{_digest(image_ref)}"
            out["containerID"] = f"containerd://{_digest(f'{self.name}/{self.restart_count}/{self.image}')}"
        return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _probe_port(container: Obj, port: Any) -> tuple[int | None, str]:
    """The kubelet's ResolveContainerPort: a number is probed whether the container declares it
    or not; a name must be one of the container's ports. (port, "") or (None, the error)."""
    if isinstance(port, int) and not isinstance(port, bool):
        number = port
    else:
        text = str(port)
        found = [p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == text]
        if found and isinstance(found[0], int):
            number = found[0]
        elif text.isdigit():  # "Last ditch effort - maybe it was an int stored as string?"
            number = int(text)
        else:
            return None, f'strconv.Atoi: parsing "{text}": invalid syntax'
    if not 0 < number < 65536:
        return None, f"invalid port number: {number}"
    return number, ""


def pod_phase(states: list[ContainerState], restart_policy: str, terminal: bool) -> str:
    """The kubelet's getPhase. A container waiting to restart counts as stopped, so a pod that
    ran never goes back to Pending; once a deleted pod's containers have all stopped, it is
    Succeeded (every exit code 0) or Failed."""
    waiting = running = stopped = succeeded = 0
    for c in states:
        if "running" in c.state:
            running += 1
        elif "terminated" in c.state:
            stopped += 1
            succeeded += c.state["terminated"].get("exitCode") == 0
        elif c.last_state.get("terminated"):
            stopped += 1  # restarting after an exit
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if terminal:
        return "Succeeded" if stopped == succeeded else "Failed"
    if restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    return "Failed" if restart_policy == "Never" else "Running"


class PodRunner:
    """Runs one pod's containers on its node."""

    def __init__(self, kubelet: Kubelet, pod: Obj) -> None:
        self.kubelet = kubelet
        self.ctx = kubelet.ctx
        self.ns, self.name = namespace_of(pod), name_of(pod)
        self.uid = pod["metadata"]["uid"]
        self.node = pod["spec"]["nodeName"]
        self.pod_ip = kubelet.allocate_ip(self.node)
        self.containers = {c["name"]: ContainerState(c["name"], c.get("image", "")) for c in pod["spec"]["containers"]}
        self.tasks: list[asyncio.Task[None]] = []
        self.pod_state: dict[str, Any] = {}
        self.start_time = self.ctx.clock.iso()
        self.terminating = False

    # ---- status ------------------------------------------------------------
    def pod(self) -> Obj | None:
        """The pod as stored now."""
        pod = self.ctx.store.get("pods", self.ns, self.name)
        return pod if pod is not None and pod["metadata"]["uid"] == self.uid else None

    def publish(self) -> None:
        """Write containerStatuses, phase and conditions."""
        now = self.ctx.clock.iso()
        states = list(self.containers.values())
        all_ready = all(c.ready for c in states)

        def update(draft: Obj) -> None:
            st = draft.setdefault("status", {})
            st["containerStatuses"] = [c.status() for c in states]
            st["hostIP"] = self.kubelet.node_ip(self.node)
            st["hostIPs"] = [{"ip": st["hostIP"]}]
            st["podIP"] = self.pod_ip
            st["podIPs"] = [{"ip": self.pod_ip}]
            st["startTime"] = self.start_time
            st["phase"] = pod_phase(states, draft["spec"].get("restartPolicy", "Always"), self.terminating)
            conds = st.setdefault("conditions", [])
            reason = "" if all_ready else "ContainersNotReady"
            not_ready = [c.name for c in states if not c.ready]
            message = "" if all_ready else f"containers with unready status: [{' '.join(not_ready)}]"
            set_condition(conds, "PodReadyToStartContainers", "True", "", "", now, probe_time=True)
            set_condition(conds, "Initialized", "True", "", "", now, probe_time=True)
            set_condition(conds, "Ready", "True" if all_ready else "False", reason, message, now, probe_time=True)
            set_condition(
                conds, "ContainersReady", "True" if all_ready else "False", reason, message, now, probe_time=True
            )
            set_condition(conds, "PodScheduled", "True", "", "", now, probe_time=True)
            order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
            conds.sort(key=lambda c: order.index(c["type"]) if c["type"] in order else 99)

        if self.pod() is not None:
            self.ctx.store.mutate(self.ctx.rt("pods"), self.ns, self.name, update, status_only=True)

    def event(self, etype: str, reason: str, message: str, container: str | None = None) -> None:
        """An event from this node's kubelet about the pod."""
        pod = self.pod()
        if pod is not None:
            self.ctx.record_event(
                pod,
                etype,
                reason,
                message,
                "kubelet",
                self.node,
                f"spec.containers{{{container}}}" if container else "",
            )

    # ---- running -----------------------------------------------------------------
    def start(self) -> None:
        """Start every container."""
        pod = self.pod()
        if pod is None:
            return
        self.publish()
        for spec in pod["spec"]["containers"]:
            self.tasks.append(asyncio.get_running_loop().create_task(self.run_container(spec)))

    async def pull(self, spec: Obj) -> None:
        """Pull the image unless the node has it."""
        image = spec.get("image", "")
        cache = self.kubelet.images.setdefault(self.node, set())
        cname = spec["name"]
        if image in cache and spec.get("imagePullPolicy") != "Always":
            self.event("Normal", "Pulled", f'Container image "{image}" already present on machine', cname)
            return
        self.event("Normal", "Pulling", f'Pulling image "{image}"', cname)
        seconds = 55.0 if any(b in image for b in BIG_IMAGES) else 3.0
        await self.ctx.clock.sleep(seconds)
        size = 11_534_336_000 if seconds > 10 else 48_000_000
        self.event(
            "Normal",
            "Pulled",
            f'Successfully pulled image "{image}" in {seconds:.3f}s '
            f"({seconds:.3f}s including waiting). Image size: {size} bytes.",
            cname,
        )
        cache.add(image)

    async def run_container(self, spec: Obj) -> None:
        """Pull, create, start, probe, and restart one container for the pod's life."""
        cname = spec["name"]
        cs = self.containers[cname]
        pulled = False
        while not self.terminating:
            if not pulled:
                await self.pull(spec)
                pulled = True
            pod = self.pod()
            if pod is None:
                return
            try:
                resolve_env(self.ctx, pod, spec)
            except ConfigError as err:
                cs.state = {"waiting": {"reason": "CreateContainerConfigError", "message": str(err)}}
                self.publish()
                self.event("Warning", "Failed", f"Error: {err}", cname)
                await self.ctx.clock.sleep(10.0)
                continue
            exit_result = await self.run_once(pod, spec, cs)
            if self.terminating:
                return
            now = self.ctx.clock.iso()
            terminated = {
                "exitCode": exit_result.code,
                "reason": exit_result.reason,
                "startedAt": cs.state.get("running", {}).get("startedAt", now),
                "finishedAt": now,
            }
            if exit_result.message:
                terminated["message"] = exit_result.message
            cs.ready = False
            cs.started = False
            cs.state = {"terminated": terminated}
            self.publish()
            policy = pod["spec"].get("restartPolicy", "Always")
            if policy == "Never" or (policy == "OnFailure" and exit_result.code == 0):
                return
            cs.last_state = {"terminated": terminated}
            backoff = min(BACKOFF_MAX, BACKOFF_START * 2 ** max(0, cs.restart_count))
            cs.restart_count += 1
            pod_ref = f"{self.name}_{self.ns}({self.uid})"
            cs.state = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {int(backoff) // 60}m{int(backoff) % 60}s restarting failed "
                    f"container={cname} pod={pod_ref}"
                    if backoff >= 60
                    else f"back-off {int(backoff)}s restarting failed container={cname} pod={pod_ref}",
                }
            }
            self.publish()
            self.event("Warning", "BackOff", f"Back-off restarting failed container {cname} in pod {pod_ref}", cname)
            await self.ctx.clock.sleep(backoff)
            self.event("Normal", "Pulled", f'Container image "{spec.get("image")}" already present on machine', cname)

    async def run_once(self, pod: Obj, spec: Obj, cs: ContainerState) -> Exit:
        """One run of the container: the program and its probes, whichever ends it first."""
        cname = spec["name"]
        node = self.ctx.store.get("nodes", "", self.node)
        sink = self.ctx.logs.start(self.uid, cname)
        io = ContainerIO(self.ctx, pod, spec, node, sink, self.pod_state)
        self.event("Normal", "Created", f"Created container: {cname}", cname)
        cs.state = {"running": {"startedAt": self.ctx.clock.iso()}}
        cs.ready = False
        cs.started = False
        self.publish()
        self.event("Normal", "Started", f"Started container {cname}", cname)
        program = asyncio.get_running_loop().create_task(program_for(spec.get("image", "")).run(io))
        probes = asyncio.get_running_loop().create_task(self.probe_loop(spec, cs))
        try:
            done, _ = await asyncio.wait({program, probes}, return_when=asyncio.FIRST_COMPLETED)
            if program in done:
                exc = program.exception()
                if exc is not None:
                    log.error("container %s/%s crashed in the simulator: %r", self.name, cname, exc)
                    sink.write(self.ctx.clock.now(), f"simulator error: {exc!r}")
                    return Exit(1, "Error")
                return program.result()
            killed_by = probes.result()
            return Exit(137, "Error", killed_by)
        finally:
            for task in (program, probes):
                task.cancel()
            self.ctx.processes.clear(self.uid, cname)
            sink.close()

    def probe(self, spec: Obj, probe: Obj) -> tuple[bool, str]:
        """Run one probe against the pod IP; (success, what the Unhealthy event says after
        "<Kind> probe ": "failed: <output>" or, when the probe cannot even be built,
        "errored and resulted in unknown state: <error>")."""
        process_for = self.ctx.processes.for_port
        target = probe.get("httpGet") or probe.get("grpc") or probe.get("tcpSocket") or {}
        port, error = _probe_port(spec, target.get("port"))
        if port is None:
            return False, f"errored and resulted in unknown state: {error}"
        # Like a real kubelet, dial the pod IP: whatever listens there answers, declared or not.
        proc = process_for(self.uid, port)
        if "httpGet" in probe:
            path = target.get("path", "/")
            url = f"http://{self.pod_ip}:{port}{path}"
            code = proc.probe(port, path) if proc else None
            if code is None:
                return False, f'failed: Get "{url}": dial tcp {self.pod_ip}:{port}: connect: connection refused'
            return 200 <= code < 400, f"failed: HTTP probe failed with statuscode: {code}"
        if proc is None:
            if "grpc" in probe:
                return (
                    False,
                    f'failed: timeout: failed to connect service "{self.pod_ip}:{port}" within 1s: '
                    "context deadline exceeded",
                )
            return False, f"failed: dial tcp {self.pod_ip}:{port}: connect: connection refused"
        if "grpc" in probe and proc.probe(port, str(target.get("service", ""))) != 200:
            return False, 'failed: service unhealthy (responded with "NOT_SERVING")'
        return True, ""

    async def probe_loop(self, spec: Obj, cs: ContainerState) -> str:
        """Startup, then readiness and liveness; returns why the container was killed."""
        cname = spec["name"]
        clock = self.ctx.clock
        startup = spec.get("startupProbe")
        if startup:
            timeline = Timeline(clock)  # probes every period from the container's start, without drift
            await timeline.sleep(float(startup.get("initialDelaySeconds", 0)))
            failures = 0
            while True:
                ok, output = self.probe(spec, startup)
                if ok:
                    break
                failures += 1
                self.event("Warning", "Unhealthy", f"Startup probe {output}", cname)
                if failures >= int(startup.get("failureThreshold", 3)):
                    self.event("Normal", "Killing", f"Container {cname} failed startup probe, will be restarted", cname)
                    return "startup probe failed"
                await timeline.sleep(float(startup.get("periodSeconds", 10)))
        cs.started = True
        readiness, liveness = spec.get("readinessProbe"), spec.get("livenessProbe")
        if not readiness:
            cs.ready = True
        self.publish()
        if not readiness and not liveness:
            await asyncio.Event().wait()
        if readiness and not startup:
            await clock.sleep(float(readiness.get("initialDelaySeconds", 0)))
        live_failures = 0
        next_ready, next_live = 0.0, float((liveness or {}).get("initialDelaySeconds", 0)) if not startup else 0.0
        elapsed = 0.0
        while True:
            if readiness and elapsed >= next_ready:
                ok, output = self.probe(spec, readiness)
                if ok != cs.ready:
                    cs.ready = ok
                    self.publish()
                if not ok:
                    self.event("Warning", "Unhealthy", f"Readiness probe {output}", cname)
                next_ready = elapsed + float(readiness.get("periodSeconds", 10))
            if liveness and elapsed >= next_live:
                ok, output = self.probe(spec, liveness)
                live_failures = 0 if ok else live_failures + 1
                if not ok:
                    self.event("Warning", "Unhealthy", f"Liveness probe {output}", cname)
                    if live_failures >= int(liveness.get("failureThreshold", 3)):
                        self.event(
                            "Normal", "Killing", f"Container {cname} failed liveness probe, will be restarted", cname
                        )
                        return "liveness probe failed"
                next_live = elapsed + float(liveness.get("periodSeconds", 10))
            step = min(x for x in (next_ready if readiness else None, next_live if liveness else None) if x is not None)
            wait = max(0.5, step - elapsed)
            await clock.sleep(wait)
            elapsed += wait

    async def terminate(self, grace: float) -> None:
        """Stop every container and remove the pod object."""
        self.terminating = True
        for cname, cs in self.containers.items():
            if "running" in cs.state:
                self.event("Normal", "Killing", f"Stopping container {cname}", cname)
        for task in self.tasks:
            task.cancel()
        await self.ctx.clock.sleep(min(grace, 2.0))
        now = self.ctx.clock.iso()
        for cs in self.containers.values():
            started = cs.state.get("running", {}).get("startedAt", now)
            cs.state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now}}
            cs.ready = False
        self.publish()
        self.ctx.processes.clear(self.uid)
        pod = self.pod()
        if pod is not None:
            self.ctx.store.delete(self.ctx.rt("pods"), self.ns, self.name)


class Kubelet(Controller):
    """One controller standing in for the kubelets of all nodes."""

    watches = ("pods", "nodes")

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.runners: dict[str, PodRunner] = {}
        self.images: dict[str, set[str]] = {}
        self._next_ip: dict[str, int] = {}

    def node_ip(self, node: str) -> str:
        """The node's InternalIP."""
        obj = self.ctx.store.get("nodes", "", node) or {}
        for addr in obj.get("status", {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return str(addr["address"])
        return "10.164.0.2"

    def allocate_ip(self, node: str) -> str:
        """The next pod IP in the node's podCIDR."""
        obj = self.ctx.store.get("nodes", "", node) or {}
        cidr = obj.get("spec", {}).get("podCIDR") or "10.8.0.0/24"
        n = self._next_ip.get(node, 2)
        self._next_ip[node] = n + 1
        net = ipaddress.ip_network(cidr)
        return str(net.network_address + (n % (net.num_addresses - 2) or 2))

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        if rtype.key == "nodes":
            if etype == "DELETED" and old is not None:
                gone = name_of(old)
                return [
                    f"{namespace_of(p)}/{name_of(p)}"
                    for p in self.ctx.store.list("pods")
                    if p.get("spec", {}).get("nodeName") == gone
                ]
            return []
        obj = new or old
        if obj is None or not obj.get("spec", {}).get("nodeName"):
            return []
        if (
            etype == "MODIFIED"
            and old is not None
            and new is not None
            and old["metadata"].get("deletionTimestamp") == new["metadata"].get("deletionTimestamp")
            and old["spec"].get("nodeName") == new["spec"].get("nodeName")
        ):
            return []
        return [f"{namespace_of(obj)}/{name_of(obj)}"]

    def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        pod = self.ctx.store.get("pods", ns, name)
        runner = self.runners.get(key)
        if pod is None:
            if runner is not None:
                for task in runner.tasks:
                    task.cancel()
                self.ctx.processes.clear(runner.uid)
                self.ctx.logs.drop(runner.uid)
                del self.runners[key]
            return
        if runner is not None and runner.uid != pod["metadata"]["uid"]:
            for task in runner.tasks:
                task.cancel()
            del self.runners[key]
            runner = None
        node_name = pod["spec"].get("nodeName")
        if not node_name:
            return
        if self.ctx.store.get("nodes", "", node_name) is None:
            # Pod GC: a pod bound to a node that no longer exists is removed at once.
            self.ctx.store.delete(self.ctx.rt("pods"), ns, name)
            return
        if pod["metadata"].get("deletionTimestamp"):
            if runner is not None and not runner.terminating:
                grace = float(pod["metadata"].get("deletionGracePeriodSeconds") or 0)
                asyncio.get_running_loop().create_task(runner.terminate(grace))
            elif runner is None:
                self.ctx.store.delete(self.ctx.rt("pods"), ns, name)
            return
        if runner is None:
            runner = PodRunner(self, pod)
            self.runners[key] = runner
            if self._adopt(runner, pod):
                return
            runner.start()

    def _adopt(self, runner: PodRunner, pod: Obj) -> bool:
        """Take over a pod whose containers already run (a pre-built world) without a task
        per pod, when it has nothing to probe."""
        statuses = pod.get("status", {}).get("containerStatuses") or []
        specs = pod["spec"]["containers"]
        if not statuses or not all("running" in s.get("state", {}) for s in statuses):
            return False
        if any(c.get(p) for c in specs for p in ("startupProbe", "readinessProbe", "livenessProbe")):
            return False
        for spec in specs:
            self.ctx.processes.set(runner.uid, spec["name"], SimpleHttp(listen_ports(spec)))
        runner.pod_ip = pod["status"].get("podIP", runner.pod_ip)
        return True
