"""A proctor's commands and their effects: warn, message, terminate, extend, admit, review,
accept an identity photo, and the verdict on a finished attempt.

Each command carries a client `id`. It is answered `ack` once its action is stored with its
audit entry (the entry and the command's id are committed in one transaction), or `error`
with `ref`. The same id again, from the same proctor, acts once: a command already stored is
acknowledged again; one still running is answered when it ends. Every command is checked
against the proctor's exams first (`not_allowed` outside them), and every effect is a feed
event, so every proctor's page follows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from proctor_server.clock import Clock
from proctor_server.core.console import (
    actor,
    extended_deadline,
    require_finished,
    require_open,
    require_sees,
)
from proctor_server.core.records import AttemptRecord, ProctorRecord
from proctor_server.core.session import warning_limit_for
from proctor_server.exams import ExamRuntime
from proctor_server.store import DuplicateCommand, Store
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, RuleError
from shared.states import Trigger
from shared.timeutil import to_wire
from shared.vocabulary import FinishReason

log = logging.getLogger(__name__)

Reply = p.Ack | p.Error
ConsoleCommand = (
    pp.Warn
    | pp.Message
    | pp.Terminate
    | pp.Extend
    | pp.Admit
    | pp.Review
    | pp.AcceptIdentity
    | pp.Judge
)


class Exams(Protocol):
    async def load(self, exam_id: str) -> ExamRuntime | None: ...


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts, on which exam's feed, with which command."""

    proctor: ProctorRecord
    exam_id: str  # the exam the proctor's feed follows (an admission is for this exam)
    command: ConsoleCommand

    @property
    def by(self) -> str:
        return actor(self.proctor)

    @property
    def record(self) -> tuple[str, str, str]:
        """(proctor id, client id, kind): stored with the audit entry, so it acts once."""
        tag = type(self.command).__struct_config__.tag
        return (self.proctor.id, self.command.id, str(tag))


