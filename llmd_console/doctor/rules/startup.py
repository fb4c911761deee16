"""Why model servers and the EPP do not start: Pending for want of chips, known crash lines
(``doctor.crashes``), OOMKilled, a startup probe that kills XLA precompilation, and a crash
loop nothing else explains."""

from __future__ import annotations

import math
import re

from llmd_console.doctor.crashes import Crash, classify
from llmd_console.doctor.evidence import Evidence, PodLog
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.rules.common import (
    HOST_BOUNDS,
    TOPOLOGY_LABEL,
    Rule,
    arg_value,
    containers,
    owner_deployment,
    resize_command,
    served_model,
    split,
    template_spec,
    text,
)
from llmd_console.models import Obj, Pod, Snapshot
from llmd_console.views.common import TPU_RESOURCE
from llmd_console.views.startup import StartupTracker

_WATCHED_ROLES = ("decode", "prefill", "epp")
# vLLM TPU's own account of each precompiled graph: "Compilation of ... finished in 14.71 [secs]."
_COMPILED = re.compile(r"Compilation of .{0,200}? finished in (\d{1,6}(?:\.\d+)?) \[secs\]")
RECOMMENDED_MODEL = "Qwen/Qwen2.5-3B-Instruct"


def _pods(snapshot: Snapshot) -> list[Pod]:
    return [p for _, p in sorted(snapshot.pods.items()) if p.role in _WATCHED_ROLES and not p.terminating]


def _deployment(pod: Pod, evidence: Evidence) -> tuple[str, Obj | None]:
    names = [split(k)[1] for k in evidence.raw("deployments") if split(k)[0] == pod.namespace]
    name = owner_deployment(pod.name, names)
    if name is None:
        return "", None
    return name, evidence.raw("deployments").get(f"{pod.namespace}/{name}")


def _container(dep: Obj | None) -> Obj:
    found = containers(template_spec(dep)) if dep else []
    return found[0] if found else {}


