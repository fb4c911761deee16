"""The recording file: round trip, versions, limits, damaged files, and what is never written."""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

import pytest

from llmd_console.cluster.watch import Batch
from llmd_console.config import Config
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.inference.request import Outcome, PromptRequest
from llmd_console.metrics.exposition import Page
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.models import Connection, KindState, LogChunk, LogTarget, Phase, StreamPhase, StreamState
from llmd_console.recording.format import FORMAT, Header, Recording, RecordingError, Writer, read_recording
from llmd_console.recording.player import Player
from llmd_console.recording.recorder import Recorder
from llmd_console.recording.redact import REDACTED, scrub_object, scrub_text

PLANTED = "hf_PlantedSecretToken0123456789"


class Clock:
    """A clock the test moves."""

    def __init__(self, at: float = 1_800_000_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def pod(name: str, phase: str = "Running", env_value: str = "") -> dict[str, object]:
    """A minimal pod object."""
    env = [{"name": "HF_TOKEN", "value": env_value}, {"name": "PORT", "value": "8000"}] if env_value else []
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "resourceVersion": "1",
            "creationTimestamp": "2027-01-15T08:00:00Z",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"env": env})},
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"nodeName": "n1", "containers": [{"name": "vllm", "env": env, "args": [f"--hf-token={env_value}"]}]},
        "status": {"phase": phase},
    }


def record_session(path: Path, clock: Clock, *, limit: int = 10**8) -> Recorder:
    """A recording with every record type."""
    recorder = Recorder(path, context="ctx", namespace="ns", limit_bytes=limit, now=clock)
    recorder.start_state({"pods": {}}, {}, "ns")
    recorder.connection(Connection(Phase.CONNECTED, context="ctx", server="https://127.0.0.1"))
    clock.at += 1
    recorder.batch(Batch(changed={"pods": {"ns/a": pod("a", env_value=PLANTED)}}, states={"pods": KindState("live")}))
    clock.at += 1
    target = LogTarget("ns", "a")
    lines = ((clock.at, f"started with Authorization: Bearer {PLANTED}"), (None, "ready"))
    recorder.log(LogChunk(target, "vllm", lines, state=StreamState(StreamPhase.LIVE)))
    history = EndpointHistory(10)
    running = ((("model", "m"),), 3.0)
    history.record(clock.at, Page({"vllm:num_requests_running": (running,)}, frozenset({"x"})))
    recorder.metrics(Feed({"ns/a": history}, {}, 2.0, clock.at, "scrape"), ())
    clock.at += 1
    recorder.findings([Finding("pod-crash", "error", "a crashes", (Quote("Pod", "ns", "a", "OOMKilled"),))])
    request = PromptRequest(f"my key is {PLANTED}", "m")
    recorder.prompt(Outcome(request, "r1", 0.0, status=200, text="hello", ttft=0.05, served_by="a"))
    recorder.batch(Batch(changed={"pods": {"ns/a": None}}))
    return recorder


def test_round_trip(tmp_path: Path) -> None:
    path, clock = tmp_path / "r.rec.gz", Clock()
    record_session(path, clock).close()
    recording = read_recording(path)
    assert recording.complete and not recording.problem
    assert recording.header == Header(1_800_000_000.0, "ctx", "ns", source="console")
    kinds = [r["k"] for r in recording.records]
    assert kinds == ["reset", "batch", "conn", "batch", "log", "series", "metrics", "findings", "prompt", "batch"]
    player = Player(recording, Config())
    assert player.duration == 3.0
    assert list(player.snapshot_at(1.5).pods) == ["ns/a"]
    assert list(player.snapshot_at(3.0).pods) == []
    delivery = player.move_to(2.5)
    assert [line for chunk in delivery.logs for line in chunk.lines][1] == (None, "ready")
    assert delivery.metrics is not None
    feed, _ = delivery.metrics
    assert feed.vllm["ns/a"].matching("vllm:num_requests_running")[(("model", "m"),)].last() == 3.0
    assert [m.text for m in player.moments if m.finding] == ["finding: a crashes"]
    assert player.next_moment(0.0, findings_only=True) is not None
    assert "prompt answered (HTTP 200, TTFT 50 ms) by a" in [m.text for m in player.moments]


def test_the_replay_lasts_until_recording_stopped(tmp_path: Path) -> None:
    path, clock = tmp_path / "r.rec.gz", Clock()
    recorder = record_session(path, clock)
    clock.at += 1.5
    recorder.findings([])  # the last record: the doctor's findings cleared, 4.5 s in
    clock.at += 2  # nothing new for two seconds, and the console still showed it
    recorder.close()
    recording = read_recording(path)
    assert recording.ended == recording.duration == 6.5
    player = Player(recording, Config())
    assert player.duration == 6.5
    assert player.findings_at(4.0) != () and player.findings_at(6.5) == ()
    assert player.move_to(6.5).findings == ()
    assert player.position == 6.5


def test_secrets_are_not_written(tmp_path: Path) -> None:
    path = tmp_path / "r.rec.gz"
    record_session(path, Clock()).close()
    raw = gzip.decompress(path.read_bytes())
    assert PLANTED.encode() not in raw
    assert b"managedFields" not in raw and b"last-applied-configuration" not in raw
    assert REDACTED.encode() in raw
    assert scrub_object({"kind": "Secret", "data": {"k": "dg=="}}) is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("HF_TOKEN=abc123 next", "HF_TOKEN=<redacted> next"),
        ("curl -H 'Authorization: Bearer abc.def'", "curl -H 'Authorization: Bearer <redacted>'"),
        ("--api-key sk-abcdefghijklmnop --port 8000", "--api-key <redacted> --port 8000"),
        ("prompt_tokens: 12, 40.0 tokens/s", "prompt_tokens: 12, 40.0 tokens/s"),
        ('{"password": "hunter2", "max_tokens": 5}', '{"password": "<redacted>", "max_tokens": 5}'),
    ],
)
def test_redaction_keeps_ordinary_text(text: str, kept: str) -> None:
    assert scrub_text(text) == kept


