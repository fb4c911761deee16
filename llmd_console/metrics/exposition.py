"""Reading one ``/metrics`` page (Prometheus text format) into the samples the console uses.

The page comes from a pod, so it is treated as hostile: the bytes were already bounded by
whoever fetched it, the number of samples is bounded here, and anything that is not the
text format (an HTML error page, JSON, garbage) is refused with a reason in words.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from prometheus_client.parser import text_string_to_metric_families

from llmd_console.sanitize import one_line

MAX_SAMPLES = 200_000
"""A vLLM page has a few hundred samples and an EPP's a few thousand; far more is not a metrics page."""

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
Labels = tuple[tuple[str, str], ...]
"""A series' labels, sorted, hashable."""


class NotMetrics(ValueError):
    """The body is not a Prometheus text page; the message says what it looks like instead."""


@dataclass(frozen=True)
class Page:
    """The samples of one page, by sample name: each series' labels and value.

    Only the names asked for are kept; ``names`` holds every sample name the page had, so the
    console can tell "this version does not emit it" from "no series yet".
    """

    samples: Mapping[str, tuple[tuple[Labels, float], ...]] = field(default_factory=lambda: MappingProxyType({}))
    names: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()  # family names from TYPE lines (a counter without _total)


def _looks_like(text: str) -> str:
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<")):
        return "an HTML page"
    if head.startswith(("{", "[")):
        return "JSON"
    return "not the Prometheus text format"


def _screen(text: str, wanted: Collection[str], max_samples: int) -> tuple[str, set[str], set[str]]:
    """One cheap pass over the lines: every sample name and family on the page, and only the
    wanted samples' lines (and TYPE lines) for the real parser; a model server's page is mostly
    series the console does not show."""
    names: set[str] = set()
    families: set[str] = set()
    kept: list[str] = []
    samples = 0
    for line in text.splitlines():
        if not line or line.isspace():
            continue
        if line[0] == "#":
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == "TYPE":
                families.add(parts[2])
                kept.append(line)
            continue
        samples += 1
        if samples > max_samples:
            raise NotMetrics(f"more than {max_samples:,} samples: not a model server's metrics page")
        cut = [i for i in (line.find("{"), line.find(" ")) if i > 0]
        name = line[: min(cut)] if cut else line
        if not _NAME.fullmatch(name):
            raise NotMetrics(f"{_looks_like(text)} (line {one_line(line, 60)!r})")
        names.add(name)
        if name in wanted:
            kept.append(line)
    return "\n".join(kept) + "\n", names, families


def parse(body: bytes, wanted: Collection[str], max_samples: int = MAX_SAMPLES) -> Page:
    """The samples named in ``wanted`` from a page; raises ``NotMetrics`` for anything else."""
    text = body.decode("utf-8", errors="replace")
    screened, names, families = _screen(text, wanted, max_samples)
    if not families and not names:
        raise NotMetrics(_looks_like(text) if text.strip() else "an empty page")
    kept: dict[str, list[tuple[Labels, float]]] = {}
    try:
        for family in text_string_to_metric_families(screened):
            for sample in family.samples:
                if sample.name in wanted:
                    labels = tuple(sorted((str(k), str(v)) for k, v in sample.labels.items()))
                    kept.setdefault(sample.name, []).append((labels, float(sample.value)))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise NotMetrics(f"{_looks_like(text)} ({one_line(str(exc), 120)})") from None
    return Page(
        MappingProxyType({name: tuple(series) for name, series in kept.items()}),
        frozenset(names),
        frozenset(families),
    )
