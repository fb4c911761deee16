"""What the API server does to a Job or CronJob before storing it: batch/v1 defaults, the
generated selector and labels of a Job, and the restart policies a Job's pods may have."""

from __future__ import annotations

from llmd_console.sim.apiserver.errors import invalid
from llmd_console.sim.storage.objects import Obj, meta
from llmd_console.sim.storage.registry import ResourceType

JOB_RESTART_POLICIES = ("OnFailure", "Never")


def check_restart_policy(rtype: ResourceType, name: str, pod_spec: Obj, path: str) -> None:
    """A Job's pods must not restart forever (Always is refused, absence too)."""
    policy = pod_spec.get("restartPolicy")
    if policy in JOB_RESTART_POLICIES:
        return
    if policy is None or policy == "":
        why = 'Required value: valid values: "OnFailure", "Never"'
    else:
        why = f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"'
    raise invalid(rtype.kind, name, [(f"{path}.restartPolicy", why)], rtype.group)


def default_job(obj: Obj) -> None:
    """SetDefaults_Job and the Job strategy's PrepareForCreate: counts, backoff, completion
    mode, and, unless ``manualSelector``, the selector on the Job's uid and the labels that
    let the pods find their Job."""
    spec = obj.setdefault("spec", {})
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    if spec.get("manualSelector"):
        return
    m = meta(obj)
    uid, name = str(m.get("uid", "")), str(m.get("name", ""))
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template = spec.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    labels.update(
        {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
    )
    if not m.get("labels"):
        m["labels"] = dict(labels)  # a Job without labels takes its pods' labels


def default_cronjob(obj: Obj) -> None:
    """SetDefaults_CronJob."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
