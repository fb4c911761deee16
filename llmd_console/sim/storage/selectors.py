"""Label and field selectors, parsed the way the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.storage import validation
from llmd_console.sim.storage.objects import Obj, get_path

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_CMP_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=|>|<)\s*([^\s,]*)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # in, notin, exists, !exists, gt, lt
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether the labels satisfy this clause."""
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op == "notin":
            return not present or labels[self.key] not in self.values
        if not present:
            return False
        try:
            value, bound = int(labels[self.key]), int(self.values[0])
        except ValueError:
            return False
        return value > bound if self.op == "gt" else value < bound


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _requirement(key: str, op: str, values: tuple[str, ...]) -> Requirement:
    """A requirement whose key and values follow the label rules (as labels.NewRequirement checks)."""
    problem = validation.qualified_name(key)
    if problem:
        raise ApiError(400, f"unable to parse requirement: key: {problem}")
    if op in ("gt", "lt"):
        if len(values) != 1 or not re.fullmatch(r"[+-]?[0-9]{1,18}", values[0], re.ASCII):
            raise ApiError(400, "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer")
        return Requirement(key, op, values)
    for i, value in enumerate(values):
        problem = validation.label_value(value)
        if problem:
            raise ApiError(400, f"unable to parse requirement: values[{i}][{key}]: {problem}")
    return Requirement(key, op, values)


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse ``a=b,c!=d,e in (x,y),!f``; raises a 400 ApiError when malformed."""
    if not text:
        return []
    reqs: list[Requirement] = []
    for clause in _split_top_level(text):
        cmp_match = _CMP_RE.fullmatch(clause)
        if cmp_match:
            key, op, value = cmp_match.group(1), cmp_match.group(3), cmp_match.group(4)
            mapped = {"=": "in", "==": "in", "!=": "notin", ">": "gt", "<": "lt"}[op]
            reqs.append(_requirement(key, mapped, (value,)))
            continue
        set_match = _SET_RE.fullmatch(clause)
        if set_match:
            negate, key, op, values = set_match.group(1), set_match.group(2), set_match.group(4), set_match.group(5)
            if op:
                if negate:
                    break
                vals = tuple(v.strip() for v in (values or "").split(",") if v.strip())
                reqs.append(_requirement(key, op, vals))
            else:
                reqs.append(_requirement(key, "!exists" if negate else "exists", ()))
            continue
        raise ApiError(
            400, f"unable to parse requirement: found '{clause.strip()}', expected: in, notin, =, ==, !=, gt, lt"
        )
    else:
        return reqs
    raise ApiError(400, f"unable to parse requirement: {text}")


def selector_from_label_selector(sel: Obj | None) -> list[Requirement]:
    """Requirements from a ``LabelSelector`` object (matchLabels + matchExpressions)."""
    if not sel:
        return []
    reqs = [Requirement(k, "in", (str(v),)) for k, v in (sel.get("matchLabels") or {}).items()]
    for expr in sel.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}.get(expr.get("operator", ""))
        if op is None:
            raise ApiError(400, f"invalid label selector operator {expr.get('operator')!r}")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(str(v) for v in expr.get("values") or [])))
    return reqs


def labels_match(reqs: list[Requirement], labels: dict[str, str]) -> bool:
    """Whether all requirements hold (an empty selector matches everything)."""
    return all(r.matches(labels) for r in reqs)


def format_selector(match_labels: dict[str, str]) -> str:
    """``a=b,c=d`` for a matchLabels map."""
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


FieldPredicate = Callable[[Obj], bool]


# Field labels each type supports beyond metadata.name and metadata.namespace
# (the API server's per-type field label conversion functions).
FIELD_LABELS: dict[str, frozenset[str]] = {
    "pods": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        }
    ),
    "nodes": frozenset({"spec.unschedulable"}),
    "events": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "secrets": frozenset({"type"}),
    "namespaces": frozenset({"status.phase"}),
    "replicasets.apps": frozenset({"status.replicas"}),
}
_FIELD_CLAUSE = re.compile(r"([A-Za-z0-9_.\-]+)\s*(==|=|!=)\s*(.*)", re.ASCII | re.DOTALL)


def parse_field_selector(text: str | None, key: str | None = None) -> list[FieldPredicate]:
    """Parse ``a.b=c,d!=e`` into predicates on the object; with ``key`` (a resource type key),
    a field that type does not support is a 400 ``field label not supported``."""
    if not text:
        return []
    preds: list[FieldPredicate] = []
    for raw in text.split(","):
        clause = raw.strip()
        if not clause:
            continue
        match = _FIELD_CLAUSE.fullmatch(clause)
        if not match:
            raise ApiError(400, f"invalid field selector: '{clause}'")
        path, op, value = match.group(1), match.group(2), match.group(3)
        supported = path in ("metadata.name", "metadata.namespace") or path in FIELD_LABELS.get(key or "", ())
        if key is not None and not supported:
            raise ApiError(400, f"field label not supported: {path}")
        preds.append(_field_pred(path, op != "!=", value))
    return preds


def _field_pred(path: str, equal: bool, value: str) -> FieldPredicate:
    def pred(obj: Obj) -> bool:
        actual = get_path(obj, path)
        text = "" if actual is None else (str(actual).lower() if isinstance(actual, bool) else str(actual))
        return (text == value) == equal

    return pred


def fields_match(preds: list[FieldPredicate], obj: Obj) -> bool:
    """Whether all field predicates hold."""
    return all(p(obj) for p in preds)
