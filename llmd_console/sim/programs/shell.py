"""The commands ``kubectl exec`` can run in a simulated container, answered from what the
simulator knows (the pod spec, mounted ConfigMaps and Secrets, the container's own servers).

Anything else says it is not simulated and exits non-zero, rather than inventing output.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import posixpath
import shlex
import tarfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from llmd_console.sim.programs.base import ConfigError, resolve_env
from llmd_console.sim.programs.container_fs import ContainerFiles, container_files, hostname
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.runtime.podnet import connect
from llmd_console.sim.storage.objects import Obj

MAX_OUTPUT_BYTES = 8 * 1024 * 1024  # what one command may print (curl bodies, tar archives)
CURL_TIMEOUT = 30.0  # wall seconds, like curl --max-time 30
SHELL_OPERATORS = ("|", "&", ";", ">", "<", "$", "`", "(", ")", "*", "?")
NOT_SIMULATED = 127
SIMULATED = "cat, curl, echo, env, false, hostname, ls, printenv, sh -c, tar cf, true"


@dataclass(frozen=True)
class ExecResult:
    """What a command wrote and how it exited."""

    stdout: bytes = b""
    stderr: bytes = b""
    code: int = 0


def _fail(message: str, code: int = 1) -> ExecResult:
    return ExecResult(stderr=(message.rstrip("\n") + "\n").encode(), code=code)


def _service_links(ctx: SimContext, pod: Obj) -> list[tuple[str, str]]:
    """The ``<SVC>_SERVICE_HOST``-style variables the kubelet adds for Services."""
    ns = pod["metadata"].get("namespace", "")
    services = [] if pod.get("spec", {}).get("enableServiceLinks") is False else ctx.store.list("services", ns)
    master = ctx.store.get("services", "default", "kubernetes")
    if master is not None and ns != "default":
        services = [*services, master]
    out: list[tuple[str, str]] = []
    for svc in sorted(services, key=lambda s: str(s["metadata"]["name"])):
        ip = svc.get("spec", {}).get("clusterIP")
        ports = svc.get("spec", {}).get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        name = str(svc["metadata"]["name"]).upper().replace("-", "_")
        first = ports[0]
        proto = str(first.get("protocol", "TCP"))
        out += [(f"{name}_SERVICE_HOST", ip), (f"{name}_SERVICE_PORT", str(first.get("port")))]
        for port in ports:
            if port.get("name"):
                out.append((f"{name}_SERVICE_PORT_{str(port['name']).upper().replace('-', '_')}", str(port["port"])))
        out.append((f"{name}_PORT", f"{proto.lower()}://{ip}:{first.get('port')}"))
        for port in ports:
            p, pr = port.get("port"), str(port.get("protocol", "TCP"))
            prefix = f"{name}_PORT_{p}_{pr}"
            out += [
                (prefix, f"{pr.lower()}://{ip}:{p}"),
                (f"{prefix}_PROTO", pr.lower()),
                (f"{prefix}_PORT", str(p)),
                (f"{prefix}_ADDR", ip),
            ]
    return out


def _env_from(ctx: SimContext, ns: str, container: Obj) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        if "configMapRef" in source:
            cm = ctx.store.get("configmaps", ns, str(source["configMapRef"].get("name", ""))) or {}
            out += [(prefix + k, str(v)) for k, v in (cm.get("data") or {}).items()]
        elif "secretRef" in source:
            secret = ctx.store.get("secrets", ns, str(source["secretRef"].get("name", ""))) or {}
            for k, v in (secret.get("data") or {}).items():
                try:
                    out.append((prefix + k, base64.b64decode(str(v)).decode("utf-8", "replace")))
                except (binascii.Error, ValueError):
                    continue
    return out


def container_env(ctx: SimContext, pod: Obj, container: Obj) -> list[tuple[str, str]]:
    """The environment the container's processes see, as far as Kubernetes sets it: HOSTNAME,
    envFrom, env (secrets resolved, as the process sees them), then Service links. Variables the
    image itself sets (PATH, HOME...) are unknown to the simulator and left out."""
    ns = str(pod["metadata"].get("namespace", ""))
    merged: dict[str, str] = {"HOSTNAME": hostname(pod)}
    merged.update(_env_from(ctx, ns, container))
    # A ConfigError means the container could not have started; exec refuses before this matters.
    with contextlib.suppress(ConfigError):
        merged.update(resolve_env(ctx, pod, container))
    for key, value in _service_links(ctx, pod):
        merged.setdefault(key, value)
    return list(merged.items())


class ContainerShell:
    """Runs one exec'd command in a simulated container."""

    def __init__(self, ctx: SimContext, pod: Obj, container: Obj) -> None:
        self.ctx = ctx
        self.pod = pod
        self.container = container
        self._files: ContainerFiles | None = None
        self._commands: dict[str, Callable[[list[str], bytes], Awaitable[ExecResult]]] = {
            "cat": self._cat,
            "curl": self._curl,
            "echo": self._echo,
            "env": self._env,
            "false": self._false,
            "hostname": self._hostname,
            "ls": self._ls,
            "printenv": self._printenv,
            "tar": self._tar,
            "true": self._true,
        }

    @property
    def files(self) -> ContainerFiles:
        """The files this container is known to hold."""
        if self._files is None:
            self._files = container_files(self.ctx, self.pod, self.container)
        return self._files

    @staticmethod
    def reads_stdin(argv: list[str]) -> bool:
        """Whether the command waits for its standard input to end."""
        name = posixpath.basename(argv[0]) if argv else ""
        if name == "cat":
            return not [a for a in argv[1:] if a != "-"] or "-" in argv[1:]
        return name == "tar" and len(argv) > 1 and "x" in argv[1].lstrip("-")

    async def run(self, argv: list[str], stdin: bytes = b"") -> ExecResult:
        """Run ``argv``; an unknown or unsimulated command exits 127 with a message saying so."""
        if not argv:
            return _fail("llmd-sim: no command given", NOT_SIMULATED)
        name = posixpath.basename(argv[0])
        if name in ("sh", "bash", "ash", "dash"):
            return await self._shell(name, argv[1:], stdin)
        if name.startswith("python"):
            return _fail(
                f"{name}: running Python is not simulated in this container; the simulated commands are: {SIMULATED}",
                NOT_SIMULATED,
            )
        command = self._commands.get(name)
        if command is None:
            return _fail(
                f"llmd-sim: {argv[0]}: command not simulated; the simulated commands are: {SIMULATED}",
                NOT_SIMULATED,
            )
        return await command(argv[1:], stdin)

    async def _shell(self, name: str, args: list[str], stdin: bytes) -> ExecResult:
        if len(args) < 2 or args[0] != "-c":
            return _fail(
                f"{name}: interactive shells are not simulated; run one command, e.g. kubectl exec POD -- env",
                NOT_SIMULATED,
            )
        script = args[1]
        if any(op in script for op in SHELL_OPERATORS):
            return _fail(
                f"{name}: shell syntax (pipes, redirections, variables, globs) is not simulated: {script}",
                NOT_SIMULATED,
            )
        try:
            words = shlex.split(script)
        except ValueError as exc:
            return _fail(f"{name}: -c: syntax error: {exc}", 2)
        return await self.run(words, stdin)

    # ---- the commands -----------------------------------------------------------------
    async def _true(self, args: list[str], stdin: bytes) -> ExecResult:
        return ExecResult()

    async def _false(self, args: list[str], stdin: bytes) -> ExecResult:
        return ExecResult(code=1)

    async def _echo(self, args: list[str], stdin: bytes) -> ExecResult:
        newline = not (args and args[0] == "-n")
        words = args[1:] if not newline else args
        return ExecResult(stdout=(" ".join(words) + ("\n" if newline else "")).encode())

    async def _hostname(self, args: list[str], stdin: bytes) -> ExecResult:
        return ExecResult(stdout=(hostname(self.pod) + "\n").encode())

    async def _env(self, args: list[str], stdin: bytes) -> ExecResult:
        if args:
            return _fail("env: running a command through env is not simulated; run it directly", NOT_SIMULATED)
        env = container_env(self.ctx, self.pod, self.container)
        return ExecResult(stdout="".join(f"{k}={v}\n" for k, v in env).encode())

    async def _printenv(self, args: list[str], stdin: bytes) -> ExecResult:
        env = dict(container_env(self.ctx, self.pod, self.container))
        if not args:
            return ExecResult(stdout="".join(f"{k}={v}\n" for k, v in env.items()).encode())
        found = [env[a] for a in args if a in env]
        return ExecResult(stdout="".join(v + "\n" for v in found).encode(), code=0 if len(found) == len(args) else 1)

    def _unknown(self, tool: str, path: str) -> str:
        return (
            f"{tool}: {path}: not simulated (the simulator knows the files Kubernetes puts in a "
            "container and mounted ConfigMap, Secret and emptyDir volumes, not the image's own files)"
        )

    async def _cat(self, args: list[str], stdin: bytes) -> ExecResult:
        paths = [a for a in args if not a.startswith("-") or a == "-"]
        if not paths:
            return ExecResult(stdout=stdin)
        out, errors = bytearray(), []
        for path in paths:
            if path == "-":
                out += stdin
                continue
            norm = posixpath.normpath(posixpath.join("/", path))
            if norm in self.files.files:
                out += self.files.files[norm]
            elif self.files.is_dir(norm):
                errors.append(f"cat: {path}: Is a directory")
            else:
                errors.append(self._unknown("cat", path))
        return ExecResult(bytes(out), "".join(e + "\n" for e in errors).encode(), 1 if errors else 0)

    async def _ls(self, args: list[str], stdin: bytes) -> ExecResult:
        flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
        unknown = set(flags) - set("1aAF")
        if unknown:
            return _fail(f"ls: option -{''.join(sorted(unknown))}: not simulated (use ls [-1aAF] PATH)", 2)
        paths = [a for a in args if not a.startswith("-")] or ["."]
        out: list[str] = []
        errors: list[str] = []
        for path in paths:
            norm = posixpath.normpath(posixpath.join("/", path))
            if norm in self.files.files:
                out.append(path)
            elif self.files.listing_known(norm):
                names = self.files.entries(norm)
                if len(paths) > 1:
                    out.append(f"{path}:")
                out.extend(names)
            else:
                errors.append(
                    f"ls: {path}: listing not simulated (known: directories of mounted ConfigMap, Secret "
                    f"and emptyDir volumes: {', '.join(sorted(self.files.complete_dirs)) or 'none'})"
                )
        return ExecResult(
            "".join(line + "\n" for line in out).encode(),
            "".join(e + "\n" for e in errors).encode(),
            2 if errors else 0,
        )

    async def _tar(self, args: list[str], stdin: bytes) -> ExecResult:
        if not args:
            return _fail("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options", 2)
        mode = args[0].lstrip("-")
        if "x" in mode:
            return _fail("tar: writing files into the container is not simulated", 2)
        if mode not in ("cf", "fc", "c") or (mode != "c" and (len(args) < 2 or args[1] != "-")):
            return _fail(f"tar: {' '.join(args)}: only 'tar cf - PATH...' is simulated", 2)
        paths = args[2:] if mode != "c" else args[1:]
        buf = io.BytesIO()
        errors: list[str] = []
        stripped = False
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as archive:
            for path in paths:
                norm = posixpath.normpath(posixpath.join("/", path))
                members = self.files.walk(norm)
                if not members:
                    errors.append(self._unknown("tar", path))
                    continue
                stripped = stripped or path.startswith("/")
                for member in members:
                    data = self.files.files[member]
                    info = tarfile.TarInfo(member.lstrip("/"))  # relative paths are taken from /
                    info.size, info.mode, info.mtime = len(data), 0o644, int(self.ctx.clock.now())
                    archive.addfile(info, io.BytesIO(data))
                if buf.tell() > MAX_OUTPUT_BYTES:
                    return _fail(f"tar: archive larger than {MAX_OUTPUT_BYTES} bytes", 2)
        notes = ["tar: Removing leading `/' from member names"] if stripped else []
        notes += errors
        if errors:
            notes.append("tar: Exiting with failure status due to previous errors")
        return ExecResult(buf.getvalue(), "".join(n + "\n" for n in notes).encode(), 2 if errors else 0)

    async def _curl(self, args: list[str], stdin: bytes) -> ExecResult:
        include = fail = False
        url = ""
        for arg in args:
            if arg.startswith("-") and not arg.startswith("--"):
                letters = set(arg[1:])
                if letters - set("sSfiL"):
                    return _fail(f"curl: option {arg}: not simulated (use curl [-sSfiL] http://localhost:PORT/PATH)", 2)
                include |= "i" in letters
                fail |= "f" in letters
            elif arg in ("--silent", "--show-error", "--fail", "--include", "--location"):
                include |= arg == "--include"
                fail |= arg == "--fail"
            elif arg.startswith("--"):
                return _fail(f"curl: option {arg}: not simulated (use curl [-sSfiL] http://localhost:PORT/PATH)", 2)
            else:
                url = arg
        if not url:
            return _fail("curl: no URL specified", 2)
        parts = urlsplit(url if "://" in url else "http://" + url)
        own = {"localhost", "127.0.0.1", hostname(self.pod), self.pod.get("status", {}).get("podIP")}
        if parts.scheme != "http" or parts.hostname not in own:
            return _fail(
                f"curl: {url}: only the container's own ports are simulated (http://localhost:PORT/PATH)",
                NOT_SIMULATED,
            )
        port = parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            status, head, body = await asyncio.wait_for(self._http_get(port, target, parts.netloc), CURL_TIMEOUT)
        except ConnectionRefusedError:
            return _fail(f"curl: (7) Failed to connect to {parts.hostname} port {port}: Connection refused", 7)
        except TimeoutError:
            return _fail(f"curl: (28) Operation timed out after {int(CURL_TIMEOUT * 1000)} milliseconds", 28)
        except ValueError as exc:
            return _fail(f"curl: (8) Weird server reply: {exc}", 8)
        if fail and status >= 400:
            return _fail(f"curl: (22) The requested URL returned error: {status}", 22)
        return ExecResult((head if include else b"") + body)

    async def _http_get(self, port: int, target: str, host: str) -> tuple[int, bytes, bytes]:
        conn = await connect(self.ctx.processes, self.pod["metadata"]["uid"], port)
        try:
            request = f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
            await conn.write((request + "Connection: close\r\n\r\n").encode())
            raw = bytearray()
            while chunk := await conn.read():
                raw += chunk
                if len(raw) > MAX_OUTPUT_BYTES:
                    raise ValueError(f"response larger than {MAX_OUTPUT_BYTES} bytes")
        finally:
            await conn.close()
        head, sep, body = bytes(raw).partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("no end of headers")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise ValueError("bad status line")
        if b"transfer-encoding: chunked" in head.lower():
            body = _dechunk(body)
        return int(status_line[1]), head + b"\r\n\r\n", body


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)
