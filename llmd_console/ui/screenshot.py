"""Screenshots: the screen as SVG in the configured directory and, where ``rsvg-convert``
is installed, as PNG beside it. The operator is told the paths, or in words why not."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

CONVERTER = "rsvg-convert"
CONVERT_SECONDS = 30.0  # a 160x45 screen converts in well under a second


class ScreenshotError(Exception):
    """The screenshot could not be saved; the message says where and why."""


def _free_stem(directory: Path, stem: str) -> str:
    """``stem``, or ``stem-2``, ``stem-3``... when a file of that name is already there."""
    candidate, n = stem, 1
    while (directory / f"{candidate}.svg").exists() or (directory / f"{candidate}.png").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _write(directory: Path, stem: str, svg: str) -> Path:
    directory = directory.expanduser().absolute()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{_free_stem(directory, stem)}.svg"
        path.write_text(svg, encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ScreenshotError(
            f"cannot save a screenshot in {directory}: {why} (set ui.screenshot_dir in the config)"
        ) from None
    return path


async def _convert(svg: Path, converter: str) -> tuple[Path | None, str]:
    """The PNG beside ``svg``, or None and why not."""
    png = svg.with_suffix(".png")
    try:
        proc = await asyncio.create_subprocess_exec(
            converter,
            "-o",
            str(png),
            str(svg),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return None, f"{CONVERTER} could not run: {exc.strerror or exc}"
    try:
        _, err = await asyncio.wait_for(proc.communicate(), CONVERT_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None, f"{CONVERTER} took longer than {CONVERT_SECONDS:g}s"
    if proc.returncode != 0:
        return None, f"{CONVERTER} failed: {err.decode(errors='replace').strip()[:200]}"
    return png, ""


async def save_screenshot(svg: str, directory: Path, *, stem: str | None = None, converter: str | None = None) -> str:
    """Save ``svg`` (and a PNG when a converter is found) in ``directory``; returns what to tell
    the operator. Raises :class:`ScreenshotError` when the directory cannot be written."""
    stem = stem or "llmd-console-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    svg_path = await asyncio.to_thread(_write, directory, stem, svg)
    tool = converter or shutil.which(CONVERTER)
    if tool is None:
        return f"screenshot saved: {svg_path} (no PNG: {CONVERTER} is not installed)"
    png, why = await _convert(svg_path, tool)
    if png is None:
        return f"screenshot saved: {svg_path} (no PNG: {why})"
    return f"screenshot saved: {svg_path} and {png.name}"
