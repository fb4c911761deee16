"""Walking an object against its OpenAPI schema: unknown fields, pruning, and the value
checks the API server makes for custom resources.

Unknown fields: a built-in kind is decoded into Go structs, which drop fields they do not
have (sigs.k8s.io/json reports them as ``unknown field "spec.foo"``); a custom resource is
pruned to its structural schema (apiextensions-apiserver's pruning), except under
``x-kubernetes-preserve-unknown-fields``. Either way the stored object lacks them.

Value checks follow go-openapi's validator as apiextensions-apiserver reports it
(``kubeOpenAPIResultToFieldErrors``): type, required, enum, minimum/maximum,
minLength/maxLength, pattern, minItems/maxItems, min/maxProperties, each turned into the
field error the API server returns.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from llmd_console.sim.storage.objects import Obj

_EMBEDDED = ("apiVersion", "kind", "metadata")
MAX_ERRORS = 100  # bound the report on a huge bad object


def resolve(schema: Obj, components: dict[str, Obj]) -> Obj:
    """Follow ``$ref`` and a lone ``allOf: [{$ref}]`` (kept siblings lose to the target's keys)."""
    for _ in range(8):
        ref = schema.get("$ref")
        all_of = schema.get("allOf")
        if isinstance(ref, str):
            schema = components.get(ref.rsplit("/", 1)[-1], {})
        elif (
            isinstance(all_of, list)
            and len(all_of) == 1
            and isinstance(all_of[0], dict)
            and "$ref" in all_of[0]
            and not schema.get("properties")
        ):
            schema = all_of[0]
        else:
            break
    return schema


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Pruner:
    """Drops the fields a schema does not declare and records where they were; in a CRD
    schema, also fills in the declared defaults of absent fields."""

    def __init__(self, components: dict[str, Obj], *, structural: bool) -> None:
        # structural: a CRD schema, where an object with no properties holds no fields;
        # otherwise a built-in schema, where such an object is free-form JSON.
        self.components = components
        self.structural = structural
        self.unknown: list[str] = []

    def prune(self, value: Any, schema: Obj, path: str = "", *, root: bool = False) -> Any:
        """``value`` without undeclared fields; their paths are added to ``self.unknown``."""
        schema = resolve(schema, self.components)
        if isinstance(value, list):
            items = schema.get("items")
            if isinstance(items, dict):
                return [self.prune(v, items, f"{path}[{i}]") for i, v in enumerate(value)]
            return value
        if not isinstance(value, dict):
            return value
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        embedded = root or schema.get("x-kubernetes-embedded-resource") is True
        if not isinstance(props, dict) and not isinstance(extra, dict):
            if preserve or not self.structural or schema.get("type") not in (None, "object"):
                return value
            props = {}
        out = {}
        for key, child in value.items():
            where = _child(path, key)
            if isinstance(props, dict) and key in props:
                if child is None and self.structural and not resolve(props[key], self.components).get("nullable"):
                    continue  # a null where the schema is not nullable is dropped, as by the API server
                out[key] = self.prune(child, props[key], where)
            elif isinstance(extra, dict):
                out[key] = self.prune(child, extra, f"{path}[{key}]" if path else key)
            elif preserve or (embedded and key in _EMBEDDED) or (extra is True and not self.structural):
                out[key] = child
            else:
                self.unknown.append(where)
        if self.structural and isinstance(props, dict):
            # Structural defaulting: an absent field whose schema has a default gets it.
            for key, sub in props.items():
                if key not in out and isinstance(sub, dict) and "default" in sub:
                    out[key] = self.prune(copy.deepcopy(sub["default"]), sub, _child(path, key))
        return out


@dataclass(frozen=True)
class FieldError:
    """One ``field.Error``: its type, path, the value shown and the detail."""

    reason: str  # the Status cause reason, e.g. FieldValueTypeInvalid
    field: str
    body: str  # ErrorBody(): "Invalid value: 3: ..." / "Required value"

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def go_value(value: Any) -> str:
    """A bad value as field.Error prints it: strings quoted, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return '"null"'
    return go_format(value)


def _go_number(value: float) -> str:
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e21):
        return str(int(value))
    return repr(value)


def go_format(value: Any) -> str:
    """Go's ``%+v`` of a decoded JSON value (``map[a:1 b:[x y]]``)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_number(value)
    if value is None:
        return "<nil>"
    return str(value)


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


# JSON Schema's names for decoded JSON values (bool before int: a bool is an int in Python).
_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "boolean"),
    ((int, float), "integer"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _json_type(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return "number"
    return next((name for kinds, name in _JSON_TYPES if isinstance(value, kinds)), "null")


def _type_ok(value: Any, want: str, schema: Obj) -> bool:
    got = _json_type(value)
    if schema.get("x-kubernetes-int-or-string") is True:
        return got in ("integer", "string")
    if got == "null":
        return schema.get("nullable") is True
    return got == want or (want == "number" and got == "integer")


class Validator:
    """go-openapi's checks over a structural schema, reported as the API server reports them."""

    def __init__(self, components: dict[str, Obj]) -> None:
        self.components = components
        self.errors: list[FieldError] = []

    def _add(self, reason: str, path: str, body: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FieldError(reason, path, body))

    def _invalid(self, path: str, value: Any, detail: str, reason: str = "FieldValueInvalid") -> None:
        self._add(reason, path, f"Invalid value: {go_value(value)}: {detail}")

    def validate(self, value: Any, schema: Obj, path: str = "") -> None:
        """Check ``value`` and everything under it."""
        schema = resolve(schema, self.components)
        where = path or "<root>"
        want = schema.get("type")
        if isinstance(want, str) and not _type_ok(value, want, schema):
            got = _json_type(value)
            self._add(
                "FieldValueTypeInvalid",
                path,
                f'Invalid value: "{got}": {where} in body must be of type {want}: "{got}"',
            )
            return
        if value is None:
            return
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and value not in enum:
            allowed = ", ".join(json.dumps(e if isinstance(e, str) else json.dumps(e)) for e in enum)
            self._add(
                "FieldValueNotSupported", path, f"Unsupported value: {go_value(value)}: supported values: {allowed}"
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(value, schema, path, where)
        elif isinstance(value, str):
            self._string(value, schema, path, where)
        elif isinstance(value, list):
            self._array(value, schema, path, where)
        elif isinstance(value, dict):
            self._object(value, schema, path, where)

    def _number(self, value: float, schema: Obj, path: str, where: str) -> None:
        high, low = schema.get("maximum"), schema.get("minimum")
        if isinstance(high, (int, float)):
            if schema.get("exclusiveMaximum") is True and value >= high:
                self._invalid(path, value, f"{where} in body should be less than {_go_number(high)}")
            elif value > high:
                self._invalid(path, value, f"{where} in body should be less than or equal to {_go_number(high)}")
        if isinstance(low, (int, float)):
            if schema.get("exclusiveMinimum") is True and value <= low:
                self._invalid(path, value, f"{where} in body should be greater than {_go_number(low)}")
            elif value < low:
                self._invalid(path, value, f"{where} in body should be greater than or equal to {_go_number(low)}")
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0 and (value / step) != int(value / step):
            self._invalid(path, value, f"{where} in body should be a multiple of {_go_number(step)}")

    def _string(self, value: str, schema: Obj, path: str, where: str) -> None:
        longest, shortest = schema.get("maxLength"), schema.get("minLength")
        if isinstance(longest, int) and len(value) > longest:
            unit = "byte" if longest == 1 else "bytes"
            self._add("FieldValueTooLong", path, f"Too long: may not be more than {longest} {unit}")
        if isinstance(shortest, int) and len(value) < shortest:
            self._invalid(path, value, f"{where} in body should be at least {shortest} chars long")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            compiled = _pattern(pattern)
            if compiled is not None and compiled.search(value) is None:
                self._invalid(path, value, f"{where} in body should match '{pattern}'")

    def _array(self, value: list[Any], schema: Obj, path: str, where: str) -> None:
        most, least = schema.get("maxItems"), schema.get("minItems")
        if isinstance(most, int) and len(value) > most:
            unit = "item" if most == 1 else "items"
            self._add("FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {most} {unit}")
        if isinstance(least, int) and len(value) < least:
            self._invalid(path, go_format(value), f"{where} in body should have at least {least} items")
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                self.validate(item, items, f"{path}[{i}]")

    def _object(self, value: Obj, schema: Obj, path: str, where: str) -> None:
        for name in schema.get("required") or []:
            if name not in value:
                self._add("FieldValueRequired", _child(path, name), "Required value")
        most, least = schema.get("maxProperties"), schema.get("minProperties")
        if isinstance(most, int) and len(value) > most:
            self._add("FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {most} items")
        if isinstance(least, int) and len(value) < least:
            self._invalid(path, len(value), f"{where} in body should have at least {least} properties")
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            if isinstance(props, dict) and key in props:
                self.validate(child, props[key], _child(path, key))
            elif isinstance(extra, dict):
                self.validate(child, extra, f"{path}[{key}]")
