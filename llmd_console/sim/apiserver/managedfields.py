"""``metadata.managedFields``: who owns which field, server-side apply's conflicts, and the
removal of fields an applier stops sending.

As the API server's field manager does it:

- an apply (``application/apply-patch+yaml``) makes its manager the owner, operation
  ``Apply``, of exactly the fields it sent; a field another manager owns whose value the
  apply would change is a conflict (409, the managers and fields named) unless
  ``force=true``, which takes the field over; a field the manager applied before and no
  longer sends is removed from the object unless another manager owns it;
- any other write (create, update, patch, the scale and status subresources) makes its
  manager (``fieldManager``, else the client's User-Agent program name) an ``Update`` owner
  of the fields it changed, taking them from whoever owned them;
- a write that sends ``managedFields`` replaces the stored ones (kubectl rewrites them that
  way when it moves client-side apply ownership to server-side apply); ``[{}]`` clears them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.fieldsets import (
    MISSING,
    FieldSet,
    Path,
    from_fields_v1,
    leaves,
    object_fields,
    path_string,
    remove_at,
    to_fields_v1,
    value_at,
)
from llmd_console.sim.storage.objects import Obj

MAX_MANAGER_BYTES = 128
MAX_ENTRIES = 64  # managers kept per object (the oldest Update entries go first)


@dataclass
class Entry:
    """One ``ManagedFieldsEntry``."""

    manager: str
    operation: str  # "Apply" or "Update"
    api_version: str
    time: str
    fields: FieldSet
    subresource: str = ""

    def same_owner(self, manager: str, operation: str, subresource: str) -> bool:
        """Whether this entry is the one a write by ``manager`` updates."""
        return (self.manager, self.operation, self.subresource) == (manager, operation, subresource)

    def encode(self) -> Obj:
        """The entry as the API server writes it."""
        out: Obj = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(self.fields),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self) -> str:
        """The manager as conflicts name it (printManager in the API server)."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}" + (f" at {self.time}" if self.time else "")
        return text


@dataclass
class Writer:
    """Who is writing and how: the manager, the served apiVersion, the time, the subresource."""

    manager: str
    api_version: str
    now: str
    subresource: str = ""
    status_in_main: bool = True  # the type has no status subresource: status is an ordinary field


def manager_of(request: web.Request, *, apply: bool) -> str:
    """The request's field manager: ``fieldManager`` or the User-Agent's program name."""
    name = request.query.get("fieldManager")
    options = {"POST": "CreateOptions", "PUT": "UpdateOptions"}.get(request.method, "PatchOptions")
    if name is None:
        if apply:
            raise _invalid_options(options, "fieldManager: Required value: is required for apply patch")
        name = request.headers.get("User-Agent", "").split("/", 1)[0]
    if len(name.encode()) > MAX_MANAGER_BYTES:
        raise _invalid_options(options, f"fieldManager: Too long: may not be more than {MAX_MANAGER_BYTES} bytes")
    if any(not ch.isprintable() for ch in name):
        raise _invalid_options(options, "fieldManager: Invalid value: must only contain printable characters")
    if "force" in request.query:
        if not apply:
            raise _invalid_options(options, "force: Forbidden: may not be specified for non-apply patch")
        if request.query["force"] not in ("true", "false", "1", "0", "True", "False"):
            raise ApiError(400, f'invalid value for force: strconv.ParseBool: parsing "{request.query["force"][:64]}"')
    return name


def _invalid_options(kind: str, message: str) -> ApiError:
    details = {"group": "meta.k8s.io", "kind": kind}
    return ApiError(422, f'{kind}.meta.k8s.io "" is invalid: {message}', "Invalid", details)


def decode(obj: Obj | None) -> list[Entry]:
    """The entries stored on ``obj`` (malformed ones refused with a 422)."""
    raw = ((obj or {}).get("metadata") or {}).get("managedFields")
    if not isinstance(raw, list):
        return []
    entries = []
    for item in raw[:MAX_ENTRIES]:
        if not isinstance(item, dict) or not item:
            continue
        entries.append(
            Entry(
                manager=str(item.get("manager") or ""),
                operation=str(item.get("operation") or "Update"),
                api_version=str(item.get("apiVersion") or ""),
                time=str(item.get("time") or ""),
                fields=from_fields_v1(item.get("fieldsV1") or {}),
                subresource=str(item.get("subresource") or ""),
            )
        )
    return entries


