"""What a candidate writes during an attempt: answers, events, the mailing profile, submit.
Each is checked by the core's `check_write`, stored (idempotent by its client id) and only
then acknowledged."""

from __future__ import annotations

from datetime import datetime

from proctor_server.core.conduct import classify, violation_ended, warning_text
from proctor_server.core.session import check_write, event_counts, warning_limit_for
from proctor_server.session.entry import record_signals
from proctor_server.session.live import LiveAttempt, result_message
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, RuleError
from shared.states import AttemptState, Trigger
from shared.vocabulary import EventKind, FinishReason


def require_writable(
    live: LiveAttempt, ref: str, *, needs_paper: bool, now: datetime | None = None
) -> None:
    attempt = live.attempt
    at = live.deps.clock.now() if now is None else now
    check_write(attempt.state, attempt.ends_at, at, needs_paper=needs_paper, ref=ref)


async def answer(live: LiveAttempt, m: p.Answer, now: datetime) -> None:
    """Store an answer received at `now` (checked and stored at that time), then ack it."""
    require_writable(live, m.id, needs_paper=True, now=now)
    question, choice = live.paper.read_answer(m)
    try:
        await live.deps.store.save_answer(live.attempt_id, m.id, question, choice, now)
    except RuleError as exc:
        exc.ref = m.id
        raise
    await live.send(p.Ack(id=m.id))


async def event(live: LiveAttempt, m: p.Event) -> None:
    require_writable(live, m.id, needs_paper=False)
    deps, attempt = live.deps, live.attempt
    outcome = classify(m.kind)
    counts = event_counts(attempt)
    violation = outcome.violation if counts else None
    ends = outcome.ends if counts else None
    try:
        saved = await deps.store.save_event(
            attempt.id, m.id, m.kind, m.at, deps.clock.now(), m.detail, violation, ends
        )
    except RuleError as exc:
        exc.ref = m.id
        raise
    await live.send(p.Ack(id=m.id))
    if not saved.new:
        return
    live.runtime.publish(
        pp.ClientEvent(
            exam=live.runtime.exam.id,
            at=live.runtime.wire_now(),
            attempt=attempt.id,
            candidate=live.code,
            kind=m.kind,
            client_at=m.at,
            violation=violation,
        )
    )
    for ended in saved.ended:  # the leave is over: the proctors see how long it lasted
        assert ended.ended_at is not None
        live.runtime.publish(
            violation_ended(
                live.runtime.exam.id, live.runtime.wire_now(), live.code, ended, ended.ended_at
            )
        )
    if m.kind is EventKind.DEVICE_SIGNAL:
        await record_signals(live, m.detail)
    if outcome.warn:
        limit = warning_limit_for(live.runtime.exam, attempt.mode)
        now = deps.clock.now()
        text_for = warning_text(m.kind, attempt.warnings_used + 1, limit)
        used = (
            await deps.store.add_warning(attempt.id, now, text=text_for)
            if counts
            else attempt.warnings_used
        )
        live.attempt.warnings_used = used
        text = warning_text(m.kind, used, limit)
        await live.send(p.ProctorWarning(text=text, count=used, limit=limit))
        if counts:  # the proctors see it, and reaching the limit has its consequence
            await live.runtime.warning_given(
                live.attempt, used, text, p.WarningSource.SYSTEM, "system"
            )


async def profile(live: LiveAttempt, m: p.Profile) -> None:
    require_writable(live, m.id, needs_paper=False)
    mail = m.mail_to
    for field_name in ("name", "address", "postcode", "phone"):
        if not getattr(mail, field_name).strip():
            raise RuleError(
                f"the mailing address needs a {field_name}",
                code=ErrorCode.PROTOCOL_ERROR,
                ref=m.id,
            )
    await live.deps.store.save_profile(
        live.attempt_id,
        m.id,
        {
            "name": mail.name,
            "phone": mail.phone,
            "address": mail.address,
            "postcode": mail.postcode,
        },
        live.deps.clock.now(),
    )
    live.attempt.profile_saved = True
    await live.send(p.Ack(id=m.id))
    await live.release_paper()  # the address was the last thing owed before the paper (R14)


async def consent(live: LiveAttempt, m: p.Consent) -> None:
    """The candidate accepted the rules of conduct (R16): stored, audited, then acknowledged;
    no paper goes out before it."""
    require_writable(live, m.id, needs_paper=False)
    await live.deps.store.save_consent(live.attempt_id, m.id, m.version, live.deps.clock.now())
    live.attempt.consent_version = m.version
    await live.send(p.Ack(id=m.id))
    await live.release_paper()


async def submit(live: LiveAttempt, m: p.Submit) -> None:
    if live.attempt.state is AttemptState.SUBMITTED:  # a resend: the same result again
        await live.send(p.Ack(id=m.id))
        await live.send(result_message(live.attempt, FinishReason.SUBMITTED))
        return
    require_writable(live, m.id, needs_paper=True)
    finished = await live.runtime.finalize(live.attempt, Trigger.SUBMIT, FinishReason.SUBMITTED)
    if finished is None:  # the deadline won the race; its result was sent
        raise RuleError("the exam time is over", code=ErrorCode.DEADLINE_PASSED, ref=m.id)
    await live.send(p.Ack(id=m.id))
