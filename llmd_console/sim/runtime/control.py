"""The simulator's control endpoint, next to the Kubernetes API on the same port:

- ``GET /llmd-sim/v1/scenarios``: the scenarios and the active one;
- ``PUT /llmd-sim/v1/scenario`` with ``{"name": "..."}``: switch to a scenario;
- ``DELETE /llmd-sim/v1/scenario``: back to the healthy world;
- ``/llmd-sim/v1/access``: what the simulated user may not do (see :mod:`access`).
"""

from __future__ import annotations

from aiohttp import web

from llmd_console.sim.runtime.access import serve_access
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.jsonvalue import DecodeError, loads_json
from llmd_console.sim.worlds.scenarios import SCENARIOS, Faults, ScenarioError

PREFIX = "/llmd-sim/v1"


class Control:
    """Serves the control endpoint for one cluster's :class:`Faults`."""

    def __init__(self, faults: Faults | None, ctx: SimContext) -> None:
        self.faults = faults
        self.ctx = ctx

    def state(self) -> dict[str, object]:
        """The scenario list and the active scenario."""
        return {
            "active": self.faults.active if self.faults else None,
            "scenarios": [{"name": s.name, "summary": s.summary} for s in SCENARIOS.values()],
        }

    async def dispatch(self, request: web.Request) -> web.Response:
        """Route one control request."""
        path = request.path.removeprefix(PREFIX)
        if path == "/access" or path.startswith("/access/"):
            return await serve_access(self.ctx, request, path)
        if path == "/scenarios" and request.method == "GET":
            return web.json_response(self.state())
        if path != "/scenario" or request.method not in ("PUT", "POST", "DELETE"):
            return web.json_response(
                {"error": f"no such control endpoint: {request.method} {request.path}"}, status=404
            )
        if self.faults is None:
            return web.json_response({"error": "scenarios need the Pattern 1 world (not --nodes/--pods)"}, status=409)
        if request.method == "DELETE":
            self.faults.clear()
            return web.json_response(self.state())
        try:
            body = loads_json(await request.read() or b"{}")
        except DecodeError as exc:
            return web.json_response({"error": f"request body is not JSON: {exc}"}, status=400)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            return web.json_response({"error": 'expected {"name": "<scenario>"}'}, status=400)
        try:
            self.faults.set(name)
        except ScenarioError as exc:
            return web.json_response({"error": str(exc)}, status=404 if name not in SCENARIOS else 409)
        return web.json_response(self.state())
