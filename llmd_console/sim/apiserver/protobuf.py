"""Decoding the Kubernetes protobuf wire format, which kubectl's typed commands send
(``kubectl create deployment|job|cronjob|service|role|quota|priorityclass|...``, ``autoscale``,
``auth can-i``, ``auth whoami``, DeleteOptions).

The envelope is the 4-byte magic ``k8s\\0`` and a ``runtime.Unknown`` message whose
``raw`` field holds the object. The field numbers of every message decoded here are listed in
``protobuf_fields.txt`` (facts from k8s.io/api's generated.proto); decoding yields the same
JSON-shaped object the JSON encoding of the request would have carried.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from llmd_console.sim.apiserver.errors import ApiError

MAGIC = b"k8s\x00"
INLINE = "*"  # the table's name for an embedded struct whose JSON fields are inlined
MAX_DEPTH = 64  # messages nested deeper than any Kubernetes kind are refused
# apiVersion group -> the package name used in protobuf_fields.txt
GROUP_PACKAGES = {
    "": "core",
    "apps": "apps",
    "batch": "batch",
    "rbac.authorization.k8s.io": "rbac",
    "policy": "policy",
    "networking.k8s.io": "networking",
    "authorization.k8s.io": "authorization",
    "authentication.k8s.io": "authentication",
    "autoscaling": "autoscaling",
    "scheduling.k8s.io": "scheduling",
}


@dataclass(frozen=True)
class Field:
    """One field of a message: its JSON name, type, and whether a zero value is left out."""

    name: str
    type: str
    omit_zero: bool


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ApiError(400, "unable to decode the protobuf body: truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ApiError(400, "unable to decode the protobuf body: varint longer than 10 bytes")


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for every field of a message."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 2, 5):
            if wire == 2:
                length, pos = _varint(buf, pos)
            else:
                length = 8 if wire == 1 else 4
            if pos + length > len(buf):
                raise ApiError(400, f"unable to decode the protobuf body: field {number} runs past the end")
            value, pos = buf[pos : pos + length], pos + length
        else:
            raise ApiError(400, f"unable to decode the protobuf body: unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


@cache
def messages() -> dict[str, dict[int, Field]]:
    """The message table from protobuf_fields.txt, parsed once."""
    text = resources.files("llmd_console.sim.apiserver").joinpath("protobuf_fields.txt").read_text("utf-8")
    table: dict[str, dict[int, Field]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, *entries = line.split()
        msg: dict[int, Field] = {}
        for entry in entries:
            number, field_name, ftype = entry.split(":", 2)
            msg[int(number)] = Field(field_name.rstrip("?"), ftype, field_name.endswith("?"))
        table[name] = msg
    return table


def _signed(value: int) -> int:
    """A varint read as Go's int32/int64 (negative numbers are 10-byte two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _text(value: bytes) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"unable to decode the protobuf body: a string field is not UTF-8: {exc}") from exc


def _time(buf: bytes, micro: bool) -> str | None:
    if not buf:
        return None  # Go's zero time is sent as an empty message; JSON says null
    parts = {n: v for n, _w, v in fields(buf)}
    try:
        when = datetime.fromtimestamp(_signed(parts.get(1, 0)), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ApiError(400, f"unable to decode the protobuf body: time out of range: {exc}") from exc
    if micro:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{_signed(parts.get(2, 0)) // 1000:06d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar(ftype: str, wire: int, value: Any, depth: int) -> Any:
    if (wire == 0) != (ftype in ("int", "bool")):
        raise ApiError(400, f"unable to decode the protobuf body: {ftype} sent with wire type {wire}")
    if ftype == "str":
        return _text(value)
    if ftype == "int":
        return _signed(int(value))
    if ftype == "bool":
        return bool(value)
    if ftype == "b64":
        return base64.b64encode(bytes(value)).decode()
    if ftype in ("time", "microtime"):
        return _time(value, ftype == "microtime")
    if ftype == "quantity":
        return _text({n: v for n, _w, v in fields(value)}.get(1, b""))
    if ftype == "intstr":
        parts = {n: v for n, _w, v in fields(value)}
        return _text(parts.get(3, b"")) if parts.get(1, 0) == 1 else _signed(parts.get(2, 0))
    if ftype == "raw":
        raw = bytes({n: v for n, _w, v in fields(value)}.get(1, b""))
        try:
            return json.loads(raw) if raw else None
        except ValueError as exc:
            raise ApiError(400, f"unable to decode the protobuf body: embedded JSON: {exc}") from exc
    return decode_message(value, ftype, depth + 1)


def _zero(value: Any) -> bool:
    return value in ("", 0, False) and not isinstance(value, float)


def decode_message(buf: bytes, name: str, depth: int = 0) -> dict[str, Any]:
    """Decode one message by its name in the table; unknown field numbers are skipped, as
    Go's decoder skips them."""
    if depth > MAX_DEPTH:
        raise ApiError(400, f"unable to decode the protobuf body: nested deeper than {MAX_DEPTH} messages")
    schema = messages()[name]
    out: dict[str, Any] = {}
    for number, wire, value in fields(buf):
        spec = schema.get(number)
        if spec is None:
            continue
        ftype = spec.type
        if ftype.startswith("map:"):
            entry = {n: (w, v) for n, w, v in fields(value)}
            key = _text(entry[1][1]) if 1 in entry else ""
            item = _scalar(ftype[4:], *entry[2], depth) if 2 in entry else _scalar(ftype[4:], 2, b"", depth)
            out.setdefault(spec.name, {})[key] = item
        elif ftype.startswith("[]"):
            items = out.setdefault(spec.name, [])
            if ftype == "[]int" and wire == 2:  # packed
                pos = 0
                while pos < len(value):
                    item, pos = _varint(value, pos)
                    items.append(_signed(item))
            else:
                items.append(_scalar(ftype[2:], wire, value, depth))
        else:
            decoded = _scalar(ftype, wire, value, depth)
            if decoded is None or (spec.omit_zero and _zero(decoded)):
                continue
            if spec.name == INLINE:
                out.update(decoded)
            else:
                out[spec.name] = decoded
    return out


def message_for(api_version: str, kind: str) -> str | None:
    """The table's message name for a kind sent as ``apiVersion``, or None."""
    if kind == "DeleteOptions":
        return "meta/DeleteOptions"
    group, _, version = api_version.rpartition("/")
    package = GROUP_PACKAGES.get(group)
    if package is None:
        return None
    name = f"{package}/{kind}" if version == "v1" else f"{package}.{version}/{kind}"
    return name if name in messages() else None


def decode(raw: bytes) -> dict[str, Any]:
    """A protobuf-encoded object as the JSON-shaped dict the API server works on."""
    if not raw.startswith(MAGIC):
        raise ApiError(400, "protobuf body does not start with the k8s magic prefix")
    envelope = {n: v for n, _w, v in fields(raw[len(MAGIC) :])}
    type_meta = {n: _text(v) for n, _w, v in fields(envelope.get(1, b""))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    name = message_for(api_version, kind)
    if name is None:
        raise ApiError(
            415,
            f"the server cannot decode {kind or 'this object'} ({api_version or 'no apiVersion'}) from protobuf; "
            "send application/json",
            "UnsupportedMediaType",
        )
    obj = decode_message(envelope.get(2, b""), name)
    return {"apiVersion": api_version, "kind": kind, **obj}