def test_size_limit_stops_recording_and_says_so(tmp_path: Path) -> None:
    path, clock = tmp_path / "r.rec.gz", Clock()
    recorder = Recorder(path, context="c", namespace=None, limit_bytes=4096, now=clock)
    stops: list[str] = []
    recorder.on_stop = stops.append
    for i in range(2000):
        clock.at += 0.1
        recorder.batch(Batch(changed={"pods": {f"ns/p{i}": pod(f"p{i}-{i * 7919 % 104729}")}}))
    assert len(stops) == 1 and "size limit" in stops[0]
    recording = read_recording(path)
    assert recording.complete
    assert 0 < len(recording.records) < 2000
    assert path.stat().st_size < 4096 + 64 * 1024  # the limit, plus what zlib held back


def test_truncated_file_gives_what_could_be_read(tmp_path: Path) -> None:
    path, clock = tmp_path / "r.rec.gz", Clock()
    recorder = record_session(path, clock)
    recorder.flush()
    flushed = path.stat().st_size
    for i in range(50):
        clock.at += 1
        recorder.batch(Batch(changed={"pods": {f"ns/q{i}": pod(f"q{i}")}}))
    recorder.close()
    data = path.read_bytes()
    cut = tmp_path / "cut.rec.gz"
    cut.write_bytes(data[: flushed + (len(data) - flushed) // 2])
    recording = read_recording(cut)
    assert not recording.complete
    assert recording.problem.startswith("truncated")
    assert len(recording.records) >= 9
    player = Player(recording, Config())
    assert "recording ends early at " in player.ends_early()
    assert f"({len(recording.records)} records read)" in player.ends_early()


def test_a_file_of_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garbage"
    path.write_bytes(b"\x00\x01 this is not a recording" * 100)
    with pytest.raises(RecordingError, match="not an llmd-console recording"):
        read_recording(path)
    other = tmp_path / "other.gz"
    other.write_bytes(gzip.compress(b'{"hello": "world"}\n'))
    with pytest.raises(RecordingError, match="not an llmd-console recording"):
        read_recording(other)


def test_a_newer_major_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.rec.gz"
    header = {"format": FORMAT, "version": [2, 0], "started": 1.0}
    path.write_bytes(gzip.compress(json.dumps(header).encode() + b"\n"))
    with pytest.raises(RecordingError, match=r"version 2\.0 is newer than this llmd-console reads \(1\.0\)"):
        read_recording(path)


def test_a_newer_minor_version_skips_unknown_records(tmp_path: Path) -> None:
    path = tmp_path / "minor.rec.gz"
    lines = [
        {"format": FORMAT, "version": [1, 7], "started": 5.0},
        {"t": 0.5, "k": "hologram", "x": 1},
        {"t": 1.0, "k": "mark", "text": "here"},
        {"t": 1.0, "k": "end", "reason": "stopped", "records": 2},
    ]
    path.write_bytes(gzip.compress(b"".join(json.dumps(x).encode() + b"\n" for x in lines)))
    player = Player(read_recording(path), Config())
    assert not player.problem and [m.text for m in player.moments] == ["here"]


def test_reading_limits(tmp_path: Path) -> None:
    path, clock = tmp_path / "r.rec.gz", Clock()
    record_session(path, clock).close()
    few = read_recording(path, max_records=3)
    assert len(few.records) == 3 and "reading limit" in few.problem
    short = read_recording(path, max_line_bytes=200)
    assert "line limit" in short.problem


def test_nan_is_written_as_null(tmp_path: Path) -> None:
    path = tmp_path / "r.rec.gz"
    writer = Writer(path, Header(1.0))
    writer.write({"t": 0.0, "k": "mark", "text": "x"})
    with pytest.raises(ValueError, match="JSON compliant"):
        writer.write({"t": math.nan, "k": "mark"})
    writer.close()


def _mutate(value: object, rng: random.Random) -> object:
    """``value`` with one field somewhere replaced by junk."""
    junk = rng.choice([None, -1, 1e308, "x" * 3, [], {}, [1, "a"], {"a": None}, True])
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        out = dict(value)
        out[key] = junk if rng.random() < 0.4 else _mutate(value[key], rng)
        return out
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        items = list(value)
        items[i] = junk if rng.random() < 0.4 else _mutate(value[i], rng)
        return items
    return junk


def test_damaged_records_end_the_replay_there_never_crash_it(tmp_path: Path) -> None:
    path = tmp_path / "r.rec.gz"
    record_session(path, Clock()).close()
    good = read_recording(path)
    rng = random.Random(7)
    unusable = 0
    for _ in range(400):
        records = [dict(r) for r in good.records]
        i = rng.randrange(len(records))
        mutated = _mutate(records[i], rng)
        assert isinstance(mutated, dict)
        mutated.setdefault("t", 0.0)
        if not isinstance(mutated["t"], (int, float)) or isinstance(mutated["t"], bool):
            mutated["t"] = 0.0  # the reader refuses a record without a time before the player sees it
        records[i] = mutated
        player = Player(Recording(good.header, records, complete=True), Config())
        unusable += bool(player.problem)
        if player.problem:
            assert player.problem.startswith(f"record {player.read + 1} is unusable: ")
            assert player.ends_early().startswith("recording ends early at ")
        for step in range(8):
            player.move_to(player.duration * step / 7)
        player.everything_at(0.0)
    assert unusable > 50  # most junk is caught at load, the rest replays
