"""Query parameters, decoded once per request the way the API server decodes them.

The real API server converts the query string into typed options (``ListOptions``,
``PodLogOptions``, ``DeleteOptions``) before any handler runs: an integer parameter
must be a plain base-10 int64 (Go's ``strconv.ParseInt``), so ``nan``, ``inf``,
``1e400``, ``1.5`` or ``" 1"`` are refused with a 400 ``BadRequest`` and never reach a
timer or a slice. Handlers read the decoded values through :func:`int_param`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from llmd_console.sim.apiserver.errors import ApiError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Parameters the simulator reads as integers (all int64 on the wire).
INT_PARAMS = ("timeoutSeconds", "limit", "tailLines", "sinceSeconds", "limitBytes", "gracePeriodSeconds")
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_KEY = web.RequestKey("llmd_sim_int_params", dict[str, int])


def parse_int64(name: str, raw: str) -> int:
    """One int64 query parameter; a 400 Status when it is not one."""
    if not _INT.fullmatch(raw):
        raise ApiError(400, f'invalid value for {name}: strconv.ParseInt: parsing "{raw[:64]}": invalid syntax')
    value = int(raw)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ApiError(400, f'invalid value for {name}: strconv.ParseInt: parsing "{raw[:64]}": value out of range')
    return value


def decode_query(query: Mapping[str, str]) -> dict[str, int]:
    """Every integer parameter present in ``query``, validated."""
    return {name: parse_int64(name, query[name]) for name in INT_PARAMS if name in query}


def validate(request: web.Request) -> None:
    """Decode the request's integer parameters once; raises a 400 ApiError when one is malformed."""
    request[_KEY] = decode_query(request.query)


def int_param(request: web.Request, name: str) -> int | None:
    """A decoded integer parameter (None when absent)."""
    decoded = request.get(_KEY)
    if decoded is None:
        decoded = decode_query(request.query)
        request[_KEY] = decoded
    return decoded.get(name)


_DRY_RUN = web.RequestKey("llmd_sim_dry_run", bool)


def _check_dry_run(values: list[object], options: str) -> bool:
    for value in values:
        if value != "All":
            shown = str(value)[:64].replace("\\", "\\\\").replace('"', '\\"')
            raise ApiError(
                422,
                f'{options}.meta.k8s.io "" is invalid: dryRun: Unsupported value: "{shown}": supported values: "All"',
                "Invalid",
                {"group": "meta.k8s.io", "kind": options},
            )
    return bool(values)


def validate_dry_run(request: web.Request, delete_options: Mapping[str, object] | None = None) -> None:
    """Check ``dryRun`` (the query's, and a DeleteOptions body's): only ``All`` exists."""
    options = {"POST": "CreateOptions", "PUT": "UpdateOptions", "DELETE": "DeleteOptions"}.get(
        request.method, "PatchOptions"
    )
    dry = _check_dry_run(list(request.query.getall("dryRun", [])), options)
    if delete_options is not None:
        body = delete_options.get("dryRun")
        if body is not None and not isinstance(body, list):
            raise ApiError(400, "json: cannot unmarshal into Go struct field DeleteOptions.dryRun of type []string")
        dry = _check_dry_run(list(body or []), options) or dry
    request[_DRY_RUN] = dry or request.get(_DRY_RUN, False)


def dry_run(request: web.Request) -> bool:
    """Whether the request is a dry run: validated, answered as if done, nothing stored."""
    if _DRY_RUN not in request:
        validate_dry_run(request)
    return request[_DRY_RUN]
