"""Recording and replay are core: they load neither Textual, the UI nor the simulator."""

from __future__ import annotations

import subprocess
import sys


def test_recording_loads_no_textual_ui_or_simulator() -> None:
    statement = "import llmd_console.recording.recorder, llmd_console.recording.player"
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    modules = set(out.stdout.split())
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    assert not any(m.startswith(("llmd_console.ui", "llmd_console.sim")) for m in modules)
