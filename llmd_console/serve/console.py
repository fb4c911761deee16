"""The console serve starts for one browser tab: ``python -m llmd_console.serve.console SERVE_PID ARGS``.

It asks to be sent SIGTERM when serve ends (Textual's web driver quits on it), then becomes
``llmd-console ARGS`` (the request survives exec), so that a serve killed with no chance to clean
up leaves no console running for a browser that is gone."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from llmd_console.console_main import die_with_parent


def main(argv: list[str]) -> NoReturn:
    """Become ``llmd-console ARGS`` if serve (``argv[0]``, its pid) is still this process's parent."""
    die_with_parent()
    if not argv or str(os.getppid()) != argv[0]:
        print("llmd-console: started for serve, which is gone", file=sys.stderr)
        raise SystemExit(1)
    os.execv(sys.executable, [sys.executable, "-m", "llmd_console", *argv[1:]])  # noqa: S606 - our own interpreter


if __name__ == "__main__":
    main(sys.argv[1:])
