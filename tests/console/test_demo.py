"""``llmd-console demo`` starts its simulator beside the first frame and leaves nothing behind."""

from __future__ import annotations

import threading

import httpx
import yaml

from llmd_console.console_main import DemoCluster


def test_demo_cluster_serves_then_cleans_up() -> None:
    demo = DemoCluster(50.0, "gpu", None)
    assert demo.ready.wait(30) and demo.error is None
    server = yaml.safe_load(demo.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    nodes = httpx.get(f"{server}/api/v1/nodes").json()["items"]
    assert any("nvidia.com/gpu" in n["status"]["allocatable"] for n in nodes)
    directory = demo.kubeconfig.parent
    demo.stop()
    assert not directory.exists()
    assert not [t for t in threading.enumerate() if t.name == "llmd-sim"]
    try:
        httpx.get(f"{server}/version", timeout=1)
    except httpx.HTTPError:
        pass
    else:
        raise AssertionError("the simulator still answers after the demo ended")


def test_the_demo_takes_a_namespace_before_or_after_its_name() -> None:
    from llmd_console.cli import build_parser

    parser = build_parser()
    for argv in (["demo", "-n", "all"], ["-n", "all", "demo"]):
        assert parser.parse_args(argv).namespace == "all", argv
    assert getattr(parser.parse_args(["demo"]), "namespace", None) is None
