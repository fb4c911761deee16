"""Metrics endpoints that misbehave: each is an endpoint state in words, the scrape stays
bounded in bytes and time, and the other endpoints are read as usual.

The pod proxy is served here by a small HTTP server that answers as a broken pod would
behind the API server's proxy; the client, scraper and parser are the console's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from llmd_console.cluster.kube import KubeClient
from llmd_console.metrics.scrape import Scraper, Target

GOOD = b"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 2\n"
BIG = 50 * 1024 * 1024


async def pod_metrics(request: web.Request) -> web.StreamResponse:
    pod = request.match_info["pod"].partition(":")[0]
    if pod == "good":
        return web.Response(body=GOOD, content_type="text/plain")
    if pod == "garbage":
        return web.Response(body=b"\x00\xff{{{ this is not metrics ]]]\n\x1b[2J", content_type="text/plain")
    if pod == "html":
        return web.Response(text="<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", content_type="text/html")
    if pod == "unauthorized":
        return web.json_response({"kind": "Status", "code": 401, "message": "Unauthorized"}, status=401)
    if pod == "missing":
        return web.Response(text="404 page not found", status=404)
    if pod == "huge":
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(BIG // len(chunk)):
                await response.write(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response
    if pod == "slow":
        await asyncio.sleep(4)
    return web.Response(status=500)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Path]:
    app = web.Application()
    app.router.add_get("/api/v1/namespaces/ns/pods/{pod}/proxy/metrics", pod_metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "ns"}}],
                "current-context": "x",
            }
        )
    )
    yield kubeconfig
    await runner.cleanup()


async def test_every_broken_endpoint_is_a_state_in_words(server: Path) -> None:
    client = await KubeClient.connect(str(server), None, None, 5.0)
    scraper = Scraper(client, interval=0.5, max_bytes=1024 * 1024, timeout=1.0)
    names = ("good", "garbage", "html", "unauthorized", "missing", "huge", "slow")
    targets = [Target(f"ns/{name}", "vllm", 8000) for name in names]
    try:
        await scraper.round(targets)
    finally:
        await client.close()
    errors = {target.key.partition("/")[2]: history.error for target, history in scraper.endpoints.items()}
    assert errors["good"] == ""
    assert len(scraper.endpoints[targets[0]].times) == 1
    assert "not the Prometheus text format" in errors["garbage"]
    assert "an HTML page" in errors["html"]
    # This server refuses the port-forward the scraper tries next: both refusals are told.
    assert "(401" in errors["unauthorized"] and "a port-forward failed too" in errors["unauthorized"]
    assert "no /metrics on port 8000 (404)" in errors["missing"]
    assert "too large" in errors["huge"] and "1,048,576 bytes" in errors["huge"]
    assert "timed out" in errors["slow"]  # its 4 s are not waited for: the timeout is 1 s
