"""Entering an attempt: `hello` → the entry decision in one store transaction → `welcome`
(or the result again for a finished attempt, then the refusal)."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from proctor_server.core.console import limit_action
from proctor_server.core.records import AttemptRecord, TicketRecord
from proctor_server.core.session import (
    AttemptFinished,
    Fresh,
    attempt_id_prefix,
    check_ticket,
    decide_entry,
    finish_reason,
    ticket_key,
    warning_limit_for,
)
from proctor_server.session.deps import SessionDeps
from proctor_server.session.live import NONCE_BYTES, Close, LiveAttempt, Send, result_message
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, ProctorError, RuleError
from shared.rules import ExamWindow
from shared.shuffle import SEED_BYTES
from shared.timeutil import to_wire
from shared.vocabulary import Mode, Source, ViolationKind
from shared.watermark import mask_name

log = logging.getLogger(__name__)
ATTEMPT_ID_BYTES = 8  # an attempt's id: its mode's prefix, then this many random bytes as hex


class ExamNotLoaded(ProctorError):
    """The ticket's exam is not loaded in this process yet (load it, then enter again)."""

    def __init__(self, exam_id: str):
        super().__init__(f"exam {exam_id} is not loaded")
        self.exam_id = exam_id


async def enter(
    hello: p.Hello, deps: SessionDeps, send: Send, close: Close, peer: str
) -> LiveAttempt:
    """Admit this hello to its attempt and welcome it; RuleError when entry is refused."""
    if hello.protocol != p.PROTOCOL_VERSION:
        raise RuleError(
            f"this server speaks protocol {p.PROTOCOL_VERSION}, the client {hello.protocol}: "
            "update the app",
            code=ErrorCode.UNSUPPORTED_PROTOCOL,
        )
    now = deps.clock.now()
    key = ticket_key(hello.ticket)  # the raw ticket goes no further than this line
    # the watermark nonce, and a new attempt's id and seed, from one draw of the system's
    # random source (an entry makes thousands of them in the first minutes of a sitting)
    drawn = secrets.token_hex(NONCE_BYTES + ATTEMPT_ID_BYTES + SEED_BYTES)
    nonce, id_end = drawn[: 2 * NONCE_BYTES], 2 * (NONCE_BYTES + ATTEMPT_ID_BYTES)
    fresh = Fresh(attempt_id_prefix(hello.mode) + drawn[2 * NONCE_BYTES : id_end], drawn[id_end:])

    def decide(
        ticket: TicketRecord | None, found: AttemptRecord | None, admitted: Callable[[], bool]
    ) -> AttemptRecord:
        """Inside the store's transaction: pure but for looking up the loaded exam (and the
        admission, read only for a first entry past the window)."""
        valid = check_ticket(ticket, hello.exam, hello.mode)
        runtime = deps.exams.loaded(valid.exam_id)
        if runtime is None:
            raise ExamNotLoaded(valid.exam_id)
        exam = runtime.exam
        late = found is None and hello.mode is Mode.EXAM and now > exam.window.entry_closes_at
        return decide_entry(hello.mode, valid, exam, found, now, fresh, late and admitted())

    try:
        try:  # one write transaction: read the ticket and attempt, decide, write
            ticket, attempt, resumed = await deps.store.enter(key, hello.mode, nonce, now, decide)
        except ExamNotLoaded as missing:  # first entry to an exam created meanwhile
            if await deps.exams.load(missing.exam_id) is None:
                raise RuleError(
                    "this admission ticket's exam does not exist", code=ErrorCode.BAD_TICKET
                ) from None
            ticket, attempt, resumed = await deps.store.enter(key, hello.mode, nonce, now, decide)
    except AttemptFinished as finished:
        # The candidate missed the result (offline at the deadline, or the link dropped
        # after submitting): show it again before refusing entry (R17).
        await send(result_message(finished.attempt, finish_reason(finished.attempt.state)))
        await _audit_refusal(deps, hello, key, finished, now)
        raise
    except RuleError as refused:
        await _audit_refusal(deps, hello, key, refused, now)
        raise
    runtime = deps.exams.loaded(ticket.exam_id)
    assert runtime is not None
    if not resumed:
        runtime.new_quota(attempt.id)
    live = LiveAttempt(deps, runtime, ticket, attempt, nonce, send, close, peer)
    runtime.schedule_deadline(attempt)
    old = runtime.attach(live)  # and the older connection is closed meanwhile
    if old is not None:
        log.info("attempt %s: a new connection replaces %s", attempt.id, old.peer)
    await record_signals(live, hello.client)
    await send(_welcome(live, resumed, now))
    reconnects = runtime.quality.entered(attempt.id, resumed)
    if runtime.deps.bus.watched(runtime.exam.id):  # built only when a proctor follows
        runtime.publish(
            pp.Joined(
                exam=runtime.exam.id,
                at=to_wire(now),
                attempt=attempt.id,
                candidate=ticket.candidate_code,
                name=mask_name(ticket.name),
                mode=attempt.mode,
                state=attempt.state,
                resumed=resumed,
                reconnects=reconnects,
            )
        )
    await live.release_paper()
    return live


