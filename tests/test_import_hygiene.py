"""The simulator and the console's core must not load Textual (or the UI)."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_sim_imports_neither_textual_nor_console_modules() -> None:
    modules = _loaded_after(
        "import llmd_console.sim; from llmd_console.sim.runtime import server;"
        "from llmd_console.sim.apiserver import api; from llmd_console.sim.worlds import world"
    )
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


def test_console_core_does_not_load_textual() -> None:
    modules = _loaded_after(
        "import llmd_console.config, llmd_console.layouts, llmd_console.state, llmd_console.sanitize;"
        "import llmd_console.models, llmd_console.session;"
        "import llmd_console.cluster.kube, llmd_console.cluster.watch, llmd_console.cluster.logs;"
        "import llmd_console.actions.plan, llmd_console.actions.audit, llmd_console.actions.runner;"
        "import llmd_console.actions.pods;"
        "import llmd_console.views.gateway, llmd_console.views.nodes;"
        "import llmd_console.views.pods, llmd_console.views.startup"
    )
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    assert not any(m.startswith("llmd_console.ui") for m in modules)


def test_console_startup_path_does_not_load_kubernetes_or_the_simulator() -> None:
    # What `llmd-console` imports before the first frame: the app module and its panes.
    modules = _loaded_after("import llmd_console.cli, llmd_console.console_main, llmd_console.ui.app")
    heavy = sorted(m for m in modules if m.split(".")[0] in ("kubernetes", "aiohttp", "pydantic", "openai"))
    assert heavy == [], f"heavy modules on the path to the first frame: {heavy[:5]}"
    assert not any(m.startswith("llmd_console.sim") for m in modules)
