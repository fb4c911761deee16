"""``llmd-console load``: the load generator without a terminal UI, for scripts and CI.

This module builds the subcommand's parser and turns its arguments into a profile, prompts
and run settings (bad input exits 2 with a message); ``headless.py`` runs them.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Any, TypeVar

from llmd_console.config import Config, ConfigError, load_config
from llmd_console.load.exits import (
    EXIT_BAD_INPUT,
    EXIT_ERROR_BUDGET,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SLO,
    EXIT_UNREACHABLE,
)
from llmd_console.load.profiles import Concurrent, Profile, ProfileError, Rate, Sweep
from llmd_console.load.prompts import PromptError, PromptSet, builtin_prompts, load_prompts, shared_prefixes
from llmd_console.load.settings import RunSettings, Slo

PROG = "llmd-console load"
T = TypeVar("T")
DEFAULT_REQUESTS = 100
DEFAULT_CONCURRENCY = 10

EPILOG = f"""\
profiles:
  concurrent  -n N requests, -c C at a time (default {DEFAULT_REQUESTS} at {DEFAULT_CONCURRENCY})
  constant    --rate R requests/s, evenly spaced, for -n N requests and/or --duration D seconds
  poisson     the same with exponential gaps (--seed)
  sweep       constant-rate steps --rate, +--rate-step, ... up to --max-rate, each of -n N requests
              or --duration D seconds; stops after the first step whose TTFT p99 or error ratio
              exceeds the SLO and reports the last rate that met it

exit codes:
  {EXIT_OK}    success: within the error budget and the SLOs (a sweep: some rate met them)
  {EXIT_INTERNAL}    an unexpected error
  {EXIT_BAD_INPUT}    bad input (options, prompts file, config)
  {EXIT_ERROR_BUDGET}    the error budget was exceeded (the run stops early when it is)
  {EXIT_SLO}    an SLO was missed: TTFT or ITL p99 (a sweep: already at its first rate)
  {EXIT_UNREACHABLE}    no endpoint: the API could not be found or reached before the run
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); the summary covers what ran

