"""An OAuth access token for the Container API, from application default credentials or the
gcloud user login, each run as an argument list (never a shell)."""

from __future__ import annotations

import asyncio
import shutil

TOKEN_COMMANDS = {
    "adc": ("gcloud", "auth", "application-default", "print-access-token"),
    "gcloud": ("gcloud", "auth", "print-access-token"),
}
MAX_TOKEN_BYTES = 8192


class CredentialsError(Exception):
    """No token could be had; the message says which commands were tried and why they failed."""


async def access_token(auth: str, seconds: float = 30.0) -> str | None:
    """A bearer token for ``auth`` (auto | adc | gcloud | none); None for ``none``."""
    if auth == "none":
        return None
    order = ("adc", "gcloud") if auth == "auto" else (auth,)
    why: list[str] = []
    for source in order:
        argv = TOKEN_COMMANDS[source]
        binary = shutil.which(argv[0])
        if binary is None:
            why.append(f"{' '.join(argv)}: {argv[0]} is not installed")
            continue
        try:
            token = await _run((binary, *argv[1:]), seconds)
        except CredentialsError as exc:
            why.append(f"{' '.join(argv)}: {exc}")
            continue
        return token
    raise CredentialsError("no Google Cloud access token (" + "; ".join(why) + "); try `gcloud auth login`")


async def _run(argv: tuple[str, ...], seconds: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        async with asyncio.timeout(seconds):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise CredentialsError(f"no answer within {seconds:g} s") from None
    if proc.returncode != 0:
        raise CredentialsError(err[-300:].decode("utf-8", "replace").strip() or f"exit status {proc.returncode}")
    token = out[:MAX_TOKEN_BYTES].decode("ascii", "replace").strip()
    if not token:
        raise CredentialsError("it printed no token")
    return token