@dataclass(slots=True)
class Console:
    store: Store
    clock: Clock
    exams: Exams
    _running: dict[tuple[str, str], asyncio.Future[Reply]] = field(default_factory=dict)

    async def run(self, proctor: ProctorRecord, exam_id: str, command: ConsoleCommand) -> Reply:
        """Carry out one command once; its answer."""
        key = (proctor.id, command.id)
        running = self._running.get(key)
        if running is not None:  # the same id while it runs: the same answer
            return await asyncio.shield(running)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            reply = await self._run(Acting(proctor, exam_id, command))
            future.set_result(reply)
            return reply
        finally:
            del self._running[key]

    async def _run(self, acting: Acting) -> Reply:
        ref = acting.command.id
        if await self.store.command_seen(acting.proctor.id, ref):
            return p.Ack(id=ref)
        try:
            await HANDLERS[type(acting.command)](self, acting)
        except DuplicateCommand:  # stored meanwhile (by another server process): acted once
            return p.Ack(id=ref)
        except RuleError as exc:
            return p.error(exc.code, exc.message, ref)
        except Exception:
            log.exception("proctor command %s (%s) failed", type(acting.command).__name__, ref)
            return p.error(ErrorCode.INTERNAL_ERROR, "the command failed", ref)
        return p.Ack(id=ref)

    # ------------------------------------------------------------ helpers

    async def _attempt(self, acting: Acting, attempt_id: str) -> tuple[AttemptRecord, ExamRuntime]:
        attempt = await self.store.get_attempt(attempt_id)
        require_sees(acting.proctor, attempt.exam_id if attempt else None)
        assert attempt is not None
        runtime = await self.exams.load(attempt.exam_id)
        if runtime is None:
            raise RuleError("no such exam", code=ErrorCode.NOT_ALLOWED)
        return attempt, runtime

    async def _code(self, attempt: AttemptRecord) -> str:
        ticket = await self.store.get_ticket(attempt.ticket)
        return ticket.candidate_code if ticket is not None else ""

    async def _event_base(self, runtime: ExamRuntime, attempt: AttemptRecord) -> dict[str, Any]:
        return {
            "exam": runtime.exam.id,
            "at": runtime.wire_now(),
            "attempt": attempt.id,
            "candidate": await self._code(attempt),
        }

    # ------------------------------------------------------------ the commands

    async def warn(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Warn)
        attempt, runtime = await self._attempt(acting, c.attempt)
        now = self.clock.now()
        require_open(attempt, now)
        used = await self.store.add_warning(
            attempt.id, now, actor=acting.by, text=c.text, command=acting.record
        )
        limit = warning_limit_for(runtime.exam, attempt.mode)
        source = p.WarningSource.PROCTOR
        await runtime.notify(
            attempt.id, p.ProctorWarning(text=c.text, count=used, limit=limit, source=source)
        )
        await runtime.warning_given(attempt, used, c.text, source, acting.by)

    async def message(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Message)
        attempt, runtime = await self._attempt(acting, c.attempt)
        require_open(attempt, self.clock.now())
        delivered = await runtime.notify(attempt.id, p.Notice(text=c.text))
        await self.store.audit(
            acting.by,
            "message",
            {"attempt": attempt.id, "text": c.text, "delivered": delivered},
            self.clock.now(),
            exam=attempt.exam_id,
            command=acting.record,
        )
        base = await self._event_base(runtime, attempt)
        runtime.publish(pp.Messaged(**base, text=c.text, by=acting.by, delivered=delivered))

    async def terminate(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Terminate)
        attempt, runtime = await self._attempt(acting, c.attempt)
        require_open(attempt, self.clock.now())
        finished = await runtime.finalize(
            attempt, Trigger.TERMINATE, FinishReason.TERMINATED, c.reason
        )
        if finished is None:
            raise RuleError("the attempt has already finished", code=ErrorCode.EXAM_OVER)
        await self.store.audit(
            acting.by,
            "terminate",
            {"attempt": attempt.id, "reason": c.reason},
            self.clock.now(),
            exam=attempt.exam_id,
            command=acting.record,
        )

    async def extend(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Extend)
        attempt, runtime = await self._attempt(acting, c.attempt)
        now = self.clock.now()
        ends_at = extended_deadline(attempt, runtime.exam, c.minutes, now)
        detail = {
            "attempt": attempt.id,
            "minutes": c.minutes,
            "reason": c.reason,
            "ends_at": to_wire(ends_at),
        }
        updated = await self.store.set_deadline(
            attempt.id, ends_at, now, (acting.by, "extend", detail), acting.record
        )
        await runtime.deadline_moved(updated)
        base = await self._event_base(runtime, updated)
        runtime.publish(
            pp.Extended(
                **base,
                minutes=c.minutes,
                ends_at=to_wire(updated.ends_at),
                reason=c.reason,
                by=acting.by,
            )
        )

    async def admit(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Admit)
        require_sees(acting.proctor, acting.exam_id)
        runtime = await self.exams.load(acting.exam_id)
        now = self.clock.now()
        if runtime is None or runtime.exam.window.over(now):
            raise RuleError("the exam has ended", code=ErrorCode.EXAM_OVER)
        detail = {"candidate": c.candidate, "reason": c.reason}
        await self.store.admit(
            acting.exam_id, c.candidate, now, (acting.by, "admit", detail), acting.record
        )
        runtime.publish(
            pp.Admitted(
                exam=acting.exam_id,
                at=to_wire(now),
                attempt="",
                candidate=c.candidate,
                reason=c.reason,
                by=acting.by,
            )
        )

    async def review(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Review)
        where = await self.store.violation_exam(c.violation)
        require_sees(acting.proctor, where[1] if where else None)
        assert where is not None
        attempt, runtime = await self._attempt(acting, where[0])
        detail = {
            "attempt": attempt.id,
            "violation": c.violation,
            "verdict": c.verdict.value,
            "note": c.note,
        }
        await self.store.review_violation(
            c.violation,
            c.verdict.value,
            c.note,
            self.clock.now(),
            attempt.exam_id,
            (acting.by, "review", detail),
            acting.record,
        )
        base = await self._event_base(runtime, attempt)
        runtime.publish(
            pp.Reviewed(**base, violation=c.violation, verdict=c.verdict, note=c.note, by=acting.by)
        )

    async def accept_identity(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.AcceptIdentity)
        attempt, runtime = await self._attempt(acting, c.attempt)
        require_open(attempt, self.clock.now())
        await runtime.accept_identity(attempt, f"identity accepted by {acting.by}: {c.reason}")
        await self.store.audit(
            acting.by,
            "accept_identity",
            {"attempt": attempt.id, "reason": c.reason},
            self.clock.now(),
            exam=attempt.exam_id,
            command=acting.record,
        )
        base = await self._event_base(runtime, attempt)
        runtime.publish(pp.IdentityOverridden(**base, reason=c.reason, by=acting.by))

    async def judge(self, acting: Acting) -> None:
        c = acting.command
        assert isinstance(c, pp.Judge)
        attempt, runtime = await self._attempt(acting, c.attempt)
        require_finished(attempt)
        detail = {"attempt": attempt.id, "verdict": c.verdict.value, "note": c.note}
        await self.store.set_verdict(
            attempt.id,
            c.verdict.value,
            c.note,
            self.clock.now(),
            attempt.exam_id,
            (acting.by, "verdict", detail),
            acting.record,
        )
        base = await self._event_base(runtime, attempt)
        runtime.publish(pp.Judged(**base, verdict=c.verdict, note=c.note, by=acting.by))


# One handler per command type: the dispatch table.
HANDLERS: dict[type[ConsoleCommand], Callable[[Console, Acting], Awaitable[None]]] = {
    pp.Warn: Console.warn,
    pp.Message: Console.message,
    pp.Terminate: Console.terminate,
    pp.Extend: Console.extend,
    pp.Admit: Console.admit,
    pp.Review: Console.review,
    pp.AcceptIdentity: Console.accept_identity,
    pp.Judge: Console.judge,
}
