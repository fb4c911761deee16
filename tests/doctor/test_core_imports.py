"""The doctor is core: it loads neither Textual, the UI nor the simulator, and the check
command's module stays light until it runs."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


def test_doctor_loads_no_textual_ui_or_simulator() -> None:
    modules = loaded_after(
        "import llmd_console.doctor.engine, llmd_console.doctor.gather, llmd_console.doctor.criteria,"
        " llmd_console.doctor.check_cli"
    )
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    assert not any(m.startswith(("llmd_console.ui", "llmd_console.sim")) for m in modules)


def test_crash_table_is_light_enough_for_the_views() -> None:
    modules = loaded_after("import llmd_console.doctor.crashes")
    doctor = {m for m in modules if m.startswith("llmd_console.doctor")}
    assert doctor == {"llmd_console.doctor", "llmd_console.doctor.crashes"}
    assert not any(
        m.startswith(("llmd_console.state", "llmd_console.metrics", "llmd_console.cluster")) for m in modules
    )


def test_check_help_names_exit_codes_and_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "llmd_console", "check", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0
    assert "3  the cluster cannot be reached" in out.stdout and "llmd-console/check/v1" in out.stdout
