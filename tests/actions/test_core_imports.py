"""The actions, the manifests and the GKE client are core: importing them loads no Textual."""

from __future__ import annotations

import subprocess
import sys


def test_actions_manifests_and_gke_do_not_load_textual() -> None:
    modules = (
        "llmd_console.actions.deploy", "llmd_console.actions.nodepool", "llmd_console.actions.restart",
        "llmd_console.actions.rollback", "llmd_console.actions.undeploy", "llmd_console.actions.safety",
        "llmd_console.manifests", "llmd_console.gke",
    )  # fmt: skip
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('\\n'.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not [
        m for m in loaded if m == "textual" or m.startswith(("textual.", "llmd_console.ui", "llmd_console.sim"))
    ]
