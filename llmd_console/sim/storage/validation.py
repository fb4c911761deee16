"""Name, label and annotation rules, as apimachinery's validation states them.

One place for the rules every object shares (``metadata.name``, label keys and
values, annotation keys and total size) and for the selector parser's checks of
the same keys and values. Each check returns an error message (empty when valid)
worded like the API server's, so callers decide between a 422 and a 400.
All patterns use ``fullmatch`` with ASCII classes: ``$`` would accept a trailing
newline and ``\\w``/``[0-9]`` would accept non-ASCII digits.
"""

from __future__ import annotations

import re
from typing import Any

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024  # TotalAnnotationSizeLimitB

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", re.ASCII)
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII)
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?", re.ASCII)
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", re.ASCII)
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", re.ASCII)


def _show(value: str) -> str:
    """A value quoted as Go's %q would (control characters escaped), and bounded."""
    text = value if len(value) <= 80 else value[:80] + "..."
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def dns1123_label(value: str) -> str:
    """Namespaces and most names that become DNS labels."""
    if len(value) > DNS1123_LABEL_MAX:
        return f"Invalid value: {_show(value)}: must be no more than {DNS1123_LABEL_MAX} characters"
    if not _DNS1123_LABEL.fullmatch(value):
        return (
            f"Invalid value: {_show(value)}: a lowercase RFC 1123 label must consist of lower case alphanumeric "
            "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
            "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        )
    return ""


def dns1035_label(value: str) -> str:
    """Service names: DNS labels that start with a letter."""
    if len(value) > DNS1123_LABEL_MAX:
        return f"Invalid value: {_show(value)}: must be no more than {DNS1123_LABEL_MAX} characters"
    if not _DNS1035_LABEL.fullmatch(value):
        return (
            f"Invalid value: {_show(value)}: a DNS-1035 label must consist of lower case alphanumeric characters "
            "or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  "
            "or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        )
    return ""


def dns1123_subdomain(value: str) -> str:
    """Most object names."""
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        return f"Invalid value: {_show(value)}: must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        return (
            f"Invalid value: {_show(value)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
            "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    return ""


def qualified_name(value: str) -> str:
    """A label or annotation key: an optional DNS-subdomain prefix, '/', and a name."""
    prefix, slash, name = value.rpartition("/")
    if slash and not prefix:
        return f"Invalid value: {_show(value)}: prefix part must be non-empty"
    if prefix:
        if "/" in prefix:
            return (
                f"Invalid value: {_show(value)}: a qualified name must consist of alphanumeric characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain "
                "prefix and '/'"
            )
        problem = dns1123_subdomain(prefix)
        if problem:
            return f"Invalid value: {_show(value)}: prefix part {problem.split(': ', 2)[-1]}"
    if not name:
        return f"Invalid value: {_show(value)}: name part must be non-empty"
    if len(name) > QUALIFIED_NAME_MAX:
        return f"Invalid value: {_show(value)}: name part must be no more than {QUALIFIED_NAME_MAX} characters"
    if not _QUALIFIED_NAME.fullmatch(name):
        return (
            f"Invalid value: {_show(value)}: name part must consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
            "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return ""


def label_value(value: str) -> str:
    """A label value: empty, or up to 63 of [-A-Za-z0-9_.] starting and ending alphanumeric."""
    if len(value) > LABEL_VALUE_MAX:
        return f"Invalid value: {_show(value)}: must be no more than {LABEL_VALUE_MAX} characters"
    if not _LABEL_VALUE.fullmatch(value):
        return (
            f"Invalid value: {_show(value)}: a valid label must be an empty string or consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
            "or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        )
    return ""


def label_map(field: str, value: Any) -> list[tuple[str, str]]:
    """(field, message) for every bad key or value of a labels map."""
    if not isinstance(value, dict):
        return []
    causes = []
    for key, val in value.items():
        problem = qualified_name(str(key))
        if problem:
            causes.append((field, problem))
        problem = label_value(str(val))
        if problem:
            causes.append((field, problem))
    return causes


def annotation_map(field: str, value: Any) -> list[tuple[str, str]]:
    """(field, message) for bad annotation keys and for a total size over 256 KiB."""
    if not isinstance(value, dict):
        return []
    causes = []
    total = 0
    for key, val in value.items():
        problem = qualified_name(str(key).lower())
        if problem:
            causes.append((field, problem))
        total += len(str(key).encode()) + len(str(val).encode())
    if total > ANNOTATIONS_MAX_BYTES:
        causes.append((field, f"Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes"))
    return causes
