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