def _store(obj: Obj, entries: list[Entry]) -> None:
    kept = [e for e in entries if e.fields][-MAX_ENTRIES:]
    metadata = obj.setdefault("metadata", {})
    if kept:
        metadata["managedFields"] = [e.encode() for e in kept]
    else:
        metadata.pop("managedFields", None)


def _base_entries(live: Obj | None, new: Obj) -> list[Entry] | None:
    """The entries a write starts from: those it sent, if it changed them, else the stored
    ones; None when it asked for them to be cleared (``[{}]``)."""
    sent = (new.get("metadata") or {}).get("managedFields")
    if sent == [{}]:
        return None
    stored = ((live or {}).get("metadata") or {}).get("managedFields")
    if isinstance(sent, list) and sent and sent != stored:
        return decode(new)
    return decode(live)


def record_update(live: Obj | None, new: Obj, writer: Writer) -> None:
    """Record a non-apply write of ``new`` over ``live`` in ``new``'s managedFields."""
    base = _base_entries(live, new)
    if base is None:
        new["metadata"].pop("managedFields", None)
        return
    status, sub = writer.status_in_main, writer.subresource
    new_fields = object_fields(new, status=status, subresource=sub)
    old_fields = object_fields(live, status=status, subresource=sub) if live is not None else set()
    tips = leaves(new_fields)
    changed = {
        p for p in new_fields if value_at(live, p) is MISSING or (p in tips and value_at(live, p) != value_at(new, p))
    }
    gone = old_fields - new_fields
    mine: Entry | None = None
    for entry in base:
        if entry.same_owner(writer.manager, "Update", writer.subresource):
            mine = entry
        entry.fields -= changed | gone
    if changed:
        if mine is None:
            mine = Entry(writer.manager, "Update", writer.api_version, writer.now, set(), writer.subresource)
            base.append(mine)
        mine.fields |= changed
        mine.api_version, mine.time = writer.api_version, writer.now
    _store(new, base)


def record_apply(live: Obj | None, applied: Obj, merged: Obj, writer: Writer, *, force: bool) -> None:
    """Server-side apply of ``applied`` (already merged into ``merged``): check conflicts,
    hand over forced fields, remove the fields the manager stopped applying, and record the
    manager's ``Apply`` entry in ``merged``."""
    entries = decode(live)
    sent = object_fields(applied, status=writer.status_in_main)
    mine = next((e for e in entries if e.same_owner(writer.manager, "Apply", "")), None)
    others = [e for e in entries if e is not mine]
    tips = leaves(sent)
    conflicts = [
        (entry, path)
        for entry in others
        for path in sorted(entry.fields & tips)
        if value_at(live, path) != value_at(merged, path)
    ]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry, path in conflicts:
        entry.fields.discard(path)
    previous = mine.fields if mine is not None else set()
    for path in sorted(previous - sent, key=len):
        if not any(_owns(entry.fields, path) for entry in others):
            remove_at(merged, path)
    if mine is None:
        mine = Entry(writer.manager, "Apply", writer.api_version, writer.now, set())
        entries.append(mine)
    elif mine.fields != sent or mine.api_version != writer.api_version:
        mine.time = writer.now  # an apply that changes nothing keeps the entry as it was
    mine.fields, mine.api_version = sent, writer.api_version
    _store(merged, entries)


def _owns(fields: FieldSet, path: Path) -> bool:
    """Whether ``fields`` holds ``path`` or anything under it."""
    size = len(path)
    return any(p[:size] == path for p in fields)


def _conflict_error(conflicts: list[tuple[Entry, Path]]) -> ApiError:
    causes = [
        {"reason": "FieldManagerConflict", "message": f"conflict with {e.describe()}", "field": path_string(p)}
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path_string(path)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(entry.describe(), []).append(path_string(path))
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {p}" for p in by_manager[manager])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, message, "Conflict", {"causes": causes})
