"""vLLM's log line prefix, read apart: ``(EngineCore_DP0 pid=261) INFO 11-28 00:00:00 [core.py:259] message``.

The prefix (process, level, the line's own time, source location) takes some 60 columns,
so at 80 columns the message is mostly cut off; the message-first view folds it to a
one-letter level tag, and the startup tracker reads the line's own time from it when
the kubelet gave no timestamp."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

# ``(Proc pid=N) `` is optional: a single-process vLLM prints the rest alone. The uvicorn lines
# ("INFO:     Started server process") carry no time and no location.
_PREFIX = re.compile(
    r"^(?:\((?P<proc>[\w.-]{1,40}) pid=(?P<pid>\d{1,10})\)\s+)?"
    r"(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)"
    r"(?:"
    r" (?P<month>\d\d)-(?P<day>\d\d) (?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
    r"(?:\.\d+)?(?: \[(?P<where>[^\]]{1,120})\])?"
    r"|:)"
    r" +"
)
TAGS = {"DEBUG": "D", "INFO": "I", "WARNING": "W", "WARN": "W", "ERROR": "E", "CRITICAL": "C"}
# What the folded line starts with: the level's letter and a thin bar, unlike any real log line.
FOLD_MARK = "\u258f"


@dataclass(frozen=True)
class VllmLine:
    """A vLLM line's parts; ``stamp`` is the line's own ``MM-DD HH:MM:SS`` (no year), or None."""

    process: str
    level: str
    stamp: tuple[int, int, int, int, int] | None
    where: str
    message: str


def parse(line: str) -> VllmLine | None:
    """The parts of a vLLM-formatted line, or None when it is not one."""
    match = _PREFIX.match(line)
    if match is None:
        return None
    stamp = None
    if match.group("month"):
        stamp = (
            int(match.group("month")),
            int(match.group("day")),
            int(match.group("hour")),
            int(match.group("minute")),
            int(match.group("second")),
        )
    return VllmLine(
        match.group("proc") or "",
        match.group("level"),
        stamp,
        match.group("where") or "",
        line[match.end() :],
    )


def fold(line: str) -> str:
    """The line message first: ``I▏message`` (level letter, bar, message); other lines unchanged."""
    parts = parse(line)
    if parts is None:
        return line
    return f"{TAGS[parts.level]}{FOLD_MARK}{parts.message}"


def line_time(line: str, reference: float) -> float | None:
    """The line's own time (seconds since the epoch, UTC) in the year of ``reference``, or None.

    vLLM prints no year: a stamp that would fall more than half a year after ``reference`` is
    taken to be from the year before (a log read just after new year)."""
    parts = parse(line)
    if parts is None or parts.stamp is None:
        return None
    month, day, hour, minute, second = parts.stamp
    year = datetime.fromtimestamp(reference, tz=UTC).year
    try:
        at = datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
        if at - reference > 183 * 86400:
            at = datetime(year - 1, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError:  # 02-29 in a year without it, or a malformed date
        return None
    return at
