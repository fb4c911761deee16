"""Where the OpenAI API is reached, and an HTTP client set up for that path.

Finding the endpoint (gateway address, config URL, API server proxy) is in ``resolve``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

# Connections are kept for the next prompt; a load run opens at most this many at once.
MAX_CONNECTIONS = 256


@dataclass(frozen=True)
class Endpoint:
    """A base URL the OpenAI API is under (``/v1`` is appended per request) and how it was found."""

    base_url: str  # e.g. "http://34.1.2.3"
    how: str  # which path is used, in words: "gateway 34.1.2.3 (its status address)", "config url", ...
    headers: Mapping[str, str] = field(default_factory=dict)  # extra headers (auth for the API server proxy)
    verify: bool | str = True  # check the server's certificate (or: a CA bundle file)
    cert: tuple[str, str] | None = None  # a client certificate and key (the API server proxy)
    served_by: str | None = None  # the one pod every request on this path reaches (a pod proxy), if so
    # The Gateway's status address URL when this path was chosen ("" when it had none; None when
    # the Gateway was not looked at): a different one later means the choice is out of date.
    gateway_seen: str | None = None

    def url(self, path: str) -> str:
        """The full URL of an API path such as ``/v1/models``."""
        return self.base_url.rstrip("/") + path

    def client(self, timeout: float = 10.0) -> httpx.AsyncClient:
        """An HTTP client for this path: its TLS settings and headers; ``timeout`` bounds connecting,
        writing and waiting for a pooled connection. Reads are left unbounded here because
        :func:`~llmd_console.inference.client.send` bounds them itself (stall and deadline)."""
        return httpx.AsyncClient(
            headers=dict(self.headers),
            verify=self.ssl_context() if self.base_url.startswith("https:") else True,
            timeout=httpx.Timeout(timeout, read=None),
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would change what "the gateway" answers
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS settings: the system's CAs, a CA bundle, or no check; plus the client certificate."""
        if self.verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif isinstance(self.verify, str):
            context = ssl.create_default_context(cafile=self.verify)
        else:
            context = ssl.create_default_context()
        if self.cert is not None:
            context.load_cert_chain(*self.cert)
        return context
