"""TPU configuration of the model server Deployments: chips against the topology (GKE
Warden wants them all), requests against limits, ``TPU_CHIPS_PER_HOST_BOUNDS``, the node
selector's labels, the toleration, and the tensor-parallel size against the chips."""

from __future__ import annotations

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.rules.common import (
    HOST_BOUNDS,
    TOPOLOGY_LABEL,
    TPU_ACCELERATOR_LABEL,
    Rule,
    arg_value,
    chips,
    containers,
    env_value,
    is_tpu_workload,
    split,
    template_spec,
    text,
    topology_chips,
)
from llmd_console.models import Obj, Snapshot
from llmd_console.views.common import TPU_RESOURCE, quantity_int

_BOUNDS = "TPU_CHIPS_PER_HOST_BOUNDS"


def _finding(fid: str, severity: str, title: str, where: tuple[str, str], said: str, fix: tuple[str, ...]) -> Finding:
    namespace, name = where
    return Finding(
        fid,
        "error" if severity == "error" else "warning",
        f"Deployment {name}: {title}",
        (Quote("Deployment", namespace, name, said),),
        fix,
        area="tpu",
    )


def _topology(spec: Obj, evidence: Evidence) -> str:
    """The topology the pods aim at: the node selector's, else the single one of the TPU nodes."""
    selected = str((spec.get("nodeSelector") or {}).get(TOPOLOGY_LABEL) or "")
    if selected:
        return selected
    seen = {
        str(((n.get("metadata") or {}).get("labels") or {}).get(TOPOLOGY_LABEL) or "")
        for n in evidence.raw("nodes").values()
    } - {""}
    return seen.pop() if len(seen) == 1 else ""


def _check(key: str, dep: Obj, evidence: Evidence) -> list[Finding]:
    spec = template_spec(dep)
    if not is_tpu_workload(spec):
        return []
    where = split(key)
    namespace, name = where
    topology = _topology(spec, evidence)
    want = topology_chips(topology)
    out: list[Finding] = []
    for c in containers(spec):
        cname = text(c.get("name"), 63)
        requests, limits = chips(c, "requests"), chips(c, "limits")
        have = limits if limits is not None else requests
        set_chips = (
            f"kubectl set resources deployment/{name} -n {namespace} -c {cname} "
            f"--requests={TPU_RESOURCE}={want or 4} --limits={TPU_RESOURCE}={want or 4}"
        )
        if have is None:
            if c is containers(spec)[0]:
                out.append(
                    _finding(
                        "tpu-no-chip-request",
                        "error",
                        f"container {cname} selects TPU nodes but requests no {TPU_RESOURCE}: "
                        "vLLM will find no TPU devices",
                        where,
                        f"resources: no {TPU_RESOURCE}; nodeSelector {TOPOLOGY_LABEL}={topology or '?'}",
                        (set_chips,),
                    )
                )
            continue
        if requests is not None and limits is not None and requests != limits:
            out.append(
                _finding(
                    "tpu-requests-limits",
                    "error",
                    f"{TPU_RESOURCE} requests ({requests}) differ from limits ({limits}): they must be equal",
                    where,
                    f"requests {TPU_RESOURCE}={requests}, limits {TPU_RESOURCE}={limits}",
                    (set_chips,),
                )
            )
        if want and have != want:
            out.append(
                _finding(
                    "tpu-chips-topology",
                    "error",
                    f"requests {have} chips but a {topology} node has {want}: GKE Warden wants all {want}",
                    where,
                    f"{TPU_RESOURCE}: {have}; topology {topology}",
                    (set_chips,),
                )
            )
        bounds = env_value(c, "TPU_CHIPS_PER_HOST_BOUNDS")
        expected = HOST_BOUNDS.get(topology)
        if bounds is not None and expected and bounds.replace(" ", "") != expected:
            out.append(
                _finding(
                    "tpu-bounds-mismatch",
                    "error",
                    f"TPU_CHIPS_PER_HOST_BOUNDS={text(bounds, 20)} does not match the {topology} topology "
                    f"({expected}): PJRT will fail to initialize the TPU",
                    where,
                    f"env TPU_CHIPS_PER_HOST_BOUNDS={text(bounds, 20)}",
                    (f"kubectl set env deployment/{name} -n {namespace} -c {cname} {_BOUNDS}={expected}",),
                )
            )
        tp = quantity_int(arg_value(c, "--tensor-parallel-size") or arg_value(c, "-tp") or 0)
        if tp and have and tp > have:
            out.append(
                _finding(
                    "tp-exceeds-chips",
                    "error",
                    f"--tensor-parallel-size {tp} is more than the {have} chips requested",
                    where,
                    f"args --tensor-parallel-size {tp}; {TPU_RESOURCE}: {have}",
                    (f"kubectl edit deployment {name} -n {namespace}  # set --tensor-parallel-size {have}",),
                )
            )
    selector = spec.get("nodeSelector") or {}
    lacking = [label for label in (TOPOLOGY_LABEL, TPU_ACCELERATOR_LABEL) if label not in selector]
    if lacking:
        patch = {TOPOLOGY_LABEL: topology or "2x2", TPU_ACCELERATOR_LABEL: "tpu-v6e-slice"}
        body = ",".join(f'"{k}":"{v}"' for k, v in patch.items())
        out.append(
            _finding(
                "tpu-node-selector",
                "error",
                f"the node selector lacks {', '.join(lacking)}: TPU pods need both the topology and accelerator",
                where,
                "nodeSelector " + (", ".join(f"{text(k, 80)}={text(v, 40)}" for k, v in selector.items()) or "(none)"),
                (
                    f"kubectl patch deployment {name} -n {namespace} --type=merge "
                    f'-p \'{{"spec":{{"template":{{"spec":{{"nodeSelector":{{{body}}}}}}}}}}}\'',
                ),
            )
        )
    tolerations = [t for t in spec.get("tolerations") or [] if isinstance(t, dict)]
    if not any(
        t.get("key") == TPU_RESOURCE or (not t.get("key") and t.get("operator") == "Exists") for t in tolerations
    ):
        out.append(
            _finding(
                "tpu-no-toleration",
                "warning",
                f"no toleration for the {TPU_RESOURCE} taint: the pod cannot land on TPU nodes",
                where,
                "tolerations: " + (", ".join(text(t.get("key"), 60) for t in tolerations) or "(none)"),
                (
                    f"kubectl patch deployment {name} -n {namespace} --type=json -p "
                    f'\'[{{"op":"add","path":"/spec/template/spec/tolerations/-","value":'
                    f'{{"key":"{TPU_RESOURCE}","operator":"Exists","effect":"NoSchedule"}}}}]\'',
                ),
            )
        )
    return out


def tpu_config(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """Every TPU Deployment in view, checked against the runbook's TPU rules."""
    out: list[Finding] = []
    for key, dep in sorted(evidence.raw("deployments").items()):
        if snapshot.namespace and not key.startswith(snapshot.namespace + "/"):
            continue
        out += _check(key, dep, evidence)
    return out


RULES: tuple[Rule, ...] = (tpu_config,)
