"""The protobuf request decoder on hand-encoded messages: the wire rules kubectl's encoder
relies on, and clear refusals of malformed bodies."""

from __future__ import annotations

import pytest

from llmd_console.sim.apiserver import protobuf
from llmd_console.sim.apiserver.errors import ApiError


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers travel as 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _bytes(number: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(raw)) + raw


def _envelope(api_version: str, kind: str, body: bytes) -> bytes:
    type_meta = _bytes(1, api_version) + _bytes(2, kind)
    return protobuf.MAGIC + _bytes(1, type_meta) + _bytes(2, body)


def test_deployment_fields_as_json_would_carry_them() -> None:
    labels = _bytes(1, "app") + _bytes(2, "web")
    meta = _bytes(1, "web") + _bytes(2, "") + _bytes(11, labels) + _bytes(8, b"")  # zero time: empty message
    port = _int(3, 8080) + _bytes(4, "TCP") + _bytes(1, "")
    container = _bytes(1, "web") + _bytes(2, "nginx") + _bytes(6, port) + _int(16, 0) + _bytes(5, "")
    # A probe's handler is an embedded struct whose fields JSON inlines.
    http_get = _bytes(1, "/health") + _bytes(2, _int(1, 0) + _int(2, 8000))
    probe = _bytes(1, _bytes(2, http_get)) + _int(4, 5)
    container += _bytes(11, probe)
    pod_spec = _bytes(2, container) + _bytes(3, "Always")
    template = _bytes(1, _bytes(11, labels)) + _bytes(2, pod_spec)
    spec = _int(1, 0) + _bytes(2, _bytes(1, labels)) + _bytes(3, template) + _int(5, 0)
    obj = protobuf.decode(_envelope("apps/v1", "Deployment", _bytes(1, meta) + _bytes(2, spec)))
    assert obj["apiVersion"] == "apps/v1" and obj["kind"] == "Deployment"
    assert obj["metadata"] == {"name": "web", "labels": {"app": "web"}}  # "" and zero time left out
    assert obj["spec"]["replicas"] == 0  # a pointer set to zero is kept
    assert "minReadySeconds" not in obj["spec"]  # omitempty zero dropped
    c = obj["spec"]["template"]["spec"]["containers"][0]
    assert c["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert "stdin" not in c and "workingDir" not in c
    assert c["readinessProbe"] == {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 5}


def test_negative_ints_int_or_string_and_packed_lists() -> None:
    string_port = _bytes(4, _int(1, 1) + _bytes(3, "metrics"))
    ports = _bytes(1, _bytes(1, "a") + _int(3, 80) + _bytes(4, _int(1, 0) + _int(2, 8080)))
    ports += _bytes(1, _bytes(1, "b") + _int(3, 9090) + string_port)
    svc = protobuf.decode(_envelope("v1", "Service", _bytes(2, ports)))
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(80, 8080), (9090, "metrics")]
    grace = protobuf.decode(_envelope("v1", "DeleteOptions", _int(1, -1)))
    assert grace["gracePeriodSeconds"] == -1
    packed = _bytes(1, _bytes(2, _bytes(3, _varint(1) + _varint(3) + _varint(300))))
    pod_failure = protobuf.decode_message(packed, "batch/PodFailurePolicy")
    assert pod_failure == {"rules": [{"onExitCodes": {"values": [1, 3, 300]}}]}


def test_secret_bytes_become_base64() -> None:
    entry = _bytes(1, "token") + _bytes(2, b"\x00\xffhi")
    secret = protobuf.decode(_envelope("v1", "Secret", _bytes(2, entry) + _bytes(3, "Opaque")))
    assert secret["data"] == {"token": "AP9oaQ=="} and secret["type"] == "Opaque"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"k8s\x00" + b"\x0a\xff", "truncated varint"),
        (b"k8s\x00" + b"\x0a\x05ab", "runs past the end"),
        (b"k8s\x00" + b"\x0b", "unsupported wire type 3"),
        (b"not-k8s", "magic prefix"),
        (_envelope("v1", "Namespace", _int(1, 5)), "meta/ObjectMeta sent with wire type 0"),
        (_envelope("v1", "Namespace", _bytes(1, _bytes(1, b"\xff\xfe"))), "not UTF-8"),
    ],
)
def test_malformed_bodies_are_refused_with_the_reason(body: bytes, words: str) -> None:
    with pytest.raises(ApiError) as refused:
        protobuf.decode(body)
    assert refused.value.code == 400 and words in refused.value.message


def test_a_kind_without_field_numbers_is_415() -> None:
    with pytest.raises(ApiError) as refused:
        protobuf.decode(_envelope("apps/v1", "StatefulSet", b""))
    assert refused.value.code == 415 and "StatefulSet (apps/v1)" in refused.value.message


def test_nesting_is_bounded() -> None:
    # No message in the table nests itself, so the bound is reached by asking for it directly.
    with pytest.raises(ApiError) as refused:
        protobuf.decode_message(b"", "meta/ObjectMeta", depth=protobuf.MAX_DEPTH + 1)
    assert "nested deeper" in refused.value.message