async def _audit_refusal(
    deps: SessionDeps, hello: p.Hello, key: str, refused: RuleError, at: datetime
) -> None:
    """A refused entry is a decision too: audited in its exam's chain when the ticket is
    known (an unknown ticket names no exam, and is not worth a line per guess)."""
    ticket = await deps.store.get_ticket(key)
    if ticket is None:
        return
    await deps.store.audit(
        "system",
        "entry_refused",
        {
            "candidate": ticket.candidate_code,
            "mode": hello.mode.value,
            "code": refused.code.value,
            "why": refused.message,
        },
        at,
        exam=ticket.exam_id,
    )


def _welcome(live: LiveAttempt, resumed: bool, now: datetime) -> p.Welcome:
    exam, attempt = live.runtime.exam, live.attempt
    limit = warning_limit_for(exam, attempt.mode)
    return p.Welcome(
        session=attempt.id,
        mode=attempt.mode,
        exam=_exam_info(exam.id, exam.title, live.window),
        server_time=to_wire(now),
        snapshot_interval_s=exam.snapshot_interval_s,
        watermark=p.WatermarkInfo(text=live.watermark(), nonce=live.nonce),
        candidate=p.CandidateInfo(code=live.code, name=mask_name(live.ticket.name)),
        state=attempt.state.value,
        identity_accepted=attempt.identity_accepted,
        profile_saved=attempt.profile_saved,
        consent_version=attempt.consent_version,
        warning_limit=limit,
        warnings_used=attempt.warnings_used,
        resumed=resumed,
        warning_limit_action=limit_action(exam, limit),
        media=live.deps.media.enabled,
        ice_servers=live.deps.media.ice_servers,
    )


@functools.lru_cache(maxsize=256)
def _exam_info(exam_id: str, title: str, window: ExamWindow) -> p.ExamInfo:
    """An exam's times as the welcome shows them, formatted once per exam (and trial window)."""
    return p.ExamInfo(
        id=exam_id,
        title=title,
        starts_at=to_wire(window.starts_at),
        entry_opens_at=to_wire(window.entry_opens_at),
        entry_closes_at=to_wire(window.entry_closes_at),
        ends_at=to_wire(window.ends_at),
    )


async def record_signals(live: LiveAttempt, client: dict[str, Any]) -> None:
    """Judge the device figures a client reports; store what the server finds."""
    deps = live.deps
    for draft in deps.signals.assess(client, deps.clock.now()):
        await deps.store.add_violation(
            live.attempt_id,
            draft.kind,
            Source.SERVER,
            draft.started_at,
            confidence=draft.confidence,
            evidence=draft.evidence,
        )
        live.runtime.publish(
            pp.Flag(
                exam=live.runtime.exam.id,
                at=live.runtime.wire_now(),
                attempt=live.attempt_id,
                candidate=live.code,
                kind=ViolationKind(draft.kind),
                confidence=draft.confidence,
            )
        )
