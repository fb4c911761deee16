"""serve on a real cluster's kubeconfig (the simulator's), without a browser: the page and its
WebSocket refuse a foreign Host or Origin, and a console started for a connection is read-only
unless serve was given --read-write."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import wait_for
from tests.serve.served import Served

SCREEN_WAIT = 90.0  # seconds: generous, a console starts slowly on a busy machine


@pytest.fixture
def served_console(kubeconfig: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    """``llmd-console serve`` of the console on the module's simulator (serve's own flags from the test's param)."""
    flags: tuple[str, ...] = getattr(request, "param", ())
    served = Served(*flags, "--kubeconfig", str(kubeconfig), "--context", "llmd-sim", "--layout", "default")
    try:
        yield served
    finally:
        served.kill()


async def screen_text(url: str, until: str, then: Callable[[], None] = lambda: None) -> str:
    """Open the console's WebSocket as the page does and collect what it draws until ``until``
    shows; call ``then`` (in a thread) while the connection is still open."""
    seen = ""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "ws?width=160&height=45", origin=url.rstrip("/")) as ws,
        asyncio.timeout(SCREEN_WAIT),
    ):
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                # Escape sequences out, so words drawn in pieces read as text.
                seen += re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", message.data.decode(errors="replace"))
                if until in seen:
                    await asyncio.to_thread(then)
                    return seen
    raise AssertionError(f"the console never drew {until!r}; it drew {seen[-2000:]!r}")


async def status(url: str, **headers: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status


def test_foreign_hosts_and_origins_are_refused_and_the_console_is_read_only(served_console: Served) -> None:
    url = served_console.url()
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert asyncio.run(status(url)) == 200
    assert asyncio.run(status(url, Host=f"localhost:{port}")) == 200
    # A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) names itself as Host.
    assert asyncio.run(status(url, Host=f"attacker.example:{port}")) == 403
    assert asyncio.run(status(url + "ws", Origin="http://attacker.example")) == 403
    text = asyncio.run(screen_text(url, "layout default"))
    assert "READ-ONLY" in text
    assert "llmd-sim" in text


@pytest.mark.parametrize("served_console", [("--read-write",)], indirect=True)
def test_read_write_reaches_the_console(served_console: Served) -> None:
    text = asyncio.run(screen_text(served_console.url(), "layout default"))
    assert "READ-ONLY" not in text
    assert served_console.ctrl_c() == 0
    assert served_console.session_processes() == []


def test_a_killed_serve_leaves_no_console(served_console: Served) -> None:
    def kill_serve_alone() -> None:
        assert len(served_console.consoles()) == 1, served_console.session_processes()
        os.kill(served_console.proc.pid, signal.SIGKILL)  # no chance to clean up
        served_console.proc.wait(10)
        wait_for(lambda: served_console.session_processes() == [], timeout=30, message="the console to end")

    asyncio.run(screen_text(served_console.url(), "layout default", then=kill_serve_alone))
