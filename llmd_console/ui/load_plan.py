"""A load run as the operator asks for it in the prompt pane: the profile and the shared
prefixes, from the dialog's text fields (each checked, a wrong one named)."""

from __future__ import annotations

import dataclasses

from llmd_console.load.profiles import DEFAULT_RATE_CAP, Concurrent, Profile, ProfileError, Rate, Sweep
from llmd_console.sanitize import one_line

MAX_PREFIXES = 64
DEFAULT_REQUESTS = 20
SWEEP_STEPS = 10


@dataclasses.dataclass(frozen=True)
class LoadPlan:
    """What the operator asked for."""

    profile: Profile
    shared_prefixes: int = 0


def _number(text: str, name: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ProfileError(f"{name} must be a number, not {one_line(text, 40)!r}") from None


def _whole(text: str, name: str) -> int | None:
    value = _number(text, name)
    if value is not None and value != int(value):
        raise ProfileError(f"{name} must be a whole number, not {value:g}")
    return None if value is None else int(value)


def plan_of(kind: str, requests: str, concurrency: str, rate: str, duration: str, step: str, prefixes: str) -> LoadPlan:
    """The plan from the dialog's fields; ProfileError names a field that is wrong."""
    n, c = _whole(requests, "requests (N)"), _whole(concurrency, "concurrency (C)")
    r, d = _number(rate, "rate (R/s)"), _number(duration, "duration (D s)")
    k = _whole(prefixes, "shared prefixes") or 0
    if not 0 <= k <= MAX_PREFIXES:
        raise ProfileError(f"shared prefixes must be from 0 to {MAX_PREFIXES}, got {k}")
    profile: Profile
    if kind == "concurrent":
        profile = Concurrent(n if n is not None else DEFAULT_REQUESTS, c if c is not None else 4)
    elif kind in ("constant", "poisson"):
        if r is None:
            raise ProfileError("a rate profile needs a rate (R/s)")
        rate_n = n if n is not None or d is not None else DEFAULT_REQUESTS
        profile = Rate(r, rate_n, d, poisson=kind == "poisson", max_in_flight=c if c is not None else DEFAULT_RATE_CAP)
    else:
        if r is None:
            raise ProfileError("a sweep needs a start rate (R/s)")
        s = _number(step, "step (R/s)") or r
        per_step = n if n is not None or d is not None else DEFAULT_REQUESTS
        profile = Sweep(
            r, s, r + (SWEEP_STEPS - 1) * s, per_step, d, max_in_flight=c if c is not None else DEFAULT_RATE_CAP
        )
    return LoadPlan(profile, k)


def describe(plan: LoadPlan) -> str:
    """The plan in a few words."""
    p = plan.profile
    if isinstance(p, Concurrent):
        text = f"concurrent {p.requests} requests, {p.concurrency} at a time"
    elif isinstance(p, Rate):
        sizes = [f"{p.requests} requests"] if p.requests else []
        sizes += [f"{p.duration:g} s"] if p.duration else []
        text = f"{p.kind} {p.rate:g}/s, {' or '.join(sizes)}"
    else:
        text = f"sweep from {p.start:g}/s by {p.step:g}/s up to {p.max_rate:g}/s"
    return text + (f", {plan.shared_prefixes} shared prefixes" if plan.shared_prefixes else "")
