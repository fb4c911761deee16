"""The OpenAI-compatible HTTP server a Ready vLLM pod runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from llmd_console.sim.context import SimContext
from llmd_console.sim.programs.base import ContainerIO


class VllmServer:
    """Answers on the vLLM port: ``/health`` and ``/v1/models``."""

    def __init__(
        self, ctx: SimContext, served_name: str, model: str, max_model_len: int, port: int, max_num_seqs: int
    ) -> None:
        self.ctx = ctx
        self.served_name = served_name
        self.model = model
        self.max_model_len = max_model_len
        self.port = port
        self.max_num_seqs = max_num_seqs
        self.created = int(time.time())

    def listening(self, port: int) -> bool:
        """vLLM listens on one port."""
        return port == self.port

    def probe(self, port: int, path: str) -> int | None:
        """What an HTTP probe gets."""
        if port != self.port:
            return None
        return 200 if path.split("?", maxsplit=1)[0] in ("/health", "/v1/models", "/ping", "/version") else 404

    def models(self) -> dict[str, Any]:
        """The ``/v1/models`` body."""
        return {
            "object": "list",
            "data": [
                {
                    "id": self.served_name,
                    "object": "model",
                    "created": self.created,
                    "owned_by": "vllm",
                    "root": self.model,
                    "parent": None,
                    "max_model_len": self.max_model_len,
                    "permission": [
                        {
                            "id": f"modelperm-{self.created:x}",
                            "object": "model_permission",
                            "created": self.created,
                            "allow_create_engine": False,
                            "allow_sampling": True,
                            "allow_logprobs": True,
                            "allow_search_indices": False,
                            "allow_view": True,
                            "allow_fine_tuning": False,
                            "organization": "*",
                            "group": None,
                            "is_blocking": False,
                        }
                    ],
                }
            ],
        }

    async def handle(self, port: int, path: str, request: web.Request) -> web.StreamResponse:
        """Route one request."""
        route = path.split("?", maxsplit=1)[0]
        if route == "/health":
            return web.Response(status=200)
        if route == "/v1/models":
            return web.json_response(self.models())
        if route == "/version":
            return web.json_response({"version": "0.11.1"})
        return web.json_response({"detail": "Not Found"}, status=404)

    async def run_forever(self, io: ContainerIO) -> None:
        """Keep the process alive."""
        await asyncio.Event().wait()