Progress goes to stderr (a line per --progress seconds); the JSON report to --json FILE ('-': stdout).
"""


class BadInput(Exception):
    """An option that cannot be used; the message names it."""


def _fraction(text: str) -> float:
    """An error budget: ``5%`` or ``0.05``."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction such as 0.05 or a percentage such as 5%, got {text!r}"
        ) from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (0% and 100%), got {text!r}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def add_parser(sub: Any) -> None:
    """Register ``load`` on the top-level parser's subparsers."""
    p = sub.add_parser(
        "load",
        help="generate load through the gateway and report TTFT, ITL, goodput and errors (no TTY needed)",
        description="Send a load profile to the OpenAI API behind the llm-d gateway and report on it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = p.add_argument_group("where to send")
    where.add_argument("--url", help="the API's base URL (e.g. http://34.1.2.3); default: found from the cluster")
    # SUPPRESS: the same options given before `load` are kept.
    where.add_argument("--kubeconfig", type=Path, default=argparse.SUPPRESS, help="kubeconfig file (as kubectl)")
    where.add_argument("--context", default=argparse.SUPPRESS, help="kubeconfig context")
    where.add_argument("--namespace", default=argparse.SUPPRESS, help="namespace of the llm-d stack")
    where.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file")
    what = p.add_argument_group("what to send")
    what.add_argument("--model", help="the model name (default: the first one /v1/models lists)")
    what.add_argument("--api", choices=("chat", "completions"), default="chat", help="default chat")
    what.add_argument(
        "--prompts", type=Path, help="a JSONL file (prompt, max_tokens) or text lines (default: built-in)"
    )
    what.add_argument("--shared-prefixes", type=int, default=0, help="spread K shared system prefixes over requests")
    what.add_argument("--max-tokens", type=int, default=128, help="output tokens per request (default 128)")
    what.add_argument("--temperature", type=_finite, default=0.0, help="default 0")
    what.add_argument("--request-id-prefix", help="x-request-id is PREFIX-N (default: config's, plus the start time)")
    how = p.add_argument_group("how")
    how.add_argument("--profile", choices=("concurrent", "constant", "poisson", "sweep"), default="concurrent")
    how.add_argument("-n", "--requests", type=int, help="requests (per step in a sweep)")
    how.add_argument("-c", "--concurrency", type=int, help="requests in flight at most")
    how.add_argument("--rate", type=_finite, help="requests per second (a sweep's first rate)")
    how.add_argument("--rate-step", type=_finite, help="a sweep's step (default: --rate)")
    how.add_argument("--max-rate", type=_finite, help="a sweep's last rate (default: 10 x --rate)")
    how.add_argument("--duration", type=_finite, help="seconds (per step in a sweep)")
    how.add_argument("--seed", type=int, default=0, help="seed of the Poisson arrivals")
    limits = p.add_argument_group("SLOs and limits (defaults from the config's load: section)")
    limits.add_argument("--slo-ttft-ms", type=_finite, help="TTFT p99 SLO, milliseconds")
    limits.add_argument("--slo-itl-ms", type=_finite, help="ITL p99 SLO, milliseconds")
    limits.add_argument("--error-budget", type=_fraction, help="stop when more than this failed (0.05 or 5%%)")
    limits.add_argument("--error-budget-min", type=int, help="... after at least this many requests ended")
    limits.add_argument("--deadline", type=_finite, help="seconds a request may take")
    limits.add_argument("--stall", type=_finite, help="seconds without a token before a stream counts as stalled")
    out = p.add_argument_group("output")
    out.add_argument("--json", type=Path, help="write the run's JSON object here ('-': stdout)")
    out.add_argument("--jsonl", type=Path, help="write one JSON line per request here")
    out.add_argument("--progress", type=_finite, default=1.0, help="seconds between progress lines (>= 1)")
    out.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    out.add_argument("--no-pods", action="store_true", help="do not read the EPP's log for the per-pod split")


def fail(message: str) -> int:
    """Print a bad-input message; the exit code for it."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def config_of(args: argparse.Namespace) -> Config:
    """The configuration (``--config``, the env var or XDG)."""
    try:
        return load_config(getattr(args, "config", None))[0]
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def profile_of(args: argparse.Namespace) -> Profile:
    """The profile the options describe."""
    try:
        if args.profile == "concurrent":
            if args.rate is not None or args.duration is not None:
                raise BadInput("--rate and --duration belong to the constant, poisson and sweep profiles")
            requests = DEFAULT_REQUESTS if args.requests is None else args.requests
            concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
            return Concurrent(requests, concurrency)
        if args.rate is None:
            raise BadInput(f"the {args.profile} profile needs --rate (requests per second)")
        cap = {} if args.concurrency is None else {"max_in_flight": args.concurrency}
        if args.profile == "sweep":
            step = args.rate if args.rate_step is None else args.rate_step
            top = args.rate * 10 if args.max_rate is None else args.max_rate
            return Sweep(args.rate, step, top, args.requests, args.duration, **cap)
        return Rate(args.rate, args.requests, args.duration, args.profile == "poisson", args.seed, **cap)
    except ProfileError as exc:
        raise BadInput(str(exc)) from None


def prompts_of(args: argparse.Namespace) -> PromptSet:
    """The prompts: the file's or the built-in set, with the shared prefixes."""
    try:
        prompts = load_prompts(args.prompts) if args.prompts is not None else builtin_prompts()
        return PromptSet(tuple(prompts), tuple(shared_prefixes(args.shared_prefixes)))
    except PromptError as exc:
        raise BadInput(str(exc)) from None


def _pick(given: T | None, default: T) -> T:
    return default if given is None else given


def settings_of(args: argparse.Namespace, config: Config, model: str) -> RunSettings:
    """The run's settings: options over the config's ``load:`` section."""
    load = config.load
    ttft, itl = _pick(args.slo_ttft_ms, load.slo_ttft_ms), _pick(args.slo_itl_ms, load.slo_itl_ms)
    for name, value in (("--slo-ttft-ms", ttft), ("--slo-itl-ms", itl)):
        if not value > 0:
            raise BadInput(f"{name} must be above 0, got {value:g}")
    deadline, stall = _pick(args.deadline, load.deadline_seconds), _pick(args.stall, load.stall_seconds)
    for name, value in (("--deadline", deadline), ("--stall", stall)):
        if not value > 0:
            raise BadInput(f"{name} must be a number of seconds above 0, got {value:g}")
    if not 1 <= args.max_tokens <= 1_000_000:
        raise BadInput(f"--max-tokens must be a whole number from 1 to 1000000, got {args.max_tokens}")
    if not 0 <= args.temperature <= 2:
        raise BadInput(f"--temperature must be between 0 and 2, got {args.temperature:g}")
    minimum = _pick(args.error_budget_min, load.error_budget_min_requests)
    if minimum < 1:
        raise BadInput(f"--error-budget-min must be at least 1, got {minimum}")
    prefix = args.request_id_prefix or f"{load.request_id_prefix}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    if not prefix.isascii() or not all(c.isalnum() or c in "-_." for c in prefix) or len(prefix) > 100:
        raise BadInput(f"--request-id-prefix must be up to 100 letters, digits, '-', '_' or '.', got {prefix!r}")
    if args.progress < 1:
        raise BadInput(f"--progress must be at least 1 second, got {args.progress:g}")
    settings = RunSettings.from_config(
        load, model, prefix, api=args.api, max_tokens=args.max_tokens, temperature=args.temperature
    )
    return dataclasses.replace(
        settings,
        slo=Slo(ttft / 1000, itl / 1000),
        deadline_seconds=deadline,
        stall_seconds=stall,
        error_budget=_pick(args.error_budget, load.error_budget),
        error_budget_min_requests=minimum,
    )


def run(args: argparse.Namespace) -> int:
    """Carry out ``llmd-console load``."""
    from llmd_console.load.headless import run_load  # noqa: PLC0415 - httpx and the client load only here

    return run_load(args)
