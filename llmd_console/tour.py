"""A scripted tour for presenters (``llmd-console demo --tour [FILE]``): a YAML file of steps,
each with a caption and at most one thing to do, advanced by a key or after a number of seconds.

    name: Pattern 1, broken and fixed
    steps:
      - caption: The request path, hop by hop
        focus: gateway            # bring a pane forward
      - caption: A load burst through the gateway
        load: {requests: 40, concurrency: 8}
        advance: 20               # seconds; default: the next-step key
      - caption: Break the HTTPRoute
        scenario: httproute-missing
      - caption: The doctor names it, with the fix
        wait_for_finding: httproute-missing
        timeout: 60
      - caption: Apply the fix
        clear: true               # back to the healthy world
      - caption: A prompt through the gateway again
        prompt: What is Kubernetes?

A bad file is refused with its name, the step and the field that is wrong. Nothing here imports
Textual: the app runs the steps (``ui/presenter.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

MAX_STEPS = 200
MAX_BYTES = 256 * 1024
DEFAULT = "default"
ACTIONS = ("focus", "load", "scenario", "clear", "wait_for_finding", "prompt", "wait")
FIELDS = {"caption", "advance", "timeout", *ACTIONS}


class TourError(Exception):
    """A tour file that cannot be used; the message names the file, the step and the field."""


@dataclass(frozen=True)
class Step:
    """One step: its caption, what it does (``kind`` and ``value``; ``kind`` "" for a caption
    only), and how it advances (``advance`` seconds, None: the next-step key)."""

    caption: str
    kind: str = ""
    value: Any = None
    advance: float | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class Tour:
    """A named sequence of steps."""

    name: str
    steps: tuple[Step, ...]


def _number(raw: Any, where: str, low: float, high: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
        raise TourError(f"{where}: must be a number from {low:g} to {high:g}, not {raw!r}")
    return float(raw)


def _action(kind: str, raw: Any, where: str) -> Any:
    """The step's action value, checked."""
    if kind in ("focus", "scenario", "wait_for_finding", "prompt"):
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 2000:
            raise TourError(f"{where}: {kind} must be a non-empty text")
        return raw.strip()
    if kind == "clear":
        if raw is not True:
            raise TourError(f"{where}: clear must be true")
        return True
    if kind == "wait":
        return _number(raw, f"{where}: wait", 0, 3600)
    if not isinstance(raw, dict) or set(raw) - {"requests", "concurrency"}:
        raise TourError(f"{where}: load must be a mapping of requests and concurrency")
    requests = int(_number(raw.get("requests", 40), f"{where}: load.requests", 1, 100_000))
    concurrency = int(_number(raw.get("concurrency", 4), f"{where}: load.concurrency", 1, 256))
    return (requests, concurrency)


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise TourError(f"{where}: a step is a mapping with a caption")
    unknown = sorted(set(map(str, raw)) - FIELDS)
    if unknown:
        raise TourError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}")
    caption = raw.get("caption")
    if not isinstance(caption, str) or not caption.strip():
        raise TourError(f"{where}: caption is required")
    kinds = [k for k in ACTIONS if k in raw]
    if len(kinds) > 1:
        raise TourError(f"{where}: one thing per step, not {' and '.join(kinds)}")
    kind = kinds[0] if kinds else ""
    advance = raw.get("advance", "key")
    seconds = None if advance == "key" else _number(advance, f"{where}: advance", 0.5, 3600)
    timeout = _number(raw.get("timeout", 60), f"{where}: timeout", 1, 3600)
    value = _action(kind, raw[kind], where) if kind else None
    return Step(caption.strip()[:300], kind, value, seconds, timeout)


def parse_tour(text: str, source: str) -> Tour:
    """A tour from YAML text; ``source`` names it in errors."""
    if len(text.encode()) > MAX_BYTES:
        raise TourError(f"{source}: larger than {MAX_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TourError(f"{source}: not YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise TourError(f"{source}: expected a mapping with a non-empty list of steps")
    if len(data["steps"]) > MAX_STEPS:
        raise TourError(f"{source}: at most {MAX_STEPS} steps")
    steps = tuple(_step(raw, f"{source}: step {i}") for i, raw in enumerate(data["steps"], 1))
    return Tour(str(data.get("name") or Path(source).stem)[:100], steps)


def load_tour(path: str) -> Tour:
    """The tour in file ``path``, or the one that ships (``default``)."""
    if path == DEFAULT:
        text = resources.files("llmd_console").joinpath("tours/default.yaml").read_text(encoding="utf-8")
        return parse_tour(text, "the built-in tour")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TourError(f"{path}: cannot be read: {exc}") from None
    return parse_tour(text, path)
