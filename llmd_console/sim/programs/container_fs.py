"""The files of a simulated container the simulator can state honestly: the ones Kubernetes
itself puts there (hostname, hosts file, service account namespace, termination log) and the
contents of mounted ConfigMap, Secret and emptyDir volumes. The image's own files are unknown.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from dataclasses import dataclass, field
from typing import Any

from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass
class ContainerFiles:
    """Known files (path -> bytes) and the directories whose whole content is known."""

    files: dict[str, bytes] = field(default_factory=dict)
    complete_dirs: set[str] = field(default_factory=set)

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory holding known files (or a known, empty one)."""
        prefix = path.rstrip("/") + "/"
        return path in self.complete_dirs or any(f.startswith(prefix) for f in self.files)

    def listing_known(self, path: str) -> bool:
        """Whether every entry of the directory is known (a volume mount, not the image's own)."""
        path = path.rstrip("/") or "/"
        return any(path == d or path.startswith(d.rstrip("/") + "/") for d in self.complete_dirs)

    def entries(self, path: str) -> list[str]:
        """Names directly under a directory."""
        prefix = path.rstrip("/") + "/"
        names = {f[len(prefix) :].split("/", 1)[0] for f in self.files if f.startswith(prefix)}
        names |= {d[len(prefix) :].split("/", 1)[0] for d in self.complete_dirs if d.startswith(prefix)}
        return sorted(n for n in names if n)

    def walk(self, path: str) -> list[str]:
        """Every known file at or under ``path``."""
        path = path.rstrip("/") or "/"
        prefix = path + "/" if path != "/" else "/"
        return sorted(f for f in self.files if f == path or f.startswith(prefix))


def hostname(pod: Obj) -> str:
    """The pod's hostname: ``spec.hostname``, else its name (at most 63 characters)."""
    return str(pod.get("spec", {}).get("hostname") or pod["metadata"]["name"])[:63]


def _hosts_file(pod: Obj) -> bytes:
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
    ]
    ip = pod.get("status", {}).get("podIP")
    if ip:
        lines.append(f"{ip}\t{hostname(pod)}")
    aliases = pod.get("spec", {}).get("hostAliases") or []
    if aliases:
        lines.append("")
        lines.append("# Entries added by HostAliases.")
        lines.extend(f"{a.get('ip', '')}\t" + "\t".join(a.get("hostnames") or []) for a in aliases)
    return ("\n".join(lines) + "\n").encode()


def _key_files(data: dict[str, Any], binary: dict[str, Any], items: list[Any] | None) -> dict[str, bytes]:
    """A ConfigMap's or Secret's keys as files (``items`` selects and renames them)."""
    content: dict[str, bytes] = {}
    for key, value in data.items():
        content[key] = value if isinstance(value, bytes) else str(value).encode()
    for key, value in binary.items():
        try:
            content[key] = base64.b64decode(str(value))
        except (binascii.Error, ValueError):
            content[key] = b""
    if not items:
        return content
    return {str(i.get("path", "")): content[i["key"]] for i in items if i.get("key") in content and i.get("path")}


def _volume_files(ctx: SimContext, ns: str, volume: Obj) -> dict[str, bytes] | None:
    """Relative path -> content for a volume whose content the simulator knows (None otherwise)."""
    if "emptyDir" in volume:
        return {}
    sources: list[Obj] = []
    if "configMap" in volume:
        sources.append({"configMap": volume["configMap"]})
    if "secret" in volume:
        sources.append({"secret": volume["secret"]})
    if "projected" in volume:
        sources.extend(volume["projected"].get("sources") or [])
    if not sources:
        return None
    out: dict[str, bytes] = {}
    for source in sources:
        if "configMap" in source:
            ref = source["configMap"]
            cm = ctx.store.get("configmaps", ns, str(ref.get("name", ""))) or {}
            out.update(_key_files(cm.get("data") or {}, cm.get("binaryData") or {}, ref.get("items")))
        elif "secret" in source:
            ref = source["secret"]
            secret = ctx.store.get("secrets", ns, str(ref.get("secretName") or ref.get("name") or "")) or {}
            out.update(_key_files({}, secret.get("data") or {}, ref.get("items")))
        else:
            return None  # a service account token or downward API file: not simulated
    return out


def container_files(ctx: SimContext, pod: Obj, container: Obj) -> ContainerFiles:
    """What ``cat``, ``ls`` and ``tar`` can read in this container."""
    ns = str(pod["metadata"].get("namespace", ""))
    spec = pod.get("spec", {})
    known = ContainerFiles()
    known.files["/etc/hostname"] = (hostname(pod) + "\n").encode()
    known.files["/etc/hosts"] = _hosts_file(pod)
    known.files[str(container.get("terminationMessagePath") or "/dev/termination-log")] = b""
    if spec.get("automountServiceAccountToken") is not False:
        known.files[f"{SERVICE_ACCOUNT_DIR}/namespace"] = ns.encode()
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        if volume is None:
            continue
        content = _volume_files(ctx, ns, volume)
        if content is None:
            continue
        target = posixpath.normpath(str(mount.get("mountPath", "/")))
        sub = mount.get("subPath")
        if sub:
            if sub in content:
                known.files[target] = content[sub]
            continue
        known.complete_dirs.add(target)
        for rel, data in content.items():
            known.files[posixpath.join(target, rel)] = data
    return known
