"""The startup tracker follows one container instance on the log's own clock, the probe
budget exists only while a container starts, and vLLM's line prefix is read apart."""

from __future__ import annotations

from datetime import UTC, datetime

from llmd_console.cluster.logs import split_timestamp
from llmd_console.models import Container, StartupProbe
from llmd_console.views.startup import StartupTracker, probe_budget
from llmd_console.views.vllm_lines import fold, line_time, parse

T0 = datetime(2026, 11, 28, 0, 0, 0, tzinfo=UTC).timestamp()
PROBE = StartupProbe(initial_delay=15, period=30, failure_threshold=5)  # 165 s


def instance(start: float, compile_lines: int) -> list[tuple[float, str]]:
    """One vLLM instance's startup as it logs it: server version, device init, download, load, precompile."""
    lines = [
        (start, "(APIServer pid=1) INFO 11-28 00:00:00 [api_server.py:1351] vLLM API server version 0.11.1"),
        (start + 4, "(EngineCore_DP0 pid=261) INFO 11-28 00:00:04 [tpu_platform.py:88] Initializing TPU"),
        (start + 24, "(EngineCore_DP0 pid=261) INFO 11-28 00:00:24 [weight_utils.py:402] Downloading model Qwen"),
        (start + 30, "(EngineCore_DP0 pid=261) INFO 11-28 00:00:30 [model_loader.py:381] Loading model on TPU"),
    ]
    for i in range(compile_lines):
        lines.append(
            (start + 40 + 15 * i, f"(EngineCore_DP0 pid=261) INFO [compilation_manager.py:137] Precompile {i}")
        )
    return lines


def test_a_new_instance_in_the_log_starts_the_tracker_over() -> None:
    tracker = StartupTracker()
    for at, text in instance(T0, 8):  # killed while precompiling
        tracker.feed(at, text)
    first_compile = tracker.started[3]
    for at, text in instance(T0 + 300, 2):  # the next instance, in the same stream
        tracker.feed(at, text)
    assert tracker.started[0] == T0 + 300 and tracker.started[3] == T0 + 340 != first_compile
    phases = tracker.durations(now=T0 + 400)
    assert [s for _, s, _ in phases][:3] == [24.0, 6.0, 10.0]
    assert phases[3] == ("compile/warm-up", 60.0, "running")


def test_restart_reads_again_only_the_new_instance_lines() -> None:
    tracker = StartupTracker()
    old = instance(T0, 8)
    new = instance(T0 + 300, 1)[1:]  # its first line not read yet: the pod said so before the log did
    for at, text in old + new:
        tracker.feed(at, text)
    tracker.restart(T0 + 300, old + new)
    assert min(tracker.started.values()) >= T0 + 300
    assert 3 in tracker.started and tracker.started[3] == T0 + 340


def test_a_stopped_container_phase_stops_growing() -> None:
    tracker = StartupTracker()
    for at, text in instance(T0, 8):
        tracker.feed(at, text)
    last = T0 + 40 + 15 * 7
    later = tracker.durations(now=last + 3600, running=False)
    assert later == tracker.durations(now=last + 60, running=False)
    assert later[3] == ("compile/warm-up", 105.0, "stopped")
    assert tracker.durations(now=last + 60, running=True)[3] == ("compile/warm-up", 165.0, "running")


def test_the_line_own_time_is_used_without_a_kubelet_timestamp() -> None:
    tracker = StartupTracker()
    tracker.feed(None, "(APIServer pid=1) INFO 11-28 00:00:00 [api_server.py:1351] vLLM API server version 0.11.1")
    tracker.feed(None, "(EngineCore_DP0 pid=261) INFO 11-28 00:01:12 [weight_utils.py:402] Downloading model Qwen")
    assert tracker.started[1] - tracker.started[0] == 72.0
    new_year = datetime(2027, 1, 2, tzinfo=UTC).timestamp()  # vLLM prints no year: a December line is last year's
    assert line_time("INFO 12-31 23:59:59 [x.py:1] m", new_year) == new_year - 86400 - 1
    assert line_time("INFO:     Started server process [1]", T0) is None
    assert line_time("INFO 02-30 00:00:00 [x.py:1] not a date", T0) is None


def test_the_probe_budget_exists_only_while_a_container_starts() -> None:
    pending = Container("vllm", startup_probe=PROBE, waiting="ContainerCreating")
    backoff = Container("vllm", "c://1", 2, waiting="CrashLoopBackOff", last_exit="Error", startup_probe=PROBE)
    passed = Container("vllm", "c://2", running_since=T0, started=True, startup_probe=PROBE)
    starting = Container("vllm", "c://2", running_since=T0, startup_probe=PROBE)
    assert probe_budget(None, T0) is None
    assert probe_budget(pending, T0) is None
    assert probe_budget(backoff, T0 + 10) is None
    assert probe_budget(passed, T0 + 10) is None
    budget = probe_budget(starting, T0 + 15)
    assert budget is not None and (budget.total, budget.used, budget.remaining) == (165.0, 15.0, 150.0)
    # A simulated cluster 20 times faster kills the container after 165/20 s of the log's clock.
    fast = probe_budget(starting, T0 + 2, time_scale=20)
    assert fast is not None and (fast.total, fast.remaining, fast.spec_total) == (8.25, 6.25, 165.0)


def test_vllm_prefixes_fold_to_a_level_tag() -> None:
    engine = "(EngineCore_DP0 pid=261) WARNING 11-28 00:00:00 [core.py:123] KV cache is 90% full"
    assert fold(engine) == "W\u258fKV cache is 90% full"
    assert fold("(APIServer pid=1) INFO:     Started server process [1]") == "I\u258fStarted server process [1]"
    assert fold("ERROR 11-28 00:00:00 [engine.py:9] EngineCore failed") == "E\u258fEngineCore failed"
    for plain in ("Traceback (most recent call last):", '  File "x.py", line 1', "INFORMATION only", ""):
        assert fold(plain) == plain
    parts = parse(engine)
    assert parts is not None and (parts.process, parts.level, parts.where) == (
        "EngineCore_DP0",
        "WARNING",
        "core.py:123",
    )


def test_kubelet_timestamps_win_over_the_line_own_time() -> None:
    at, text = split_timestamp(
        "2026-11-28T00:00:05.500000000Z (APIServer pid=1) INFO 11-28 00:00:00 [a.py:1] vLLM API server version 0.11.1"
    )
    tracker = StartupTracker()
    tracker.feed(at, text)
    assert tracker.started[0] == T0 + 5.5
