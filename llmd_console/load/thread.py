"""A load run on an event loop of its own, in a thread: the console's UI keeps its own loop
free for keys and drawing however many streams the run has open."""

from __future__ import annotations

import asyncio
import threading

from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.failures import FixHints
from llmd_console.load.profiles import Profile
from llmd_console.load.prompts import PromptSet
from llmd_console.load.runner import LoadRunner, RunResult
from llmd_console.load.settings import RunSettings
from llmd_console.load.stats import LoadSnapshot


class LoadThread:
    """A load run on an event loop of its own, in the thread that calls ``run``; ``snapshot`` and
    ``stop`` are for the UI's thread."""

    def __init__(
        self, endpoint: Endpoint, prompts: PromptSet, settings: RunSettings, hints: FixHints, timeout: float
    ) -> None:
        self.endpoint, self.prompts, self.settings, self.hints, self.timeout = (
            endpoint,
            prompts,
            settings,
            hints,
            timeout,
        )
        self.runner: LoadRunner | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()

    def run(self, profile: Profile) -> RunResult:
        """Run ``profile`` to its end (blocks: call it in a thread)."""
        return asyncio.run(self._main(profile))

    async def _main(self, profile: Profile) -> RunResult:
        async with self.endpoint.client(self.timeout) as client:
            runner = LoadRunner(client, self.endpoint, self.prompts, self.settings, self.hints)
            self.runner, self.loop = runner, asyncio.get_running_loop()
            if self._stop.is_set():
                runner.stop()
            return await runner.run(profile)

    def snapshot(self) -> LoadSnapshot | None:
        """The run now (None before it started)."""
        return self.runner.stats.snapshot() if self.runner is not None else None

    def stop(self) -> None:
        """End the run: no new request, those in flight cancelled."""
        self._stop.set()
        loop, runner = self.loop, self.runner
        if loop is not None and runner is not None:
            loop.call_soon_threadsafe(runner.stop)
