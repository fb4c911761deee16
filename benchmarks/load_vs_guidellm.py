"""The same load from ``llmd-console load`` and from guidellm (a peer, from PyPI) against the
same simulated gateway: TTFT p50/p99, ITL p50/p99 and output tokens/s side by side.

guidellm is installed by this script into a temporary virtualenv (it is not a dependency of
the project; it pulls in torch, so expect a few GB and a few minutes), or taken from
``--venv DIR`` when that already has it. Both tools send the same prompts in the same order
(the load generator's built-in set, written to a JSONL file both read), streamed chat
completions with the same max_tokens, at the same concurrency, for the same number of
requests; the simulator runs as its own process. Each stage runs at an inference latency
scale: 1 is the simulator's latency model (what a client sees of a model server), 0 answers
instantly (what is left is each tool's own overhead and the gateway's). Run:

    python benchmarks/load_vs_guidellm.py [--requests 200] [--concurrency 8] [--max-tokens 64]
        [--latency-scales 1,0] [--venv DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import StageFailed, run_stages
from gateway_load import MODEL, Sim

from llmd_console.load.prompts import PromptSet, builtin_prompts

INSTALL_SECONDS = 1800
RUN_SECONDS = 900


def guidellm_binary(venv: Path | None, keep: list[tempfile.TemporaryDirectory[str]]) -> Path:
    """guidellm's executable: from ``venv`` if it has one, else installed into a new virtualenv."""
    if venv is not None and (venv / "bin" / "guidellm").exists():
        return venv / "bin" / "guidellm"
    if venv is None:
        tmp = tempfile.TemporaryDirectory(prefix="guidellm-venv-")
        keep.append(tmp)
        venv = Path(tmp.name)
    print(f"installing guidellm from PyPI into {venv} (a few minutes)...", flush=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "guidellm"],
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    binary = venv / "bin" / "guidellm"
    if done.returncode != 0 or not binary.exists():
        errors = [line for line in done.stderr.splitlines() if not line.startswith("WARNING")][-5:]
        raise StageFailed(f"guidellm could not be installed from PyPI here: {' | '.join(errors) or done.returncode}")
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"  {version}, installed in {time.monotonic() - started:.0f} s", flush=True)
    return binary


def write_prompts(path: Path, requests: int) -> None:
    """The requests' prompts in order, one JSONL row each (guidellm goes through a file once)."""
    prompts = PromptSet(tuple(builtin_prompts()))
    with path.open("w") as out:
        for n in range(requests):
            out.write(json.dumps({"prompt": prompts.pick(n, 0)[0]}) + "\n")


def run_guidellm(binary: Path, url: str, prompts: Path, work: Path, args: argparse.Namespace) -> dict[str, float]:
    """guidellm's figures for the load."""
    out = work / "guidellm.json"
    command = [
        str(binary), "run",
        "--backend", f"kind=openai_http,target={url},max_tokens={args.max_tokens}",
        "--profile", f"kind=concurrent,streams={args.concurrency}",
        "--constraint", f"kind=max_requests,count={args.requests}",
        "--data", f"kind=json_file,path={prompts}",
        "--output", f"kind=json,path={out}",
        "--disable-progress",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False, cwd=work)
    if done.returncode != 0 or not out.exists():
        raise StageFailed(f"guidellm exited {done.returncode}: {done.stderr.strip()[-600:] or done.stdout[-600:]}")
    bench = json.loads(out.read_text())["benchmarks"][0]
    m = bench["metrics"]

    def pct(name: str, p: str) -> float:
        return float(m[name]["successful"]["percentiles"][p])

    return {
        "requests": float(m["request_totals"]["successful"]),
        "failed": float(m["request_totals"]["errored"]),
        "ttft_p50": pct("time_to_first_token_ms", "p50"),
        "ttft_p99": pct("time_to_first_token_ms", "p99"),
        "itl_p50": pct("inter_token_latency_ms", "p50"),
        "itl_p99": pct("inter_token_latency_ms", "p99"),
        "tokens_per_s": float(m["output_token_count"]["successful"]["total_sum"]) / float(bench["duration"]),
        "seconds": float(bench["duration"]),
    }


