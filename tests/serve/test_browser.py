"""The console in a browser: Debian's chromium, driven by Playwright, opens ``llmd-console serve
demo`` on loopback, reads the panes from the page's terminal, presses a key and sees the page
change; Ctrl-C then stops serve, its consoles and the shared simulator, leaving no process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import require_module, require_tool, wait_for
from tests.serve.served import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

SCREEN_WAIT_MS = 90_000  # generous: a 2-core machine shared with other work starts a console slowly

# Run before the page's scripts: textual-serve keeps its xterm.js Terminal to itself, but every
# addon it loads is pushed on an array as {instance, dispose, isDisposed}, and the fit addon keeps
# the terminal it was activated on. Keep those records (window.__llmdAddons), then put push back.
CAPTURE_TERMINAL = """
(() => {
  const push = Array.prototype.push;
  const addons = [];
  Array.prototype.push = function (...items) {
    for (const item of items) {
      if (item && typeof item === "object" && "instance" in item && "isDisposed" in item) {
        push.call(addons, item);
      }
    }
    return push.apply(this, items);
  };
  window.__llmdAddons = addons;
  window.addEventListener("load", () => setTimeout(() => { Array.prototype.push = push; }, 0));
})();
"""
# The screen as text, one line per row, read from the terminal's buffer.
SCREEN_TEXT = """
() => {
  const addon = (window.__llmdAddons || []).find((a) => a.instance && a.instance._terminal);
  if (!addon) return "(no xterm.js terminal found in the page: has textual-serve changed how it loads addons?)";
  const buffer = addon.instance._terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < buffer.length; y++) rows.push(buffer.getLine(y).translateToString(true));
  return rows.join("\\n");
}
"""

SHOWS = f"(texts) => {{ const s = ({SCREEN_TEXT})(); return texts.every((t) => s.includes(t)); }}"
GONE = f"(text) => {{ const s = ({SCREEN_TEXT})(); return s.includes(' DEMO ') && !s.includes(text); }}"


@pytest.fixture
def served_demo() -> Iterator[Served]:
    """``llmd-console serve demo`` on a free loopback port, removed with all its processes."""
    served = Served("demo", "--speed", "50", "--layout", "default")
    try:
        yield served
    finally:
        served.kill()


@pytest.fixture
def chromium() -> str:
    """Debian's chromium, and Playwright to drive it (checked before serve starts)."""
    path = require_tool("chromium")
    require_module("playwright")
    return path


def screen(page: Page) -> str:
    """The page's terminal screen as text."""
    text: str = page.evaluate(SCREEN_TEXT)
    return text


def shows(page: Page, *texts: str) -> None:
    """Wait, in the page, until every text is on its screen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(SHOWS, arg=list(texts), timeout=SCREEN_WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(f"the page never showed {texts}; it shows:\n{screen(page)}") from None


@pytest.mark.timeout(300)  # generous waits for the screen, on a busy machine
def test_the_demo_in_a_browser(chromium: str, served_demo: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url = served_demo.url()
    requested: list[str] = []
    with sync_playwright() as playwright:
        # No background connections of chromium's own (updates, sync, field trials): the page's are the test's.
        quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"]
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=quiet)
        try:
            page = browser.new_page(viewport={"width": 1800, "height": 1100})  # room for the six panes
            page.on("request", lambda request: requested.append(request.url))
            page.add_init_script(CAPTURE_TERMINAL)
            page.goto(url)

            # The gateway path and the pods table, drawn from the shared simulator.
            shows(page, "layout default", "Gateway path", "Gateway infra-pattern1-inference-gateway", "HTTPRoute")
            shows(page, "Pods", "NAME", "READY", "STATUS", "Running", "decode")
            before = screen(page)
            assert "READ-ONLY" in before  # the browser's console is read-only unless serve was asked
            shot = tmp_path / "serve-demo.png"
            page.screenshot(path=str(shot))
            print(f"screenshot of the console in the browser: {shot}")

            page.focus("textarea.xterm-helper-textarea")  # where xterm.js takes the keyboard from, as a click does
            page.keyboard.press("v")  # the next layout
            page.wait_for_function(GONE, arg="layout default", timeout=SCREEN_WAIT_MS)
            assert screen(page) != before
            page.screenshot(path=str(tmp_path / "serve-demo-after-v.png"))

            # A second tab: a console of its own on the same simulator; closing the tab ends its console.
            second = browser.new_page(viewport={"width": 1800, "height": 1100})
            second.add_init_script(CAPTURE_TERMINAL)
            second.goto(url)
            shows(second, "layout default", "Pods", "Running")
            assert len(served_demo.consoles()) == 2, served_demo.session_processes()
            assert len(served_demo.processes("llmd_console sim")) == 1, served_demo.session_processes()
            second.close()
            wait_for(lambda: len(served_demo.consoles()) == 1, timeout=60, message="the tab's console to end")
        finally:
            browser.close()

    # Everything the pages loaded came from serve itself: nothing from the network.
    assert requested
    assert all(item.startswith(url) for item in requested), requested
    assert served_demo.ctrl_c() == 0, served_demo.output
    assert "Stopped." in served_demo.output
    assert served_demo.session_processes() == []
