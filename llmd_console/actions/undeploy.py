"""Undeploy: the runbook's cleanup option 2, the namespace's llm-d objects deleted (what the
deploy created), the namespace and the cluster kept. Confirmed by typing the namespace."""

from __future__ import annotations

from llmd_console.actions.diff import object_diff
from llmd_console.actions.follow import Waiting, wait_until
from llmd_console.actions.plan import ObjectDiff, Plan, Risk
from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config
from llmd_console.manifests import Manifest, render


async def _present(kube: KubeClient, manifests: list[Manifest]) -> list[tuple[Manifest, ObjectDiff]]:
    found: list[tuple[Manifest, ObjectDiff]] = []
    for m in manifests:
        try:
            live = await kube.get(m.path)
        except KubeError as exc:
            if exc.status == 404:
                continue
            raise
        found.append((m, object_diff(m.label, live, None)))
    return found


async def plan_undeploy(kube: KubeClient, config: Config, namespace: str) -> Plan:
    """Which of the llm-d objects exist in ``namespace``, each shown as deleted."""
    manifests = list(reversed(render(config, namespace)))
    present = await _present(kube, manifests)
    names = [f"{m.kind.lower()}/{m.name}" for m, _ in present]
    return Plan(
        action="undeploy",
        title=f"Undeploy llm-d from {namespace} ({len(present)} object(s))",
        target=namespace,
        namespace=namespace,
        changes=tuple(f"delete {m.label}" for m, _ in present) or ("nothing to delete",),
        command=("kubectl", "delete", "-n", namespace, *names),
        risk=Risk.DISRUPTIVE,
        diffs=tuple(d for _, d in present),
        warnings=(
            "serving stops; the namespace, its Secrets and the node pools stay (scale the pool to 0 to stop paying)",
        ),
    )


async def undeploy(
    kube: KubeClient, config: Config, namespace: str, seconds: float = 600.0, *, on_wait: Waiting | None = None
) -> str:
    """Delete the objects, routing first, then wait until every one is gone."""
    manifests = list(reversed(render(config, namespace)))
    for m in manifests:
        try:
            await kube.delete(m.path)
        except KubeError as exc:
            if exc.status != 404:
                raise

    async def check() -> tuple[str | None, str]:
        left = [m.label for m, _ in await _present(kube, manifests)]
        return (None, "still there: " + ", ".join(left)) if left else (f"{len(manifests)} object(s) gone", "")

    return await wait_until(check, seconds, f"undeploy from {namespace}", on_wait=on_wait)
