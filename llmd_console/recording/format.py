"""The recording file: gzip'd JSON lines, a header first, one record a line.

Writing is bounded (a size limit, after which the writer stops and says why) and flushed
often (a console killed mid-recording leaves a file readable up to the last flush). Reading
is bounded too (line size, records, bytes) and never fails on a damaged file: it returns what
could be read and says where and why it stopped. The layout of every record is in
``docs/recording.md``.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FORMAT = "llmd-console-recording"
VERSION = (1, 0)  # (major, minor): a reader refuses a newer major, and skips unknown record types
DEFAULT_LIMIT_BYTES = 100 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024  # one record (a relist of a large cluster is the biggest)
MAX_RECORDS = 2_000_000
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # decompressed, over the whole file

Record = dict[str, Any]


class RecordingError(Exception):
    """A file that cannot be replayed at all (not a recording, a newer version, unreadable)."""


@dataclass(frozen=True)
class Header:
    """The first record: what the file is and where it was recorded."""

    started: float  # epoch seconds; every record's ``t`` is relative to this
    context: str = ""
    namespace: str | None = None  # None: every namespace
    version: tuple[int, int] = VERSION
    source: str = ""  # "console", "demo", ...

    def as_record(self) -> Record:
        """The header as written."""
        return {
            "format": FORMAT,
            "version": list(self.version),
            "started": self.started,
            "context": self.context,
            "namespace": self.namespace,
            "source": self.source,
        }


@dataclass
class Recording:
    """What could be read from a file: the header, the records in order, and how it ended."""

    header: Header
    records: list[Record] = field(default_factory=list)
    problem: str = ""  # why reading stopped early ("" when the file ended as written)
    complete: bool = False  # the writer's closing record was read
    ended: float | None = None  # the closing record's time: when recording stopped

    @property
    def duration(self) -> float:
        """Seconds from the start to when recording stopped (to the last record read, when the
        file ends early)."""
        last = max((float(r.get("t", 0.0)) for r in self.records[-1:]), default=0.0)
        return last if self.ended is None else max(last, self.ended)


def _dumps(record: Record) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode() + b"\n"


def finite(value: float | None) -> float | None:
    """JSON has no NaN: None stands for it (and for infinities)."""
    return None if value is None or not math.isfinite(value) else value


class Writer:
    """Appends records to a recording until closed or until its size limit is reached."""

    def __init__(self, path: Path, header: Header, *, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        """Create (or replace) ``path``; raises OSError when it cannot be written."""
        self.path = path
        self.header = header
        self.limit_bytes = limit_bytes
        self.records = 0
        self.stopped = ""  # why the writer stopped taking records ("" while it takes them)
        self._last_t = 0.0
        self._raw: IO[bytes] = path.open("wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self._gz.write(_dumps(header.as_record()))

    @property
    def size(self) -> int:
        """Compressed bytes on disk so far (what zlib still buffers is not counted)."""
        return self._raw.tell()

    def write(self, record: Record) -> bool:
        """Append one record; False once the writer has stopped (limit reached, or closed)."""
        if self.stopped:
            return False
        line = _dumps(record)
        if len(line) > MAX_LINE_BYTES:
            self.stopped = f"a record of {len(line)} bytes is over the {MAX_LINE_BYTES} byte line limit"
            self._finish(self.stopped)
            return False
        self._gz.write(line)
        self.records += 1
        if self.size >= self.limit_bytes:
            limit = f"{self.limit_bytes / 1e6:g} MB" if self.limit_bytes >= 1e6 else f"{self.limit_bytes} bytes"
            self.stopped = f"the size limit of {limit} was reached"
            self._finish(self.stopped)
            return False
        return True

    def flush(self) -> None:
        """Make everything written so far readable (a sync flush: the stream goes on)."""
        if not self._gz.closed:
            self._gz.flush(zlib.Z_SYNC_FLUSH)
            self._raw.flush()

    def close(self, reason: str = "stopped", t: float | None = None) -> None:
        """Write the closing record and close the file; ``t`` is when recording stopped (the
        replay lasts until then), the latest record's time when not given."""
        if t is not None and not self._gz.closed:
            self.stamp(max(t, self._last_t))
        if not self.stopped:
            self.stopped = reason
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self._gz.closed:
            return
        self._gz.write(_dumps({"t": self._last_t, "k": "end", "reason": reason, "records": self.records}))
        self._gz.close()
        self._raw.close()

    def stamp(self, t: float) -> None:
        """The time of the latest record (the closing record carries it)."""
        self._last_t = round(t, 3)


