"""The inference package is core: it loads neither Textual, the UI nor the simulator, and not the
kubernetes client either, so a pane can import it on the path to the first frame."""

from __future__ import annotations

import subprocess
import sys

MODULES = ("client", "endpoint", "failures", "history", "request", "resolve", "served_by", "sse")


def test_inference_loads_no_textual_ui_simulator_or_kubernetes() -> None:
    statement = "; ".join(f"import llmd_console.inference.{name}" for name in MODULES)
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    roots = {name.split(".")[0] for name in loaded}
    assert not roots & {"textual", "kubernetes", "openai"}
    assert not [m for m in loaded if m.startswith(("llmd_console.ui", "llmd_console.sim"))]
