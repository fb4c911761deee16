"""Deploy: Pattern 1 rendered from the config and server-side applied object by object, or the
config's deploy steps run as commands (previewed by ``deploy_plan``); followed until the pods
are Ready, the request path is healthy and a first inference answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from llmd_console.actions.deploy_plan import FIELD_MANAGER
from llmd_console.actions.follow import Waiting, first_inference, path_healthy, rollout_done
from llmd_console.actions.safety import explain
from llmd_console.actions.steps import Progress, ProgressFn, StepFailed, run_command
from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config
from llmd_console.manifests import render
from llmd_console.manifests.render import PLURALS, deploy_namespace


@dataclass(frozen=True)
class FollowTimes:
    """How long to follow each phase after the deploy, in seconds (TPU startup takes minutes)."""

    rollout: float = 1800.0
    path: float = 600.0
    inference: float = 600.0


async def run_deploy(kube: KubeClient, config: Config, progress: ProgressFn, *, force: bool = False) -> str:
    """Apply each manifest (or run each step) in order, reporting progress; stops at the first
    failure with :class:`StepFailed` naming the step and its error. ``force`` takes over fields
    another field manager owns (after the preview showed the conflict)."""
    d = config.deploy
    if d.steps:
        for i, argv in enumerate(d.steps):
            label = " ".join(argv)
            progress(Progress(i, len(d.steps), label, "running"))
            try:
                output = await run_command(argv, d.step_timeout_seconds)
            except StepFailed as exc:
                progress(Progress(i, len(d.steps), label, "failed", str(exc)))
                raise
            progress(Progress(i, len(d.steps), label, "done", output[-2000:]))
        return f"{len(d.steps)} step(s) done"
    manifests = render(config, deploy_namespace(config))
    for i, m in enumerate(manifests):
        label = f"apply {m.label}"
        progress(Progress(i, len(manifests), label, "running"))
        try:
            await kube.apply(m.path, m.obj, field_manager=FIELD_MANAGER, force=force)
        except KubeError as exc:
            message = explain(exc, PLURALS[m.kind][1])
            progress(Progress(i, len(manifests), label, "failed", message))
            raise StepFailed(label, message) from None
        progress(Progress(i, len(manifests), label, "done"))
    return f"{len(manifests)} object(s) applied"


async def follow_deploy(
    kube: KubeClient, config: Config, progress: ProgressFn, times: FollowTimes | None = None
) -> str:
    """After the deploy: the model and EPP rollouts Ready, the request path healthy, and a first
    inference answered, each as a progress step. Raises :class:`StepFailed` at the first that is not."""
    t = times or FollowTimes()
    ns = deploy_namespace(config)
    r = config.resources
    n = 4

    def waiting(i: int, label: str) -> Waiting:
        return lambda why: progress(Progress(i, n, label, "running", why))

    phases: tuple[tuple[str, Callable[[Waiting], Awaitable[str]]], ...] = (
        (f"rollout {r.decode_deployment}", lambda w: rollout_done(kube, ns, r.decode_deployment, t.rollout, on_wait=w)),
        (f"rollout {r.epp}", lambda w: rollout_done(kube, ns, r.epp, t.rollout, on_wait=w)),
        ("request path", lambda w: path_healthy(kube, config, ns, t.path, w)),
        ("first inference", lambda w: first_inference(kube, config, ns, t.inference, w)),
    )
    said = ""
    for i, (label, wait) in enumerate(phases):
        progress(Progress(i, n, label, "running"))
        try:
            said = await wait(waiting(i, label))
        except Exception as exc:  # NotReady or the API's refusal: that phase failed
            progress(Progress(i, n, label, "failed", explain(exc)))
            raise StepFailed(label, explain(exc)) from None
        progress(Progress(i, n, label, "done", said))
    return said


async def deploy(
    kube: KubeClient, config: Config, progress: ProgressFn, times: FollowTimes | None = None, *, force: bool = False
) -> str:
    """Run the deploy and follow it: done only when the first inference has answered."""
    applied = await run_deploy(kube, config, progress, force=force)
    answered = await follow_deploy(kube, config, progress, times)
    return f"{applied}; {answered}"
