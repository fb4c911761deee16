"""How big a recording of the demo grows per minute, and how much memory a replay of it takes.

Records the console (headless, 160x45, default layout) on a simulated cluster at the demo's
speed (20) for a few minutes: healthy at first, then a fault (the EPP down) for the middle
third, then the fix. Prints the file's size, its size per minute, its records by type and the
time the console's UI thread spent encoding and compressing them (total, and the slowest); then,
in a fresh process, the resident memory before and after loading the recording for replay, and
after playing it through in the replay app (headless).

Run:  python benchmarks/recording_size.py [--minutes M]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_common import SimProcess, rss_mib

from llmd_console.config import Config
from llmd_console.recording.format import read_recording
from llmd_console.session import Target
from llmd_console.ui.app import ConsoleApp


def scenario(url: str, name: str | None) -> None:
    """Switch the simulator's fault scenario."""
    with httpx.Client(base_url=url, timeout=30) as api:
        response = (
            api.delete("/llmd-sim/v1/scenario")
            if name is None
            else api.put("/llmd-sim/v1/scenario", json={"name": name})
        )
    response.raise_for_status()


async def record(kubeconfig: Path, url: str, path: Path, seconds: float) -> list[float]:
    """The console, recording, through healthy, fault and fix thirds; the seconds each record
    took to write (on the UI thread, where the recorder runs)."""
    app = ConsoleApp(Config(), Target(str(kubeconfig), None, None), layout="default")
    error = app.start_recording(path)
    if error:
        raise SystemExit(error)
    recorder = app.recorder
    assert recorder is not None
    took: list[float] = []
    write = recorder._write

    def timed(record: dict[str, object]) -> None:
        started = time.perf_counter()
        write(record)
        took.append(time.perf_counter() - started)

    recorder._write = timed  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        for name in ("epp-down", None):
            await pilot.pause(seconds / 3)
            scenario(url, name)
        await pilot.pause(seconds / 3)
        app.stop_recording()
    return took


async def replay(path: Path) -> None:
    """Load the recording, then play it through at high speed in the replay app."""
    from llmd_console.recording.player import load_player
    from llmd_console.ui.replay_app import ReplayApp

    before = rss_mib()
    started = time.monotonic()
    player = load_player(path, Config())
    loaded = time.monotonic() - started
    after_load = rss_mib()
    app = ReplayApp(Config(), player, speed=60.0, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        while player.position < player.duration:
            await pilot.pause(0.2)
    print(f"replay: {len(player.snapshots)} snapshots loaded in {loaded:.2f} s")
    print(f"replay memory: {before:.0f} MiB before loading, {after_load:.0f} MiB loaded, {rss_mib():.0f} MiB played")


def main() -> int:
    """Record, measure, then measure a replay in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--replay", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay is not None:
        asyncio.run(replay(args.replay))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.rec.gz"
        sim = SimProcess("--speed", "20")
        try:
            took = asyncio.run(record(sim.kubeconfig, sim.url, path, args.minutes * 60))
        finally:
            sim.close()
        recording = read_recording(path)
        size = path.stat().st_size
        minutes = max(recording.duration, 1.0) / 60
        kinds = collections.Counter(str(r.get("k")) for r in recording.records)
        print(f"recording: {size / 1024:.1f} KiB for {minutes:.2f} min = {size / 1024 / minutes:.1f} KiB/min")
        print(f"records: {len(recording.records)} ({', '.join(f'{k} {n}' for k, n in kinds.most_common())})")
        print(
            f"writing them on the UI thread: {sum(took) * 1000:.0f} ms in all, "
            f"{max(took, default=0) * 1000:.1f} ms for the slowest record"
        )
        subprocess.run([sys.executable, __file__, "--replay", str(path)], check=True, timeout=600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
