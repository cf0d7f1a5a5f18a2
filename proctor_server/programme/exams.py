"""A sitting's exam day seen from the programme: tickets (R8), results (R7, R18), certificates (R19).

Tickets are rows of the exam server's own `tickets` table, created through
`Store.create_ticket`, so the server admits exactly the candidates issued here. Results
come from the exam attempts' scores (`Store.attempts_of_exam`). Both steps can be run
again after an interruption: what was done is skipped, nothing is issued or published twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from proctor_server.admin import new_ticket_token
from proctor_server.core.session import ticket_key
from proctor_server.programme.notify import enqueue
from proctor_server.programme.ports import Certificate, ProgrammeTx, Registration
from proctor_server.programme.service import Programme
from proctor_server.programme.trial import registration_code
from proctor_server.store import Store
from proctor_server.store.base import AttemptRecord, ExamRecord, TicketRecord
from shared.calendar import Sitting, certificate_expires, local_date
from shared.errors import ConfigError, RuleError
from shared.programme_rules import (
    Action,
    Kind,
    RegState,
    RuleBroken,
    check_certificate_visible,
    check_publish,
    check_tickets,
    outcome,
    transition,
    when,
)
from shared.rules import ENTRY_OPENS_BEFORE
from shared.timeutil import to_wire
from shared.vocabulary import Mode


@dataclass(slots=True)
class TicketReport:
    sitting: str
    exam_id: str
    issued: list[tuple[int, str]] = field(default_factory=list)  # (registration, token)
    late: bool = False
    ticket_by: datetime | None = None


@dataclass(slots=True)
class ResultReport:
    sitting: str
    passed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    no_show: list[int] = field(default_factory=list)
    late: bool = False
    notice_by: datetime | None = None


def candidate_code(reg: Registration) -> str:
    return registration_code(reg.id)


async def issue_tickets(
    prog: Programme, store: Store, month: str, exam_id: str, now: datetime, entry: str
) -> TicketReport:
    """Link the sitting to an exam and issue a ticket to every paid registration in it (R8)."""
    ports = prog.store
    target = await prog.sitting(month)
    if await ports.programme_read(lambda rows: rows.stored_sitting(target.key)) is None:
        raise ConfigError(f"nobody is registered for the {target.key} sitting")
    exam = await store.get_exam(exam_id)
    if exam is None:
        raise ConfigError(
            f"unknown exam: {exam_id!r} (create it with `proctor-server exam create`)"
        )
    starts = exam.starts_at.astimezone(target.tz)
    if starts.date() != target.exam_date:
        raise ConfigError(
            f"exam {exam_id} starts on {starts.date().isoformat()}, but the {target.key} sitting "
            f"is on {target.exam_date.isoformat()}"
        )
    late = check_tickets(target, now, exam.starts_at)

    def link(tx: ProgrammeTx) -> None:
        linked = tx.sitting_exam(target.key)
        if linked is not None and linked != exam_id:
            raise ConfigError(f"the {target.key} sitting is already linked to exam {linked}")
        tx.link_sitting_exam(target.key, exam_id, now)

    await ports.programme_transaction(link)
    report = TicketReport(target.key, exam_id, late=late, ticket_by=target.ticket_by)
    paid = await ports.programme_read(lambda rows: rows.registrations_in(target.key, RegState.PAID))
    for reg in paid:
        token = await _issue(prog, reg, target, exam, now, entry, late)
        if token is not None:
            report.issued.append((reg.id, token))
    return report


async def _issue(
    prog: Programme,
    reg: Registration,
    target: Sitting,
    exam: ExamRecord,
    now: datetime,
    entry: str,
    late: bool,
) -> str | None:
    """One registration's ticket, in one transaction: the exam server's ticket row (its key
    only), the registration ticketed, its history and its notice, which carries the raw
    ticket to the candidate (the outbox holds it until the notice is sent). None when it was
    refunded, moved or ticketed by another run meanwhile."""
    code = candidate_code(reg)
    token = new_ticket_token()
    starts = exam.starts_at.astimezone(target.tz)

    def work(tx: ProgrammeTx) -> str | None:
        fresh = tx.registration(reg.id)
        if fresh.state is not RegState.PAID or fresh.sitting != target.key:
            return None  # refunded, moved or ticketed meanwhile: no ticket was written
        cand = tx.candidate(reg.candidate_id)
        key = ticket_key(token)
        tx.issue_ticket(
            TicketRecord(key, exam.id, code, cand.name, email=cand.email, phone=cand.phone), now
        )
        tx.record_ticket(reg.id, transition(fresh.state, Action.TICKET), exam.id, key, code)
        tx.log(reg.candidate_id, reg.id, now, "ticket_issued", exam_id=exam.id, late=late)
        enqueue(
            tx,
            f"ticket:{reg.id}",
            cand,
            reg.id,
            "ticket",
            f"Admission ticket: {exam.title} on {starts.date().isoformat()}",
            _ticket_text(cand.name, exam.title, starts, token, entry),
            now,
        )
        return token

    return await prog.store.programme_transaction(work)


def _ticket_text(name: str, title: str, starts: datetime, token: str, entry: str) -> str:
    opens = starts - ENTRY_OPENS_BEFORE
    return (
        f"Dear {name},\n\nthis is your admission ticket (R8).\n"
        f"Exam: {title}\nStarts: {when(starts)}\n"
        f"Enter from {when(opens)}; entry closes 30 minutes after the start (R13, R15).\n"
        f"Ticket: {token}\nEntry: {entry.replace('{ticket}', token)}\n"
    )


async def publish_results(prog: Programme, store: Store, month: str, now: datetime) -> ResultReport:
    """Record every ticketed candidate's result, no-shows as fails (R7), and notify (R18)."""
    ports = prog.store
    target = await prog.sitting(month)
    exam_id = await ports.programme_read(lambda rows: rows.sitting_exam(target.key))
    if exam_id is None:
        raise RuleBroken("R8", f"no tickets were issued for the {target.key} sitting")
    exam = await store.get_exam(exam_id)
    if exam is None:
        raise ConfigError(f"the {target.key} sitting's exam {exam_id} is missing from the store")
    check_publish(target, now, exam.window.ends_at)
    unticketed = await ports.programme_read(
        lambda rows: rows.registrations_in(target.key, RegState.PAID)
    )
    if unticketed:
        ids = ", ".join(f"#{r.id}" for r in unticketed)
        raise RuleBroken("R8", f"paid registrations without a ticket ({ids}): issue tickets first")
    attempts = {a.ticket: a for a in await store.attempts_of_exam(exam_id) if a.mode == Mode.EXAM}
    open_ = [a.id for a in attempts.values() if not a.state.finished]
    if open_:
        raise RuleError(
            f"{len(open_)} exam attempts are still unfinished; the exam server closes them at "
            f"the deadline ({when(exam.window.ends_at.astimezone(target.tz))})"
        )
    notice_by = target.result_notice_by(prog.settings.holidays)
    report = ResultReport(target.key, late=now >= notice_by, notice_by=notice_by)
    regs = await ports.programme_read(
        lambda rows: rows.registrations_in(target.key, RegState.TICKETED)
    )
    for reg in regs:
        attempt = attempts.get(reg.ticket_token or "")
        passed, no_show = outcome(attempt is not None, attempt.passed if attempt else None)
        if await _record_result(prog, reg, target, attempt, passed, no_show, now):
            (report.passed if passed else report.no_show if no_show else report.failed).append(
                reg.id
            )
    await ports.programme_transaction(lambda tx: tx.mark_results_published(target.key, now))
    return report


