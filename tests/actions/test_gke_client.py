"""The Container API client against the simulator's: pools listed with their accelerator, an
unknown pool's error, a token from gcloud (run as an argument list, kept a while, asked again
when refused), and bounded step output."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from llmd_console.actions.facts import read_facts
from llmd_console.actions.nodepool import plan_pool
from llmd_console.actions.steps import MAX_OUTPUT, StepFailed, run_command
from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config
from llmd_console.gke import GkeError, NodePoolClient
from llmd_console.gke.client import TOKEN_SECONDS
from llmd_console.gke.credentials import CredentialsError, access_token
from tests.conftest import require_tool


async def test_pools_are_listed_with_their_accelerator(gke: NodePoolClient) -> None:
    pools = {p.name: p for p in await gke.list_pools()}
    assert set(pools) == {"default-pool", "tpu-v6e-pool"}
    assert (pools["default-pool"].accelerator, pools["default-pool"].chips_per_node) == ("", 0)
    tpu = pools["tpu-v6e-pool"]
    assert (tpu.machine_type, tpu.node_count, tpu.hosts_per_slice) == ("ct6e-standard-4t", 1, 1)


async def test_an_unknown_pool_is_an_error_naming_it(gke: NodePoolClient) -> None:
    with pytest.raises(GkeError) as caught:
        await gke.get_pool("no-such-pool")
    assert caught.value.status == 404 and "no-such-pool" in str(caught.value)
    with pytest.raises(ValueError, match="negative"):
        await gke.set_size("tpu-v6e-pool", -1)


async def test_a_multi_host_slice_is_warned_about(gke: NodePoolClient, kube: KubeClient, config: Config) -> None:
    pool = replace(await gke.get_pool("tpu-v6e-pool"), tpu_topology="4x4")
    plan = plan_pool(config, pool, 8, await read_facts(kube))
    assert any("multi-host TPU slice (4x4, 4 nodes)" in w for w in plan.warnings), plan.warnings


async def test_the_token_comes_from_gcloud(
    gke: NodePoolClient, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("gcloud")
    token = tmp_path / "token"
    token.write_text("simulated-access-token\n")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", str(token))
    assert await access_token("gcloud") == "simulated-access-token"
    with_token = NodePoolClient(replace(config.gke, auth="gcloud"))
    assert len(await with_token.list_pools()) == 2
    assert await access_token("none") is None


async def test_a_token_is_kept_and_asked_again_when_refused(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("gcloud")
    token = tmp_path / "token"
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", str(token))
    accepted = {"Bearer first"}
    seen: list[str] = []

    async def pools(request: web.Request) -> web.Response:
        """A Container API that takes only the tokens not yet revoked."""
        seen.append(request.headers.get("Authorization", ""))
        if seen[-1] not in accepted:
            return web.json_response({"error": {"code": 401, "message": "invalid credentials"}}, status=401)
        return web.json_response({"nodePools": []})

    app = web.Application()
    app.router.add_get("/v1/{path:.*}/nodePools", pools)
    async with TestServer(app, host="127.0.0.1") as server:
        gke = NodePoolClient(replace(config.gke, endpoint=str(server.make_url("/")), auth="gcloud"))
        now = [0.0]
        gke.clock = lambda: now[0]
        token.write_text("first\n")
        await gke.list_pools()
        token.write_text("second\n")
        await gke.list_pools()  # no gcloud run: the first is kept
        assert seen == ["Bearer first"] * 2 and gke.token_kept == "first"
        accepted = {"Bearer second"}  # the first is revoked: refused once, then the new one
        await gke.list_pools()
        assert seen[2:] == ["Bearer first", "Bearer second"] and gke.token_kept == "second"
        token.write_text("third\n")
        now[0] += TOKEN_SECONDS  # old enough to ask again, refused or not
        accepted = {"Bearer third"}
        await gke.list_pools()
        assert seen[4:] == ["Bearer third"]
        accepted = set()  # a new token refused as well: the error, not a loop
        with pytest.raises(GkeError) as caught:
            await gke.list_pools()
        assert caught.value.status == 401 and seen[5:] == ["Bearer third", "Bearer third"]


async def test_no_token_says_what_was_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CredentialsError, match="gcloud is not installed"):
        await access_token("auto")


async def test_step_output_is_bounded_and_a_missing_binary_named() -> None:
    out = await run_command((sys.executable, "-c", "print('x' * 1_000_000)"), 60.0)
    assert len(out) == MAX_OUTPUT
    with pytest.raises(StepFailed, match="not installed"):
        await run_command(("no-such-binary-for-llmd",), 5.0)
    with pytest.raises(StepFailed, match="still running after"):
        await run_command((sys.executable, "-c", "import time; time.sleep(30)"), 0.5)