def _header(first: Record) -> Header:
    if not isinstance(first, dict) or first.get("format") != FORMAT:
        raise RecordingError(f"not an llmd-console recording (the first record does not say format {FORMAT!r})")
    version = first.get("version")
    if not (isinstance(version, list) and len(version) == 2 and all(isinstance(v, int) for v in version)):
        raise RecordingError(f"the header's version is not [major, minor]: {str(version)[:40]}")
    if version[0] > VERSION[0]:
        raise RecordingError(
            f"recording format version {version[0]}.{version[1]} is newer than this llmd-console reads "
            f"({VERSION[0]}.{VERSION[1]}): upgrade llmd-console to replay it"
        )
    started = first.get("started")
    if not isinstance(started, (int, float)) or not math.isfinite(started):
        raise RecordingError("the header has no start time")
    namespace = first.get("namespace")
    return Header(
        started=float(started),
        context=str(first.get("context") or ""),
        namespace=namespace if isinstance(namespace, str) else None,
        version=(version[0], version[1]),
        source=str(first.get("source") or ""),
    )


def read_recording(
    path: Path,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_records: int = MAX_RECORDS,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Recording:
    """Read a recording; raises RecordingError when not even its header can be read, and
    otherwise returns what could be read, with ``problem`` saying why it stopped early."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise RecordingError(f"cannot open {path}: {exc.strerror or exc}") from None
    with raw, gzip.GzipFile(fileobj=raw, mode="rb") as reader:
        try:
            first = reader.readline(max_line_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise RecordingError(f"{path} is not an llmd-console recording (not gzip'd JSON lines: {exc})") from None
        if not first.endswith(b"\n"):
            raise RecordingError(f"{path} has no complete header line")
        try:
            header = _header(json.loads(first))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordingError(f"{path}: the header is not JSON: {exc}") from None
        recording = Recording(header)
        _read_records(reader, recording, max_line_bytes, max_records, max_total_bytes - len(first))
    return recording


def _read_records(
    reader: gzip.GzipFile, recording: Recording, max_line_bytes: int, max_records: int, budget: int
) -> None:
    records = recording.records
    while True:
        try:
            line = reader.readline(max_line_bytes + 1)
        except (EOFError, OSError, zlib.error) as exc:
            recording.problem = f"truncated ({_why(exc)})"
            return
        if not line:
            if not recording.complete:
                recording.problem = "the file ends without the closing record (the recorder did not finish)"
            return
        if not line.endswith(b"\n"):
            too_long = len(line) > max_line_bytes
            recording.problem = (
                f"a record is over the {max_line_bytes} byte line limit" if too_long else "truncated (a partial record)"
            )
            return
        budget -= len(line)
        if budget < 0 or len(records) >= max_records:
            recording.problem = f"stopped at the reading limit ({len(records)} records)"
            return
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            recording.problem = f"record {len(records) + 1} is not JSON"
            return
        if not isinstance(record, dict) or not isinstance(record.get("t"), (int, float)):
            recording.problem = f"record {len(records) + 1} has no time"
            return
        if record.get("k") == "end":
            recording.complete = True
            recording.ended = float(record["t"])
            return
        records.append(record)


def _why(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the compressed stream is cut short"
    return str(exc) or type(exc).__name__
