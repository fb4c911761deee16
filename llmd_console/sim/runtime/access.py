"""The control endpoint's access part: restrict what the simulated user may do from outside
(a test in another process, a demo), as ``SimContext.deny`` does from inside.

- ``GET /llmd-sim/v1/access``: the denied resource keys and the denials;
- ``POST /llmd-sim/v1/access/denials`` with ``{"verb": "patch", "resource": "deployments/scale",
  "namespace": "ns", "group": "apps"}`` (namespace and group optional): deny it;
- ``DELETE /llmd-sim/v1/access/denials``: lift every denial.
"""

from __future__ import annotations

from aiohttp import web

from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json

FIELDS = ("verb", "resource", "namespace", "group")


def access_state(ctx: SimContext) -> dict[str, object]:
    """What is denied now."""
    return {"denied": sorted(ctx.denied), "denials": [d.to_json() for d in ctx.denials]}


async def serve_access(ctx: SimContext, request: web.Request, path: str) -> web.Response:
    """Route one ``/access`` control request (``path`` without the control prefix)."""
    if path == "/access" and request.method == "GET":
        return web.json_response(access_state(ctx))
    if path != "/access/denials" or request.method not in ("POST", "DELETE"):
        return web.json_response({"error": f"no such control endpoint: {request.method} {request.path}"}, status=404)
    if request.method == "DELETE":
        ctx.undeny()
        return web.json_response(access_state(ctx))
    try:
        body = loads_json(await request.read() or b"{}")
    except DecodeError as exc:
        return web.json_response({"error": f"request body is not JSON: {exc}"}, status=400)
    if (
        not isinstance(body, dict)
        or set(body) - set(FIELDS)
        or not all(isinstance(body.get(k), str) for k in ("verb", "resource"))
    ):
        return web.json_response(
            {"error": 'expected {"verb": "...", "resource": "...", "namespace"?: "...", "group"?: "..."}'}, status=400
        )
    optional = {k: body.get(k) for k in ("namespace", "group")}
    if any(v is not None and not isinstance(v, str) for v in optional.values()):
        return web.json_response({"error": "namespace and group must be strings"}, status=400)
    try:
        ctx.deny(body["verb"], body["resource"], namespace=optional["namespace"], group=optional["group"])
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(access_state(ctx))
