"""An EPP whose /metrics wants a bearer token (upstream's --metrics-endpoint-auth default): the
API server's pod proxy passes no token on, so the real kubectl gets 401; the scrape source says
so in words, and with a token configured reads the endpoint over a port-forward."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config, MetricsConfig
from llmd_console.metrics.catalog import BY_KEY
from llmd_console.metrics.readings import Reader
from llmd_console.metrics.runner import endpoint_token
from llmd_console.metrics.scrape import Scraper, Target
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.apiserver.reviews import SIM_TOKEN
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import TEST_SPEED, Kubectl
from tests.metrics.world import pattern1_targets

INTERVAL = 0.2


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    """Pattern 1 with the EPP's metrics authentication on."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=7, epp_metrics_auth=True)) as cluster:
        yield cluster


def scrape(kubeconfig: Path, targets: list[Target], metrics: MetricsConfig) -> Scraper:
    """Two rounds with the token the config gives (the second after a port-forward was chosen)."""

    async def scenario() -> Scraper:
        client = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
        scraper = Scraper(client, interval=INTERVAL, token=endpoint_token(Config(metrics=metrics), client))
        try:
            for _ in range(2):
                await scraper.round(targets)
                await asyncio.sleep(INTERVAL)
        finally:
            await client.close()
        return scraper

    return asyncio.run(scenario())


def epp_error(scraper: Scraper) -> str:
    return next(h.error for t, h in scraper.endpoints.items() if t.source == "epp")


def test_the_proxy_gets_401_and_the_pane_says_which_token_to_set(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl
) -> None:
    targets = pattern1_targets(kubectl)
    epp = next(t for t in targets if t.source == "epp")
    refused = kubectl.run("get", "--raw", epp.path, check=False)
    # kubectl takes the pod's 401 for its own: the confusing message operators meet.
    assert "You must be logged in to the server" in refused and "# TYPE" not in refused, refused
    scraper = scrape(kubeconfig, targets, MetricsConfig())
    error = epp_error(scraper)
    assert "wants a bearer token (401" in error and "metrics.token_file" in error
    assert not scraper.forwarded
    # The model server wants no token: it is read through the proxy as before.
    assert all(not h.error for t, h in scraper.endpoints.items() if t.source == "vllm")


def test_a_configured_token_reads_the_epp_over_a_port_forward(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl, tmp_path: Path
) -> None:
    targets = pattern1_targets(kubectl)
    token_file = tmp_path / "token"
    token_file.write_text(SIM_TOKEN + "\n")
    scraper = scrape(kubeconfig, targets, MetricsConfig(token_file=str(token_file)))
    assert epp_error(scraper) == ""
    assert {t.source for t in scraper.forwarded} == {"epp"}
    assert "EPP via port-forward" in scraper.feed().source
    ready = Reader(INTERVAL).read(BY_KEY["epp_ready"], scraper.histories("epp"), "epp")[0]
    assert ready.value == 1
    # The kubeconfig's own token, when allowed, works the same way.
    assert epp_error(scrape(kubeconfig, targets, MetricsConfig(kubeconfig_token=True))) == ""


def test_a_wrong_token_a_missing_file_and_a_denied_identity_are_told_apart(
    sim: SimCluster, kubeconfig: Path, kubectl: Kubectl, tmp_path: Path
) -> None:
    targets = pattern1_targets(kubectl)
    wrong = tmp_path / "wrong"
    wrong.write_text("not-a-token")
    assert "refused the bearer token (401)" in epp_error(
        scrape(kubeconfig, targets, MetricsConfig(token_file=str(wrong)))
    )
    missing = tmp_path / "missing"
    assert f"cannot read metrics.token_file {missing}" in epp_error(
        scrape(kubeconfig, targets, MetricsConfig(token_file=str(missing)))
    )
    sim.ctx.denied.add("/metrics")
    try:
        error = epp_error(scrape(kubeconfig, targets, MetricsConfig(kubeconfig_token=True)))
    finally:
        sim.ctx.denied.discard("/metrics")
    assert "may not GET /metrics" in error and 'nonResourceURLs ["/metrics"]' in error
