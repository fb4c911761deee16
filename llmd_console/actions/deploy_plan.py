"""The deploy's preview: each rendered object server-side applied with dryRun=All and diffed
against the live one, the equivalent command and its input, chips and cost before and after,
and warnings (no namespace, no token Secret, chips that are not free, refused objects)."""

from __future__ import annotations

from llmd_console.actions.diff import object_diff
from llmd_console.actions.facts import ClusterFacts, price_of
from llmd_console.actions.plan import Cost, ObjectDiff, Plan, Risk
from llmd_console.actions.safety import FORCE_HINT, TAKE_OVER, explain
from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config
from llmd_console.manifests import Manifest, render
from llmd_console.manifests.render import PLURALS, as_yaml, deploy_namespace

FIELD_MANAGER = "llmd-console"
APPLY_COMMAND = ("kubectl", "apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-")


async def _live(kube: KubeClient, m: Manifest) -> dict[str, object] | None:
    try:
        return await kube.get(m.path)
    except KubeError as exc:
        if exc.status == 404 and "not found" in exc.message.lower() and "could not find" not in exc.message:
            return None
        raise


async def preview_object(kube: KubeClient, m: Manifest, *, force: bool = False) -> tuple[ObjectDiff, str]:
    """The dry-run apply of one manifest diffed against the live object (or the server's
    refusal), and the conflict a force takes over ("" when none)."""
    resource = PLURALS[m.kind][1]
    try:
        live = await _live(kube, m)
        applied = await kube.apply(m.path, m.obj, field_manager=FIELD_MANAGER, dry_run=True)
    except KubeError as exc:
        if not (force and exc.status == 409):
            return ObjectDiff(m.label, "refused", error=explain(exc, resource)), ""
        conflict = explain(exc, resource)
        try:
            applied = await kube.apply(m.path, m.obj, field_manager=FIELD_MANAGER, dry_run=True, force=True)
        except KubeError as forced:
            return ObjectDiff(m.label, "refused", error=explain(forced, resource)), ""
        return object_diff(m.label, live, applied), conflict
    return object_diff(m.label, live, applied), ""


def model_cost(config: Config, before: int, after: int, accelerator: str) -> Cost:
    """The chips ``before`` and ``after`` model replicas request, and what those chips cost per hour."""
    chips = config.deploy.chips
    price = price_of(config.prices, accelerator)
    return Cost(
        before * chips, after * chips, before * chips * price, after * chips * price, "chips the model pods request"
    )


def accelerator_label(config: Config) -> str:
    """The node label value (the prices' key) of the configured accelerator."""
    d = config.deploy
    return d.tpu_accelerator if d.accelerator == "tpu" else d.gpu_accelerator


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


async def secret_present(kube: KubeClient, namespace: str, name: str) -> bool | None:
    """Whether Secret ``name`` exists, asked as a Table without the object, so its values never
    reach the console; None when the API will not say (RBAC)."""
    path = f"/api/v1/namespaces/{namespace}/secrets/{name}?includeObject=None"
    try:
        await kube.get_bytes(path, max_bytes=65536, accept=TABLE, seconds=kube.timeout)
    except KubeError as exc:
        return False if exc.status == 404 else None
    return True


async def plan_deploy(
    kube: KubeClient, config: Config, facts: ClusterFacts | None = None, *, force: bool = False
) -> Plan:
    """The deploy's preview: each object's diff (rendered mode) or each step (steps mode), the
    equivalent command(s), warnings, and the chips and cost before and after. ``force`` takes
    over the fields other field managers own (a Helm release's, kubectl's): the preview names
    them."""
    ns = deploy_namespace(config)
    d = config.deploy
    if d.steps:
        return Plan(
            action="deploy",
            title=f"Deploy with {len(d.steps)} step(s) into {ns}",
            target=ns,
            namespace=ns,
            changes=tuple(f"run: {' '.join(s)}" for s in d.steps),
            command=d.steps[0],
            risk=Risk.DISRUPTIVE,
            steps=d.steps,
        )
    manifests = render(config, ns)
    previews = [await preview_object(kube, m, force=force) for m in manifests]
    diffs = tuple(diff for diff, _ in previews)
    decode = config.resources.decode_deployment
    live_replicas = 0
    try:
        dep = await kube.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{decode}")
        live_replicas = int((dep.get("spec") or {}).get("replicas", 0))
    except KubeError:
        live_replicas = 0
    accelerator = accelerator_label(config)
    warnings = [f"{x.label}: {x.error}" for x in diffs if x.change == "refused"]
    if any("conflict: " in (x.error or "") for x in diffs):
        warnings.append(f"to take over the fields other managers own: '{TAKE_OVER}' in the command palette (ctrl+p)")
    warnings += [
        f"{x.label}: takes over the {conflict.removeprefix('conflict: ').removesuffix(FORCE_HINT)}"
        for x, (_, conflict) in zip(diffs, previews, strict=True)
        if conflict
    ]
    try:
        await kube.get(f"/api/v1/namespaces/{ns}")
    except KubeError as exc:
        if exc.status == 404:
            warnings.append(f"namespace {ns} does not exist: create it first (kubectl create namespace {ns})")
    if await secret_present(kube, ns, d.hf_secret) is False:
        warnings.append(
            f"Secret {d.hf_secret} is missing in {ns}: the model pods cannot start (CreateContainerConfigError); "
            f"create it first: kubectl create secret generic {d.hf_secret} --from-literal=HF_TOKEN=$HF_TOKEN -n {ns}"
        )
    extra = max(d.replicas - live_replicas, 0) * d.chips
    if facts is not None and extra > facts.free_chips(accelerator):
        warnings.append(
            f"{extra} more {accelerator} chip(s) are needed but {facts.free_chips(accelerator)} are free: "
            "the new model pods will stay Pending until nodes are added"
        )
    changes = tuple(f"{x.change} {x.label}" for x in diffs)
    return Plan(
        action="deploy-take-over" if force else "deploy",
        title=f"Deploy Pattern 1 ({d.model}, {d.accelerator}) into {ns}" + (", taking over fields" if force else ""),
        target=ns,
        namespace=ns,
        changes=changes,
        command=(*APPLY_COMMAND[:-2], *(["--force-conflicts"] if force else []), "-n", ns, "-f", "-"),
        risk=Risk.DISRUPTIVE,
        diffs=diffs,
        cost=model_cost(config, live_replicas, d.replicas, accelerator),
        warnings=tuple(warnings),
        command_input=as_yaml(manifests),
    )
