"""Kubernetes API errors, rendered as ``Status`` objects."""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "AlreadyExists",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An error the API server answers with a ``Status`` body."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self) -> dict[str, Any]:
        """The ``Status`` object for this error, its keys in the order Go's encoder writes
        them and empty detail fields left out (``omitempty``), as the API server sends it.
        A 404 always has ``details`` (kubectl's error handling reads it)."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        details = self.details if self.details is not None else ({} if self.code == 404 else None)
        if details is not None:
            body["details"] = _status_details(details)
        body["code"] = self.code
        return body


DETAIL_KEYS = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
CAUSE_KEYS = ("reason", "message", "field")


def _status_details(details: dict[str, Any]) -> dict[str, Any]:
    """StatusDetails in Go's field order, without empty fields."""
    out = {k: details[k] for k in DETAIL_KEYS if details.get(k)}
    if "causes" in out:
        out["causes"] = [{k: c[k] for k in CAUSE_KEYS if c.get(k)} for c in out["causes"]]
    return out


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    """``<resource>.<group> "name" not found``, as the API server says it."""
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(
        404,
        f'{qualified} "{name}" not found',
        "NotFound",
        {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource},
    )


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    """``<resource> "name" already exists``."""
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(
        409, f'{qualified} "{name}" already exists', "AlreadyExists", {"name": name, "group": group, "kind": resource}
    )


def conflict(resource: str, name: str, group: str = "") -> ApiError:
    """An optimistic-concurrency conflict on update."""
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        "Conflict",
        {"name": name, "group": group, "kind": resource},
    )


# field.Error's message prefix -> the StatusCause reason the API server gives it
CAUSE_REASONS = {
    "Required value": "FieldValueRequired",
    "Forbidden": "FieldValueForbidden",
    "Unsupported value": "FieldValueNotSupported",
    "Duplicate value": "FieldValueDuplicate",
    "Not found": "FieldValueNotFound",
    "Too long": "FieldValueTooLong",
    "Too many": "FieldValueTooMany",
    "Internal error": "InternalError",
}


def cause_reason(message: str) -> str:
    """The StatusCause reason of a field error, from its message's prefix (else FieldValueInvalid)."""
    for prefix, reason in CAUSE_REASONS.items():
        if message.startswith(prefix):
            return reason
    return "FieldValueInvalid"


def invalid(kind: str, name: str, causes: list[tuple[str, str]], group: str = "") -> ApiError:
    """A 422 ``Invalid`` error with one cause per (field, message)."""
    qualified = f"{kind}.{group}" if group else kind
    text = "; ".join(f"{field}: {msg}" for field, msg in causes)
    return ApiError(
        422,
        f'{qualified} "{name}" is invalid: {text}',
        "Invalid",
        {
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": cause_reason(m), "message": m, "field": f} for f, m in causes],
        },
    )
