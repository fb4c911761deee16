"""The simulator and the console's core must not load Textual (or the UI)."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_sim_imports_neither_textual_nor_console_modules() -> None:
    modules = _loaded_after("import llmd_console.sim; from llmd_console.sim import server, api, world")
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    console = {m for m in modules if m.startswith("llmd_console.") and not m.startswith("llmd_console.sim")}
    assert console == set(), f"the simulator pulled in console modules: {sorted(console)}"


def test_sim_sources_do_not_reference_the_console() -> None:
    from pathlib import Path

    import llmd_console.sim as sim

    root = Path(sim.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        for forbidden in ("import textual", "from textual", "llmd_console.ui", "llmd_console.cluster"):
            assert forbidden not in text, f"{path} mentions {forbidden}"
