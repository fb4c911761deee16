"""Runs ``llmd-console load``: finds the endpoint, runs the profile with progress lines on
stderr, reads the EPP's decisions for the per-pod split, and writes the summary and the JSON."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config
from llmd_console.inference.client import ModelsError, list_models
from llmd_console.inference.endpoint import MAX_CONNECTIONS, Endpoint
from llmd_console.inference.failures import FixHints
from llmd_console.inference.resolve import EndpointError, resolve
from llmd_console.inference.served_by import epp_decisions
from llmd_console.load.cli import PROG, BadInput, config_of, fail, profile_of, prompts_of, settings_of
from llmd_console.load.exits import EXIT_INTERRUPTED, EXIT_UNREACHABLE
from llmd_console.load.profiles import Concurrent, Profile
from llmd_console.load.prompts import PromptSet
from llmd_console.load.report import run_json, summary, write_json, write_jsonl
from llmd_console.load.runner import LoadRunner, RunResult
from llmd_console.load.settings import RunSettings
from llmd_console.load.stats import LoadSnapshot
from llmd_console.sanitize import one_line

EPP_LOG_SECONDS = 20.0
EPP_MAX_TAIL = 100_000  # lines of each EPP pod's log read after a run


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def progress_line(s: LoadSnapshot, step_rate: float | None = None) -> str:
    """One progress line: counts, latencies and rates so far."""
    errors = ", ".join(f"{kind} {n}" for kind, n in sorted(s.errors.items()))
    head = f"rate {step_rate:g}/s " if step_rate is not None else ""
    return (
        f"{head}{s.elapsed:6.1f}s  done {s.completed} (ok {s.ok}, failed {s.failed}{': ' + errors if errors else ''})"
        f"  in flight {s.in_flight} (stalled {s.stalled})"
        f"  TTFT p50 {_ms(s.ttft.p50)} p99 {_ms(s.ttft.p99)} ms  ITL p50 {_ms(s.itl.p50)} p99 {_ms(s.itl.p99)} ms"
        f"  {s.tokens_per_second:.0f} tok/s  goodput {s.goodput:.1f}/s"
    )


async def _report_progress(runner: LoadRunner, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        _say(progress_line(runner.step_stats.snapshot(points=0), runner.step_rate))


class Unreachable(Exception):
    """No endpoint or no model: the message says why."""


def _url_endpoint(args: argparse.Namespace) -> Endpoint | None:
    url = str(args.url or "")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"--url must start with http:// or https://, got {url!r}")
    return Endpoint(url.rstrip("/"), f"--url {url}")


async def _connect(args: argparse.Namespace, config: Config, namespace: str) -> tuple[KubeClient | None, str]:
    """A Kubernetes API client (None, and why not, when the kubeconfig cannot be used)."""
    kubeconfig = str(args.kubeconfig) if getattr(args, "kubeconfig", None) else None
    context = getattr(args, "context", None) or config.cluster.context
    try:
        return await KubeClient.connect(kubeconfig, context, namespace, config.cluster.request_timeout_seconds), ""
    except KubeError as exc:
        return None, exc.message
    except Exception as exc:  # the kubeconfig loader's own errors (a bad file, an auth plugin)
        return None, f"cannot use the kubeconfig: {exc}"


async def _endpoint(
    given: Endpoint | None, kube: KubeClient | None, why_no_kube: str, config: Config, namespace: str
) -> Endpoint:
    if given is not None:
        return given
    try:
        return await resolve(kube, config, namespace)
    except EndpointError as exc:
        extra = f" ({why_no_kube})" if kube is None and why_no_kube else ""
        raise Unreachable(f"no endpoint to send to: {exc}{extra}; give one with --url") from None


def _check_outputs(args: argparse.Namespace) -> None:
    if str(args.json) == str(args.jsonl) == "-":
        raise BadInput("--json and --jsonl cannot both write to stdout ('-')")
    for flag, path in (("--json", args.json), ("--jsonl", args.jsonl)):
        if path is not None and str(path) != "-" and not Path(path).parent.is_dir():
            raise BadInput(f"{flag}: the directory {Path(path).parent} does not exist")


def run_load(args: argparse.Namespace) -> int:
    """``llmd-console load``: bad input exits 2 before anything is sent."""
    try:
        config = config_of(args)
        profile = profile_of(args)
        prompts = prompts_of(args)
        settings = settings_of(args, config, args.model or "")
        endpoint = _url_endpoint(args)
        _check_outputs(args)
    except BadInput as exc:
        return fail(str(exc))
    cap = profile.concurrency if isinstance(profile, Concurrent) else profile.max_in_flight
    if cap > MAX_CONNECTIONS:
        _say(
            f"{PROG}: note: at most {MAX_CONNECTIONS} connections are open at once; requests beyond them wait "
            "for one, and their TTFT includes the wait"
        )
    try:
        return asyncio.run(_main(args, config, profile, prompts, settings, endpoint))
    except KeyboardInterrupt:
        _say(f"{PROG}: interrupted again; stopped without a summary")
        return EXIT_INTERRUPTED


async def _main(
    args: argparse.Namespace,
    config: Config,
    profile: Profile,
    prompts: PromptSet,
    settings: RunSettings,
    given: Endpoint | None,
) -> int:
    namespace = getattr(args, "namespace", None) or config.cluster.namespace
    hints = FixHints.from_config(config, namespace)
    kube, why_no_kube = (
        (None, "not read (--no-pods)") if given and args.no_pods else await _connect(args, config, namespace)
    )
    try:
        try:
            endpoint = await _endpoint(given, kube, why_no_kube, config, namespace)
            _say(f"{PROG}: sending to {endpoint.how}")
            async with endpoint.client() as http:
                settings = await _with_model(settings, http, endpoint, hints)
                runner = LoadRunner(http, endpoint, prompts, settings, hints)
                result = await _run(runner, profile, args)
        except Unreachable as exc:
            _say(one_line(f"{PROG}: {exc}", 2000))
            return EXIT_UNREACHABLE
        decisions, note = await _decisions(args, kube, why_no_kube, config, namespace, result)
    finally:
        if kube is not None:
            await kube.close()
    data = run_json(result, (endpoint.base_url, endpoint.how), decisions)
    data["pods"]["note"] = note
    _write(args, data, result, decisions)
    for line in summary(data):
        _say(line)
    return int(data["exit_code"])


async def _with_model(
    settings: RunSettings, http: httpx.AsyncClient, endpoint: Endpoint, hints: FixHints
) -> RunSettings:
    """The settings with a model: the one given, else the first the endpoint serves."""
    if settings.model:
        return settings
    try:
        models = await list_models(http, endpoint, hints=hints)
    except ModelsError as exc:
        f = exc.failure
        raise Unreachable(f"cannot list the models at {endpoint.how}: {f.title}. {f.cause}. Fix: {f.fix}") from None
    if not models:
        raise Unreachable(f"{endpoint.how} serves no model; give one with --model")
    return dataclasses.replace(settings, model=models[0])


async def _run(runner: LoadRunner, profile: Profile, args: argparse.Namespace) -> RunResult:
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        _say(f"{PROG}: stopping (Ctrl-C again to quit without a summary)")
        runner.stop()
        loop.remove_signal_handler(signal.SIGINT)

    loop.add_signal_handler(signal.SIGINT, interrupted)
    loop.add_signal_handler(signal.SIGTERM, runner.stop)
    progress = None if args.quiet else asyncio.ensure_future(_report_progress(runner, args.progress))
    try:
        return await runner.run(profile)
    finally:
        if progress is not None:
            progress.cancel()
        loop.remove_signal_handler(signal.SIGTERM)


async def _decisions(
    args: argparse.Namespace,
    kube: KubeClient | None,
    why_no_kube: str,
    config: Config,
    namespace: str,
    result: RunResult,
) -> tuple[dict[str, str], str]:
    """Request id -> pod from the EPP's decision log, and a note on what was read."""
    if args.no_pods:
        return {}, "not read (--no-pods)"
    if all(r.served_by for r in result.records):
        return {}, "every request named its pod"
    if kube is None:
        return {}, f"the EPP's log was not read: {why_no_kube}"
    wanted = {r.request_id for r in result.records if not r.served_by}
    tail = min(EPP_MAX_TAIL, 3 * len(result.records) + 2000)  # one decision per request, and other lines
    try:
        async with asyncio.timeout(EPP_LOG_SECONDS):
            found = await epp_decisions(kube, namespace, config.resources.epp, wanted, tail=tail)
    except TimeoutError:
        return {}, f"the EPP's log could not be read within {EPP_LOG_SECONDS:g} s"
    except KubeError as exc:
        return {}, f"the EPP's log could not be read: {exc}"
    return found, f"{len(found)} of {len(wanted)} requests matched in the EPP's decision log (last {tail} lines)"


def _write(args: argparse.Namespace, data: dict[str, Any], result: RunResult, decisions: dict[str, str]) -> None:
    if args.json is not None:
        write_json(args.json, data)
    if args.jsonl is not None:
        if str(args.jsonl) == "-":
            write_jsonl(sys.stdout, result.records, decisions)
        else:
            with Path(args.jsonl).open("w") as out:
                write_jsonl(out, result.records, decisions)
