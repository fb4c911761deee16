"""The load generator's core loads neither Textual nor the simulator."""

from __future__ import annotations

import subprocess
import sys


def test_load_core_loads_neither_textual_nor_the_simulator() -> None:
    code = (
        "import sys\n"
        "import llmd_console.load.runner, llmd_console.load.report, llmd_console.load.headless\n"
        "import llmd_console.load.cli\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    modules = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "llmd_console.load.runner" in modules
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    assert not any(m.startswith("llmd_console.sim") for m in modules)
