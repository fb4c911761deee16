"""What never goes into a recording: Secret objects, and values that could be credentials.

Dropped: objects of kind Secret; ``metadata.managedFields``; the
``kubectl.kubernetes.io/last-applied-configuration`` annotation (a copy of the whole object,
env values included). Redacted (the value replaced by ``<redacted>``, the name kept): env
values whose names look like credentials (TOKEN, KEY, PASSWORD, SECRET, CREDENTIAL, AUTH),
HTTP header values named Authorization (probes' ``httpHeaders``), and in every string, bearer
tokens, ``Authorization:`` values, ``NAME=value`` and ``--flag=value`` pairs whose names look
like credentials, and well-known token shapes (``hf_...``, ``sk-...``, ``ghp_...``, JWTs).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SECRET_NAME = re.compile(r"(?i)(token|key|passw(or)?d|secret|credential|auth)")
_WORDS = r"(?:token|api[_-]?key|passw(?:or)?d|secret|credential)"
_PATTERNS = (
    # Authorization: Bearer x / Basic x, and bare bearer tokens.
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?:(bearer|basic|token)\s+)?[^\s,;\"']+"), r"\1\2 " + REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)(?!<redacted>)[A-Za-z0-9._~+/=-]{6,}"), r"\1" + REDACTED),
    # Env-style NAME=value (upper case, as in a shell or a container's env dump).
    (
        re.compile(r"\b([A-Z0-9_]*" + _WORDS.upper().replace("?:", "?:") + r"[A-Z0-9_]*=)(?!<redacted>)[^\s,;\"'&]+"),
        r"\1" + REDACTED,
    ),
    # --flag=value and --flag value.
    (re.compile(r"(?i)(--[a-z0-9-]*" + _WORDS + r"[a-z0-9-]*(?:=|\s+))(?!<redacted>)[^\s,;\"'&]+"), r"\1" + REDACTED),
    # "api_key": "value" in JSON, and token= in URLs.
    (re.compile(r"(?i)(\"[\w-]*" + _WORDS + r"[\w-]*\"\s*:\s*\")[^\"]*(\")"), r"\1" + REDACTED + r"\2"),
    (re.compile(r"(?i)([?&][\w-]*" + _WORDS + r"[\w-]*=)[^&\s]+"), r"\1" + REDACTED),
    (
        re.compile(r"\b(hf_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{12,}|gh[pousr]_[A-Za-z0-9]{16,}|ya29\.[\w.-]{10,})"),
        REDACTED,
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),  # JWTs
)


def scrub_text(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``<redacted>``."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_object(obj: Any) -> Any:
    """A copy of a Kubernetes object (or any JSON value) fit for a recording; None for a Secret."""
    if isinstance(obj, dict) and obj.get("kind") == "Secret":
        return None
    return _scrub(obj)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        if k in ("managedFields", LAST_APPLIED):
            continue
        if k.lower() == "authorization":
            out[k] = REDACTED
            continue
        out[k] = _scrub(v)
    # {"name": ..., "value": ...}: an env var or an HTTP header.
    name = value.get("name")
    if isinstance(name, str) and isinstance(value.get("value"), str) and _SECRET_NAME.search(name):
        out["value"] = REDACTED
    return out
