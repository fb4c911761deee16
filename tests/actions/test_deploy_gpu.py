"""The GPU variant, end to end: in a simulated GPU cluster, the runbook's objects removed and
Pattern 1 deployed for NVIDIA GPUs until a first inference answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmd_console.actions.deploy import FollowTimes, deploy
from llmd_console.actions.deploy_plan import plan_deploy
from llmd_console.actions.facts import read_facts
from llmd_console.actions.undeploy import undeploy
from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config, DeployConfig
from llmd_console.manifests import render
from llmd_console.manifests.render import as_yaml
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from tests.actions.conftest import Recorder
from tests.conftest import TEST_SPEED, require_tool


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    """Pattern 1 on an H100 node pool."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=5, accelerator="gpu")) as cluster:
        yield cluster


async def test_gpu_deploy_answers_a_first_inference(kube: KubeClient, config: Config) -> None:
    gpu = replace(config, deploy=DeployConfig(accelerator="gpu", image="ghcr.io/llm-d/llm-d-cuda:v0.4.0"))
    await undeploy(kube, gpu, NAMESPACE)
    plan = await plan_deploy(kube, gpu, await read_facts(kube))
    assert [d.change for d in plan.diffs] == ["create"] * 10, plan.diffs
    assert plan.cost is not None
    assert plan.cost.per_hour_after == pytest.approx(4 * config.prices["nvidia-h100-80gb"])
    assert plan.warnings == ()
    said = await deploy(kube, gpu, Recorder(), FollowTimes(rollout=90.0, path=60.0, inference=60.0))
    assert "first inference answered" in said


async def test_a_deploy_by_steps_is_followed_to_a_first_inference(
    kube: KubeClient, config: Config, kubeconfig: Path, tmp_path: Path
) -> None:
    # Deploy steps as the runbook runs helmfile: a command from the config, no shell; here kubectl
    # applying the same manifests from a file.
    gpu = DeployConfig(accelerator="gpu", image="ghcr.io/llm-d/llm-d-cuda:v0.4.0")
    await undeploy(kube, replace(config, deploy=gpu), NAMESPACE)
    manifests = tmp_path / "pattern1.yaml"
    manifests.write_text(as_yaml(render(replace(config, deploy=gpu), NAMESPACE)))
    kubectl = require_tool("kubectl")
    step = (kubectl, f"--kubeconfig={kubeconfig}", "apply", "--server-side", "-f", str(manifests))
    steps = replace(config, deploy=replace(gpu, steps=(step,)))
    plan = await plan_deploy(kube, steps)
    assert plan.steps == (step,) and plan.command == step
    progress = Recorder()
    said = await deploy(kube, steps, progress, FollowTimes(rollout=90.0, path=60.0, inference=60.0))
    assert "first inference answered" in said
    (ran,) = [p for p in progress.seen if p.step == " ".join(step) and p.state == "done"]
    assert "serverside-applied" in ran.detail
