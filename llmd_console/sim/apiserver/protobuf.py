"""Decoding the Kubernetes protobuf wire format for the objects kubectl's typed commands
send (``kubectl create namespace|secret|configmap``, DeleteOptions).

The envelope is the 4-byte magic ``k8s\\0`` and a ``runtime.Unknown`` message whose
``raw`` field holds the object; field numbers come from k8s.io/api generated.proto.
"""

from __future__ import annotations

import base64
from typing import Any

from llmd_console.sim.apiserver.errors import ApiError

MAGIC = b"k8s\x00"
Schema = dict[int, tuple[str, str, Any]]  # field number -> (json name, kind, sub-schema)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ApiError(400, "truncated protobuf varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


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
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ApiError(400, f"unsupported protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


TIME: Schema = {1: ("seconds", "int", None)}
MAP_STR: Schema = {1: ("key", "str", None), 2: ("value", "str", None)}
MAP_BYTES: Schema = {1: ("key", "str", None), 2: ("value", "b64", None)}
OWNER: Schema = {
    5: ("apiVersion", "str", None),
    1: ("kind", "str", None),
    3: ("name", "str", None),
    4: ("uid", "str", None),
    6: ("controller", "bool", None),
    7: ("blockOwnerDeletion", "bool", None),
}
OBJECT_META: Schema = {
    1: ("name", "str", None),
    2: ("generateName", "str", None),
    3: ("namespace", "str", None),
    5: ("uid", "str", None),
    6: ("resourceVersion", "str", None),
    7: ("generation", "int", None),
    11: ("labels", "map", MAP_STR),
    12: ("annotations", "map", MAP_STR),
    13: ("ownerReferences", "list", OWNER),
    14: ("finalizers", "strlist", None),
}
KINDS: dict[str, Schema] = {
    "Namespace": {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", {1: ("finalizers", "strlist", None)})},
    "Secret": {
        1: ("metadata", "msg", OBJECT_META),
        2: ("data", "map", MAP_BYTES),
        3: ("type", "str", None),
        4: ("stringData", "map", MAP_STR),
        5: ("immutable", "bool", None),
    },
    "ConfigMap": {
        1: ("metadata", "msg", OBJECT_META),
        2: ("data", "map", MAP_STR),
        3: ("binaryData", "map", MAP_BYTES),
        4: ("immutable", "bool", None),
    },
    "ServiceAccount": {1: ("metadata", "msg", OBJECT_META)},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "int", None),
        4: ("propagationPolicy", "str", None),
        5: ("dryRun", "strlist", None),
    },
}


def decode_message(buf: bytes, schema: Schema) -> dict[str, Any]:
    """Decode the fields a schema knows; unknown fields are skipped."""
    out: dict[str, Any] = {}
    for number, _wire, value in fields(buf):
        if number not in schema:
            continue
        name, kind, sub = schema[number]
        if kind == "str":
            out[name] = bytes(value).decode("utf-8")
        elif kind == "int":
            out[name] = int(value)
        elif kind == "bool":
            out[name] = bool(value)
        elif kind == "b64":
            out[name] = base64.b64encode(bytes(value)).decode()
        elif kind == "msg":
            out[name] = decode_message(value, sub)
        elif kind == "list":
            out.setdefault(name, []).append(decode_message(value, sub))
        elif kind == "strlist":
            out.setdefault(name, []).append(bytes(value).decode("utf-8"))
        elif kind == "map":
            entry = decode_message(value, sub)
            out.setdefault(name, {})[entry.get("key", "")] = entry.get("value", "")
    return out


def decode(raw: bytes) -> dict[str, Any]:
    """A protobuf-encoded object as the JSON-shaped dict the API server works on."""
    if not raw.startswith(MAGIC):
        raise ApiError(400, "protobuf body does not start with the k8s magic prefix")
    envelope = {n: v for n, _w, v in fields(raw[len(MAGIC) :])}
    type_meta = {n: bytes(v).decode() for n, _w, v in fields(envelope.get(1, b""))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    schema = KINDS.get(kind)
    if schema is None:
        raise ApiError(415, f"the server cannot decode {kind or 'this object'} from protobuf; send application/json")
    obj = decode_message(envelope.get(2, b""), schema)
    obj["apiVersion"], obj["kind"] = api_version, kind
    return obj