def run_ours(url: str, prompts: Path, work: Path, args: argparse.Namespace) -> dict[str, float]:
    """``llmd-console load``'s figures for the load."""
    out = work / "llmd.json"
    command = [
        sys.executable, "-m", "llmd_console", "load", "--url", url, "--model", MODEL,
        "-n", str(args.requests), "-c", str(args.concurrency), "--max-tokens", str(args.max_tokens),
        "--prompts", str(prompts), "--json", str(out), "--no-pods", "--quiet",
        "--slo-ttft-ms", "600000", "--slo-itl-ms", "600000",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)
    if done.returncode != 0 or not out.exists():
        raise StageFailed(f"llmd-console load exited {done.returncode}: {done.stderr.strip()[-600:]}")
    data: dict[str, Any] = json.loads(out.read_text())
    return {
        "requests": float(data["requests"]["ok"]),
        "failed": float(data["requests"]["failed"]),
        "ttft_p50": data["ttft_ms"]["p50"],
        "ttft_p99": data["ttft_ms"]["p99"],
        "itl_p50": data["itl_ms"]["p50"],
        "itl_p99": data["itl_ms"]["p99"],
        "tokens_per_s": data["throughput"]["output_tokens_per_second"],
        "seconds": data["duration_seconds"],
    }


def compare(binary: Path, scale: float, args: argparse.Namespace) -> None:
    """Both tools against one simulator."""
    sim = Sim(latency_scale=scale)
    try:
        with tempfile.TemporaryDirectory(prefix="load-vs-guidellm-") as tmp:
            work = Path(tmp)
            prompts = work / "prompts.jsonl"
            write_prompts(prompts, args.requests)
            ours = run_ours(sim.gateway, prompts, work, args)
            peer = run_guidellm(binary, sim.gateway, prompts, work, args)
            ours_again = run_ours(sim.gateway, prompts, work, args)  # the order's effect, if any
    finally:
        sim.close()
    print(
        f"\nlatency scale {scale:g}: {args.requests} streamed chat completions, max_tokens {args.max_tokens}, "
        f"concurrency {args.concurrency}"
    )
    print(f"  {'':22} {'llmd-console load':>18} {'guidellm':>10} {'llmd (again)':>13}")
    rows = [
        ("requests ok", "requests", "{:.0f}"),
        ("failed", "failed", "{:.0f}"),
        ("TTFT p50 ms", "ttft_p50", "{:.1f}"),
        ("TTFT p99 ms", "ttft_p99", "{:.1f}"),
        ("ITL p50 ms", "itl_p50", "{:.2f}"),
        ("ITL p99 ms", "itl_p99", "{:.2f}"),
        ("output tokens/s", "tokens_per_s", "{:.0f}"),
        ("run seconds", "seconds", "{:.1f}"),
    ]
    for label, key, fmt in rows:
        cells = [fmt.format(figures[key]) if figures[key] is not None else "-" for figures in (ours, peer, ours_again)]
        print(f"  {label:22} {cells[0]:>18} {cells[1]:>10} {cells[2]:>13}", flush=True)


def _stage(binary: Path, scale: float, args: argparse.Namespace) -> Callable[[], None]:
    return lambda: compare(binary, scale, args)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--latency-scales", default="1,0", help="comma-separated")
    parser.add_argument("--venv", type=Path, default=None, help="a virtualenv with guidellm (installed if missing)")
    args = parser.parse_args()
    keep: list[tempfile.TemporaryDirectory[str]] = []
    try:
        try:
            binary = guidellm_binary(args.venv, keep)
        except (StageFailed, subprocess.TimeoutExpired) as exc:
            raise SystemExit(f"no comparison: {exc}") from None
        stages: list[tuple[str, Callable[[], None]]] = [
            (f"latency scale {scale}", _stage(binary, float(scale), args)) for scale in args.latency_scales.split(",")
        ]
        failed = run_stages(stages)
    finally:
        for tmp in keep:
            shutil.rmtree(tmp.name, ignore_errors=True)
    if failed:
        raise SystemExit(f"stages that did not finish: {', '.join(failed)}")


if __name__ == "__main__":
    main()