def pending_for_chips(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """A Pending pod the scheduler cannot place for want of TPU (or GPU) nodes."""
    out = []
    for pod in _pods(snapshot):
        if pod.phase != "Pending" or pod.node:
            continue
        events = [e for e in snapshot.events_of(pod.key) if e.reason == "FailedScheduling"]
        if not events:
            continue
        last = events[-1]
        if TPU_RESOURCE not in last.message and "node affinity/selector" not in last.message:
            continue
        tpu_nodes = [n for n in snapshot.nodes.values() if n.chips_total > 0 or n.topology]
        pool = evidence.config.gke.accelerator_pool
        pools = {p.name: p.nodes for p in snapshot.pools}
        size = pools.get(pool, 0)
        title = f"pod {pod.name} is Pending: no node has free {TPU_RESOURCE}" + (
            f" (node pool {pool} has {size} nodes)" if not tpu_nodes else ""
        )
        fix = _pending_fix(pod, evidence, len(tpu_nodes))
        out.append(
            Finding(
                "tpu-pool-empty" if not tpu_nodes else "pending-no-chips",
                "error",
                title,
                (Quote("Pod", pod.namespace, pod.name, f"FailedScheduling: {last.message}"),),
                fix,
                action="scale-node-pool",
                area="startup",
            )
        )
    return out


def _pending_fix(pod: Pod, evidence: Evidence, tpu_nodes: int) -> tuple[str, ...]:
    """Scale the pool up; with nodes there but every chip held (a rolling update on a single TPU
    node waits forever for the old pod's chips), a Recreate strategy is the other way out."""
    if not tpu_nodes:
        return (resize_command(evidence, 1), "kubectl get nodes -w")
    dep_name, _ = _deployment(pod, evidence)
    fix = [resize_command(evidence, tpu_nodes + 1)]
    if dep_name:
        fix.append(
            f"kubectl patch deployment {dep_name} -n {pod.namespace} --type=merge "
            '-p \'{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}\''
        )
    return tuple(fix)


def _latest_crash(logs: tuple[PodLog, ...]) -> tuple[Crash, str] | None:
    """The last known failure in the pod's logs: the current instance's, else the previous one's."""
    for log in sorted(logs, key=lambda entry: entry.previous):  # current first
        for line in reversed(log.lines):
            crash = classify(line)
            if crash is not None:
                return crash, line.strip()
    return None


def _crash_fix(crash: Crash, pod: Pod, evidence: Evidence) -> tuple[tuple[str, ...], str | None]:
    ns = pod.namespace
    dep_name, dep = _deployment(pod, evidence)
    target = f"deployment/{dep_name}" if dep_name else f"pod/{pod.name}"
    c = _container(dep)
    cname = text(c.get("name") or "vllm", 63)
    selector = template_spec(dep).get("nodeSelector") or {} if dep else {}
    topology = str(selector.get(TOPOLOGY_LABEL) or "2x2")
    if crash.id == "tpu-no-devices":
        chips = 4 if topology == "2x2" else 0
        return (
            "kubectl get nodes -L cloud.google.com/gke-tpu-topology,cloud.google.com/gke-tpu-accelerator",
            f"kubectl set resources {target} -n {ns} -c {cname} --requests={TPU_RESOURCE}={chips or 4} "
            f"--limits={TPU_RESOURCE}={chips or 4}",
        ), None
    if crash.id == "tpu-pjrt-bounds":
        bounds = HOST_BOUNDS.get(topology, "2,2,1")
        return (f"kubectl set env {target} -n {ns} -c {cname} TPU_CHIPS_PER_HOST_BOUNDS={bounds}",), None
    if crash.id == "tpu-shard-map":
        tp = arg_value(c, "--tensor-parallel-size") or "4"
        model = served_model(c) or "the model"
        return (
            f"# {model} does not shard by TP={tp}: serve a model that does (modelArtifacts.uri: "
            f"hf://{RECOMMENDED_MODEL}), or change TP and the chips together (ct6e-standard-1t, TP=1)",
            f"helmfile -e gke_tpu -n {ns} apply",
        ), None
    if crash.id in ("tpu-hbm-exhausted", "oom-killed"):
        max_len = arg_value(c, "--max-model-len") or "?"
        return (
            f"# --max-model-len is {max_len}: lower it (runbook: 1024 for a 2B model on 4 chips)",
            f"kubectl edit {target} -n {ns}  # args: --max-model-len=1024",
        ), None
    if crash.id in ("hf-forbidden", "hf-gated"):
        secret = evidence.config.deploy.hf_secret
        return (
            f"kubectl delete secret {secret} -n {ns}",
            f"kubectl create secret generic {secret} --from-literal=token=$HF_TOKEN "
            f"--from-literal=HF_TOKEN=$HF_TOKEN -n {ns}",
            f"kubectl delete pod {pod.name} -n {ns}",
        ), "restart-pods"
    if crash.id == "epp-pool-missing":
        pool = evidence.config.resources.inference_pool
        return (
            f"kubectl get inferencepools -n {ns}",
            f"kubectl edit {target} -n {ns}  # args: --pool-name {pool}",
        ), None
    return (f"kubectl logs {pod.name} -n {ns} --previous --tail=50",), None


def crash_lines(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """A pod that is not Ready and whose log shows a known failure."""
    out = []
    for pod in _pods(snapshot):
        if pod.is_ready:
            continue
        found = _latest_crash(evidence.logs_of(pod.key))
        if found is None:
            continue
        crash, line = found
        fix, action = _crash_fix(crash, pod, evidence)
        quotes = [Quote("Pod", pod.namespace, pod.name, text(line, 300))]
        container = pod.container(None)
        if container is not None and container.waiting:
            quotes.append(Quote("Pod", pod.namespace, pod.name, f"{container.waiting}, {pod.restarts} restarts"))
        out.append(
            Finding(crash.id, "error", f"pod {pod.name}: {crash.title}", tuple(quotes), fix, action, area="startup")
        )
    return out


def oom_killed(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """A model server container whose last exit was OOMKilled (no log line says so)."""
    out = []
    for pod in _pods(snapshot):
        container = next((c for c in pod.containers if c.last_exit == "OOMKilled"), None)
        if container is None or pod.is_ready:
            continue
        _, dep = _deployment(pod, evidence)
        c = _container(dep)
        limit = ((c.get("resources") or {}).get("limits") or {}).get("memory", "?")
        max_len = arg_value(c, "--max-model-len") or "?"
        crash = classify("OOMKilled")
        assert crash is not None
        fix, _ = _crash_fix(crash, pod, evidence)
        out.append(
            Finding(
                "oom-killed",
                "error",
                f"pod {pod.name}: OOMKilled with --max-model-len {max_len} under a {text(limit, 20)} memory limit",
                (
                    Quote("Pod", pod.namespace, pod.name, f"container {container.name} last state: OOMKilled"),
                    Quote("Pod", pod.namespace, pod.name, f"--max-model-len {max_len}, memory limit {text(limit, 20)}"),
                ),
                fix,
                area="startup",
            )
        )
    return out


def _observed(logs: tuple[PodLog, ...]) -> tuple[float | None, str, str]:
    """Of the instance that was killed (the previous one, else the current one): seconds from its
    first to its last startup line (read from vLLM's own timestamps), the phase it was in, and its
    last line."""
    for log in sorted(logs, key=lambda entry: not entry.previous):  # the killed (previous) instance first
        tracker = StartupTracker()
        for line in log.lines:
            tracker.feed(None, line)
        if tracker.started and tracker.last_at is not None:
            first = min(tracker.started.values())
            phase = ("device init", "download", "weights", "compile/warm-up", "server up")[tracker.current() or 0]
            return tracker.last_at - first, phase, log.lines[-1].strip() if log.lines else ""
    return None, "", ""


def _compiled_seconds(logs: tuple[PodLog, ...]) -> tuple[float, int]:
    """Seconds of XLA precompilation the killed instance reported, and how many graphs."""
    for log in sorted(logs, key=lambda entry: not entry.previous):
        times = [float(m.group(1)) for line in log.lines if (m := _COMPILED.search(line))]
        if times:
            return sum(times), len(times)
    return 0.0, 0


def startup_probe(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """The kubelet restarts the container because its startup probe ran out while vLLM was still
    starting (XLA precompilation on TPU takes minutes)."""
    out = []
    for pod in _pods(snapshot):
        if pod.is_ready:
            continue
        kills = [e for e in snapshot.events_of(pod.key) if "failed startup probe" in e.message]
        container = pod.container(None)
        if not kills or container is None or container.startup_probe is None:
            continue
        probe = container.startup_probe
        seen, phase, last_line = _observed(evidence.logs_of(pod.key))
        if seen is not None and seen < probe.budget / 2:
            # The log's clock disagrees with the kubelet's (a simulator running faster than real
            # time): the kill itself says the startup outlasted the budget; no figure is made up.
            seen = None
        # Room for the whole startup with half as much again to spare, and never under the runbook's 60.
        need = probe.failure_threshold
        if seen is not None and probe.period > 0:
            need = math.ceil((seen * 1.5 - probe.initial_delay) / probe.period)
        threshold = max(60, int(need))
        dep_name, _ = _deployment(pod, evidence)
        target = dep_name or pod.name
        compiled, graphs = _compiled_seconds(evidence.logs_of(pod.key))
        during = f", killed during {phase}" if phase else ""
        if graphs:
            during += f" after {compiled:.0f} s of XLA precompilation ({graphs} graphs)"
        observed = f"observed startup {seen:.0f} s{during}" if seen is not None else f"startup outlasted it{during}"
        out.append(
            Finding(
                "startup-probe-budget",
                "error",
                f"pod {pod.name}: the startup probe allows {probe.budget:.0f} s "
                f"({probe.initial_delay:g} + {probe.period:g} x {probe.failure_threshold:g}); "
                + observed
                + ": the container is restarted before XLA precompilation ends",
                (
                    Quote("Pod", pod.namespace, pod.name, kills[-1].message),
                    Quote("Pod", pod.namespace, pod.name, f"startup probe budget {probe.budget:.0f} s; {observed}"),
                    *((Quote("Pod", pod.namespace, pod.name, text(last_line, 300)),) if last_line else ()),
                ),
                (
                    f"kubectl patch deployment {target} -n {pod.namespace} --type=json -p "
                    f'\'[{{"op":"replace","path":"/spec/template/spec/containers/0/startupProbe/failureThreshold",'
                    f'"value":{threshold}}}]\'',
                ),
                area="startup",
            )
        )
    return out


def crash_loop(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """A container in CrashLoopBackOff that no known line or status explains."""
    out = []
    for pod in _pods(snapshot):
        container = pod.container(None)
        if container is None or container.waiting != "CrashLoopBackOff" or container.last_exit == "OOMKilled":
            continue
        if _latest_crash(evidence.logs_of(pod.key)) is not None:
            continue
        if any("failed startup probe" in e.message for e in snapshot.events_of(pod.key)):
            continue
        out.append(
            Finding(
                "crash-loop",
                "error",
                f"pod {pod.name} is in CrashLoopBackOff ({pod.restarts} restarts, "
                f"last exit {container.last_exit or '?'})",
                (Quote("Pod", pod.namespace, pod.name, f"CrashLoopBackOff, last exit {container.last_exit or '?'}"),),
                (f"kubectl logs {pod.name} -n {pod.namespace} --previous --tail=50",),
                area="startup",
            )
        )
    return out


def hf_secret(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """The Hugging Face token Secret lacks ``token`` or ``HF_TOKEN`` (the chart wants both)."""
    if evidence.secrets is None:
        return []
    out = []
    name = evidence.config.deploy.hf_secret
    namespaces = {p.namespace for p in _pods(snapshot) if p.role in ("decode", "prefill")}
    for ns in sorted(namespaces):
        keys = evidence.secrets.get(f"{ns}/{name}")
        if keys is None:
            continue
        lacking = [k for k in ("token", "HF_TOKEN") if k not in keys]
        if lacking:
            out.append(
                Finding(
                    "hf-secret-keys",
                    "warning" if len(lacking) == 1 else "error",
                    f"Secret {name} lacks {' and '.join(lacking)} (the chart expects both token and HF_TOKEN)",
                    (Quote("Secret", ns, name, "keys: " + (", ".join(sorted(keys)) or "(none)")),),
                    (
                        f"kubectl delete secret {name} -n {ns}",
                        f"kubectl create secret generic {name} --from-literal=token=$HF_TOKEN "
                        f"--from-literal=HF_TOKEN=$HF_TOKEN -n {ns}",
                    ),
                    area="startup",
                )
            )
    return out


RULES: tuple[Rule, ...] = (pending_for_chips, crash_lines, oom_killed, startup_probe, crash_loop, hf_secret)