async def _record_result(
    prog: Programme,
    reg: Registration,
    target: Sitting,
    attempt: AttemptRecord | None,
    passed: bool,
    no_show: bool,
    now: datetime,
) -> bool:
    """One registration's result, history, certificate and notices in one transaction;
    False when it had been recorded already."""
    score = attempt.score if attempt else None
    max_score = attempt.max_score if attempt else None

    def work(tx: ProgrammeTx) -> bool:
        fresh = tx.registration(reg.id)
        if fresh.state is not RegState.TICKETED:
            return False
        action = Action.PASS if passed else Action.FAIL
        tx.record_result(reg.id, transition(fresh.state, action), score, max_score, no_show, now)
        tx.log(reg.candidate_id, reg.id, now, "result", passed=passed, no_show=no_show, score=score)
        number = _certify(prog, tx, reg, target, now) if passed else None
        _result_notices(prog, tx, reg, target, score, no_show, number, now)
        return True

    return await prog.store.programme_transaction(work)


def _certify(
    prog: Programme, tx: ProgrammeTx, reg: Registration, target: Sitting, now: datetime
) -> str:
    """R19: the certificate of a pass; valid 2 years from the day the result was published."""
    number = f"{target.exam_date:%Y%m}{reg.id:06d}"
    e_from = max(target.e_certificate_from(prog.settings.holidays), now)
    published = local_date(now, target.tz)
    tx.add_certificate(
        Certificate(
            number=number,
            candidate_id=reg.candidate_id,
            registration_id=reg.id,
            exam_date=target.exam_date,
            published_at=now,
            e_available_from=e_from,
            paper_due=target.paper_certificate_by,
            expires_on=certificate_expires(published),
        )
    )
    return number


