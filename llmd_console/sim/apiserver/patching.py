"""Merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch and apply."""

from __future__ import annotations

import copy
from typing import Any

from llmd_console.sim.apiserver.errors import ApiError

REJECTED = "the server rejected our request due to an error in our request: "

# Strategic-merge keys by field name. The real API server reads these from Go
# struct tags; the fields below are the ones the llm-d objects use.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
# Primitive lists whose strategy is "merge" (set union) rather than replace.
MERGED_PRIMITIVE_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, f"the JSON pointer {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for part in parts:
        if isinstance(cur, dict):
            if part not in cur:
                raise ApiError(
                    422,
                    REJECTED + f"doc is missing path: /{'/'.join(parts)}",
                )
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError) as exc:
                raise ApiError(422, REJECTED + f"invalid index {part!r}") from exc
        else:
            raise ApiError(422, REJECTED + f"cannot traverse into {part!r}")
    return cur


def _add(doc: Any, parts: list[str], value: Any, *, replace: bool) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(
                422,
                REJECTED + f"replace operation does not apply: doc is missing key: /{'/'.join(parts)}: missing value",
            )
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                idx = int(last)
            except ValueError as exc:
                raise ApiError(422, f"invalid array index {last!r}") from exc
            if idx < 0 or idx > len(parent) or (replace and idx >= len(parent)):
                raise ApiError(422, REJECTED + f"index {idx} out of bounds")
            if replace:
                parent[idx] = value
            else:
                parent.insert(idx, value)
    else:
        raise ApiError(422, REJECTED + "parent is not a container")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise ApiError(422, "cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ApiError(
                422,
                REJECTED + f"remove operation does not apply: doc is missing path: /{'/'.join(parts)}",
            )
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            return parent.pop(int(last))
        except (ValueError, IndexError) as exc:
            raise ApiError(422, REJECTED + f"invalid index {last!r}") from exc
    raise ApiError(422, "parent is not a container")


def json_patch(target: Any, ops: Any) -> Any:
    """Apply an RFC 6902 JSON patch; raises a 422 ApiError on a bad operation."""
    if not isinstance(ops, list):
        raise ApiError(
            400,
            REJECTED + "a JSON patch must be a list of operations",
        )
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ApiError(
                422,
                REJECTED + "each JSON patch operation needs 'op' and 'path'",
            )
        kind, path = op["op"], _pointer(str(op["path"]))
        if kind in ("add", "replace"):
            if "value" not in op:
                raise ApiError(
                    422,
                    REJECTED + f"{kind} operation requires a value",
                )
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=kind == "replace")
        elif kind == "remove":
            _remove(doc, path)
        elif kind in ("move", "copy"):
            source = _pointer(str(op.get("from", "")))
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_walk(doc, source))
            doc = _add(doc, path, value, replace=False)
        elif kind == "test":
            if _walk(doc, path) != op.get("value"):
                raise ApiError(
                    422,
                    REJECTED + f"testing value {op['path']} failed",
                )
        else:
            raise ApiError(422, REJECTED + f"unexpected kind: {kind}")
    return doc


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    """A strategic merge patch, with the directives kubectl sends.

    Lists of maps with a known merge key merge by that key; ``$patch: delete`` /
    ``$patch: replace``, ``$retainKeys``, ``$setElementOrder/...`` and
    ``$deleteFromPrimitiveList/...`` are honoured.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list):
                result[name] = [v for v in result[name] if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, key)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: Any, patch: list[Any], field: str) -> list[Any]:
    if not isinstance(current, list):
        current = []
    if field in MERGED_PRIMITIVE_LISTS:
        out = list(current)
        out.extend(v for v in patch if v not in out)
        return out
    key = MERGE_KEYS.get(field)
    if field == "ports" and patch and isinstance(patch[0], dict):
        key = "containerPort" if "containerPort" in patch[0] else "port"
    if key is None or not all(isinstance(p, dict) for p in patch):
        return [copy.deepcopy(v) for v in patch if not (isinstance(v, dict) and v.get("$patch"))]
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if p.get("$patch") != "replace"]
    out = [copy.deepcopy(c) for c in current]
    for item in patch:
        ident = item.get(key)
        idx = next((i for i, c in enumerate(out) if isinstance(c, dict) and c.get(key) == ident), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge_patch({}, item, field))
        else:
            out[idx] = strategic_merge_patch(out[idx], item, field)
    return out


def apply_patch(target: Any, applied: Any) -> Any:
    """Server-side apply, simplified: the applied configuration is merged in like a
    strategic merge patch (the one field manager owns what it sends)."""
    return strategic_merge_patch(target, applied)
