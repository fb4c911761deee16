"""The contexts a kubeconfig offers, read without the kubernetes package (which is slow to
import): enough to refuse an unknown ``--context`` before the screen opens, as kubectl does."""

from __future__ import annotations

from pathlib import Path

import yaml

MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024  # a larger file is left to the real loader to judge


def context_names(paths: list[str]) -> tuple[list[str], str | None] | None:
    """(context names in kubectl's merge order, the current context), or None when no file
    could be read as a kubeconfig (the session then says why, in its own words)."""
    names: list[str] = []
    current: str | None = None
    read_any = False
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            if not path.is_file() or path.stat().st_size > MAX_KUBECONFIG_BYTES:
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(data, dict):
            continue
        read_any = True
        if current is None and isinstance(data.get("current-context"), str) and data["current-context"]:
            current = data["current-context"]  # the first file that sets it wins, as in kubectl
        for entry in data.get("contexts") or []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return (names, current) if read_any else None


def unknown_context_message(wanted: str, paths: list[str], names: list[str], current: str | None) -> str:
    """kubectl's refusal of an unknown context, then the contexts there are."""
    lines = [f"error: context was not found for specified context: {wanted}"]
    where = ", ".join(paths)
    if not names:
        lines.append(f"the kubeconfig ({where}) has no contexts")
    else:
        lines.append(f"contexts in {where}:")
        lines += [f"  {name}{'  (current)' if name == current else ''}" for name in names]
    return "\n".join(lines)
