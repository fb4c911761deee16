"""The console's rendered Pattern 1 and the simulator's healthy world are the same objects: a
deploy previewed against a fresh world (TPU or GPU, the EPP's /metrics authenticated or not, the
config saying the same) changes nothing, so pressing D on the untouched demo shows every object
unchanged, and confirming it rolls nothing out (no Deployment's spec changes, no pod is replaced)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from llmd_console.actions.deploy import run_deploy
from llmd_console.actions.deploy_plan import plan_deploy
from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config
from llmd_console.manifests import render
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from tests.actions.conftest import Recorder
from tests.conftest import TEST_SPEED

WORLDS: dict[str, dict[str, Any]] = {
    "tpu": {},
    "tpu-metrics-auth": {"epp_metrics_auth": True},
    "gpu": {"accelerator": "gpu", "image": "ghcr.io/llm-d/llm-d-cuda:v0.4.0", "gpu_accelerator": "nvidia-h100-80gb"},
}


@pytest.fixture(scope="module", params=list(WORLDS))
def sim(request: pytest.FixtureRequest) -> Iterator[SimCluster]:
    """A fresh world, untouched before the preview."""
    deploy = WORLDS[request.param]
    options = SimOptions(
        speed=TEST_SPEED,
        seed=11,
        accelerator=str(deploy.get("accelerator", "tpu")),
        epp_metrics_auth=bool(deploy.get("epp_metrics_auth", False)),
    )
    with SimCluster(options) as cluster:
        yield cluster


@pytest.fixture()
def matching(config: Config, request: pytest.FixtureRequest) -> Config:
    """The config that describes the module's world."""
    name = request.node.callspec.params["sim"]
    return replace(config, deploy=replace(config.deploy, **WORLDS[name]))


async def test_a_deploy_preview_on_the_fresh_world_changes_nothing(kube: KubeClient, matching: Config) -> None:
    plan = await plan_deploy(kube, matching)
    changed = [(d.label, d.change, d.error, d.lines) for d in plan.diffs if d.change != "unchanged"]
    assert changed == [], changed
    assert plan.warnings == ()
    # Everything the console would apply is there: nothing left for a deploy to create.
    assert len(plan.diffs) == (12 if matching.deploy.epp_metrics_auth else 10)


async def workloads(kube: KubeClient, config: Config) -> dict[str, object]:
    """Each Deployment's generation (a changed spec bumps it) and the pods, by name."""
    out: dict[str, object] = {}
    for name in (config.resources.epp, config.resources.decode_deployment):
        dep = await kube.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}")
        out[name] = dep["metadata"]["generation"]
    pods = await kube.get(f"/api/v1/namespaces/{NAMESPACE}/pods")
    out["pods"] = sorted(p["metadata"]["name"] for p in pods["items"])
    return out


async def test_confirming_it_rolls_nothing_out(kube: KubeClient, matching: Config) -> None:
    before = await workloads(kube, matching)
    applied = await run_deploy(kube, matching, Recorder())
    assert applied == f"{len(render(matching, NAMESPACE))} object(s) applied"
    assert await workloads(kube, matching) == before