def _result_notices(
    prog: Programme,
    tx: ProgrammeTx,
    reg: Registration,
    target: Sitting,
    score: int | None,
    no_show: bool,
    number: str | None,
    now: datetime,
) -> None:
    cand = tx.candidate(reg.candidate_id)
    passed = number is not None
    if passed:
        e_from = max(target.e_certificate_from(prog.settings.holidays), now)
        text = (
            f"you passed the {target.key} exam. Certificate {number}: the e-certificate can be "
            f"looked up from {when(e_from)}; the paper certificate is mailed by "
            f"{when(target.paper_certificate_by - timedelta(days=1))[:10]} (R19)."
        )
    elif no_show:
        text = f"you did not sit the {target.key} exam; a no-show counts as a fail (R7)."
    else:
        text = f"you did not pass the {target.key} exam (score {score})."
    if not passed and reg.kind is Kind.RETAKE:
        text += " This was the free retake: to certify, register and pay again (R21)."
    body = f"Dear {cand.name},\n\n{text}\n"
    subject = f"Exam result, {target.key} sitting"
    enqueue(tx, f"result:{reg.id}", cand, reg.id, "result", subject, body, now)
    if not passed and reg.kind is Kind.FIRST:
        until = target.retake_until
        enqueue(
            tx,
            f"retake_offer:{reg.id}",
            cand,
            reg.id,
            "retake_offer",
            "Your free retake",
            f"Dear {cand.name},\n\nafter a failed first attempt you have one free retake, to be "
            f"sat on a sitting no later than {until.isoformat()} (R20). Request it before that "
            "sitting's request deadline, 10 days before its exam at 00:00. A retake cannot be "
            f"deferred. Quote registration #{reg.id}.\n",
            now,
        )


@dataclass(frozen=True, slots=True)
class CertificateView:
    number: str
    name: str
    id_number: str
    exam_date: str
    published_at: str
    valid_until: str  # the last valid day
    valid: bool
    paper_due: str
    paper_mailed_at: str | None


async def lookup_certificate(
    prog: Programme, now: datetime, *, number: str | None = None, id_number: str | None = None
) -> CertificateView:
    """R19: the candidate's certificate, once the e-certificate may be looked up.

    By identity number, the newest certificate answers: re-certifying renews the validity.
    """
    if number:
        arg = number
        held = await prog.store.programme_read(lambda rows: rows.certificates(number=number))
    elif id_number:
        arg = id_number.strip().upper()
        held = await prog.store.programme_read(lambda rows: rows.certificates(id_number=arg))
    else:
        raise ConfigError("give a certificate number or an identity number")
    if not held:
        raise ConfigError(f"no certificate for {arg}")
    tz = prog.settings.tz
    # the newest certificate that may be looked up yet; R19 names the date when none may
    visible = [(c, p) for c, p in held if c.e_available_from <= now]
    if not visible:
        check_certificate_visible(min(c.e_available_from for c, _ in held).astimezone(tz), now)
    cert, holder = visible[0]
    return CertificateView(
        number=cert.number,
        name=holder.name,
        id_number=holder.id_number,
        exam_date=cert.exam_date.isoformat(),
        published_at=cert.published_at.astimezone(tz).isoformat(timespec="minutes"),
        valid_until=(cert.expires_on - timedelta(days=1)).isoformat(),
        valid=local_date(now, tz) < cert.expires_on,
        paper_due=(cert.paper_due.astimezone(tz) - timedelta(days=1)).date().isoformat(),
        paper_mailed_at=None if cert.paper_mailed_at is None else to_wire(cert.paper_mailed_at),
    )


async def mark_paper_mailed(prog: Programme, number: str, now: datetime) -> bool:
    """Record that the paper certificate was mailed; True when that was within 30 days (R19)."""

    def work(tx: ProgrammeTx) -> datetime:
        cert = tx.certificate(number)
        if cert is None:
            raise ConfigError(f"no certificate {number}")
        if cert.paper_mailed_at is not None:
            raise RuleError(
                f"certificate {number} was already mailed at {to_wire(cert.paper_mailed_at)}"
            )
        tx.mark_paper_mailed(number, now)
        tx.log(
            cert.candidate_id, cert.registration_id, now, "paper_certificate_mailed", number=number
        )
        return cert.paper_due

    return now < await prog.store.programme_transaction(work)
