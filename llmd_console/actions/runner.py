"""Carrying out a plan: refuse in read-only mode, confirm, execute, audit. Every path
(refused, cancelled, failed, done) leaves one audit record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from llmd_console.actions.audit import AuditLog, Outcome
from llmd_console.actions.plan import Plan
from llmd_console.actions.safety import Busy, OneAtATime, explain


@dataclass(frozen=True)
class Result:
    """How a plan ended, in words for a notification."""

    outcome: Outcome
    message: str


async def carry_out(
    plan: Plan,
    execute: Callable[[], Awaitable[str]],
    *,
    confirm: Callable[[Plan], Awaitable[bool]],
    audit: AuditLog,
    context: str,
    read_only: bool,
    guard: OneAtATime | None = None,
) -> Result:
    """Run ``plan`` if the operator confirms it; ``execute`` returns what the server said.
    With a ``guard``, a plan started while another runs is refused (and audited as refused)."""
    if guard is not None:
        try:
            with guard.hold(plan.title):
                return await carry_out(
                    plan, execute, confirm=confirm, audit=audit, context=context, read_only=read_only
                )
        except Busy as exc:
            _record(audit, plan, context, "refused", str(exc))
            return Result("refused", f"{plan.title} refused: {exc}")
    if read_only:
        message = f"read-only: {plan.title} refused (the console was started with --read-only)"
        _record(audit, plan, context, "refused", "read-only")
        return Result("refused", message)
    if not await confirm(plan):
        _record(audit, plan, context, "cancelled")
        return Result("cancelled", f"{plan.title}: cancelled")
    try:
        said = await execute()
    except Exception as exc:  # the API's refusal, a lost connection: said to the operator and audited
        detail = explain(exc)
        _record(audit, plan, context, "failed", detail)
        return Result("failed", f"{plan.title} failed: {detail}")
    _record(audit, plan, context, "done", said)
    return Result("done", f"{plan.title}: {said}" if said else plan.title)


def _record(audit: AuditLog, plan: Plan, context: str, outcome: Outcome, detail: str = "") -> None:
    """One audit line; an unwritable log raises OSError to the caller, which tells the operator."""
    audit.record(plan, context, outcome, detail)
