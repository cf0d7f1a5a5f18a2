"""A sitting's exam day seen from the programme: tickets (R8), results (R7, R18), certificates (R19).

Tickets are rows of the exam server's own `tickets` table, created through
`Store.create_ticket`, so the server admits exactly the candidates issued here. Results
come from the exam attempts' scores (`Store.attempts_of_exam`). Both steps can be run
again after an interruption: what was done is skipped, nothing is issued or published twice.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from proctor_server.programme.db import Registration
from proctor_server.programme.notify import enqueue
from proctor_server.programme.service import Programme
from proctor_server.store import Store
from proctor_server.store.base import TicketRecord
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
from shared.timeutil import from_wire
from shared.timeutil import to_wire as _wire


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
    return f"R{reg.id:06d}"


async def issue_tickets(
    prog: Programme, store: Store, month: str, exam_id: str, now: datetime, entry: str
) -> TicketReport:
    """Link the sitting to an exam and issue a ticket to every paid registration in it (R8)."""
    db = prog.db
    target = prog.sitting(month)
    if db.stored_sitting(target.key) is None:
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
    with db.transaction() as c:
        linked = db.sitting_exam(target.key)
        if linked is not None and linked != exam_id:
            raise ConfigError(f"the {target.key} sitting is already linked to exam {linked}")
        c.execute(
            "UPDATE programme_sittings SET exam_id = ?, tickets_issued_at = coalesce("
            "tickets_issued_at, ?) WHERE month = ?",
            (exam_id, _wire(now), target.key),
        )
    report = TicketReport(target.key, exam_id, late=late, ticket_by=target.ticket_by)
    for reg in db.registrations("sitting = ? AND state = ?", (target.key, RegState.PAID.value)):
        cand = db.candidate(reg.candidate_id)
        code = candidate_code(reg)
        row = db.c.execute(  # a ticket left by an interrupted run is reused, not duplicated
            "SELECT token FROM tickets WHERE exam_id = ? AND candidate_code = ?", (exam_id, code)
        ).fetchone()
        token = row[0] if row else secrets.token_urlsafe(18)
        if row is None:
            try:
                await store.create_ticket(
                    TicketRecord(
                        token, exam_id, code, cand.name, email=cand.email, phone=cand.phone
                    )
                )
            except sqlite3.IntegrityError:  # another run issued it meanwhile: use that one
                row = db.c.execute(
                    "SELECT token FROM tickets WHERE exam_id = ? AND candidate_code = ?",
                    (exam_id, code),
                ).fetchone()
                if row is None:
                    raise
                token = row[0]
        with db.transaction() as c:
            fresh = db.registration(reg.id)
            if fresh.state is not RegState.PAID or fresh.sitting != target.key:
                c.execute("UPDATE tickets SET revoked = 1 WHERE token = ?", (token,))
                continue  # refunded or moved meanwhile
            db.set_registration(
                reg.id,
                state=transition(fresh.state, Action.TICKET),
                exam_id=exam_id,
                ticket_token=token,
                candidate_code=code,
            )
            db.log(reg.candidate_id, reg.id, now, "ticket_issued", exam_id=exam_id, late=late)
            enqueue(
                c,
                f"ticket:{reg.id}",
                cand,
                reg.id,
                "ticket",
                f"Admission ticket: {exam.title} on {starts.date().isoformat()}",
                _ticket_text(cand.name, exam.title, starts, token, entry),
                now,
            )
        report.issued.append((reg.id, token))
    return report


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
    db = prog.db
    target = prog.sitting(month)
    exam_id = db.sitting_exam(target.key)
    if exam_id is None:
        raise RuleBroken("R8", f"no tickets were issued for the {target.key} sitting")
    exam = await store.get_exam(exam_id)
    if exam is None:
        raise ConfigError(f"the {target.key} sitting's exam {exam_id} is missing from the store")
    check_publish(target, now, exam.window.ends_at)
    unticketed = db.registrations("sitting = ? AND state = ?", (target.key, RegState.PAID.value))
    if unticketed:
        ids = ", ".join(f"#{r.id}" for r in unticketed)
        raise RuleBroken("R8", f"paid registrations without a ticket ({ids}): issue tickets first")
    attempts = {a.ticket: a for a in await store.attempts_of_exam(exam_id) if a.mode == "exam"}
    open_ = [a.id for a in attempts.values() if not a.state.finished]
    if open_:
        raise RuleError(
            f"{len(open_)} exam attempts are still unfinished; the exam server closes them at "
            f"the deadline ({when(exam.window.ends_at.astimezone(target.tz))})"
        )
    notice_by = target.result_notice_by(prog.settings.holidays)
    report = ResultReport(target.key, late=now >= notice_by, notice_by=notice_by)
    regs = db.registrations("sitting = ? AND state = ?", (target.key, RegState.TICKETED.value))
    for reg in regs:
        attempt = attempts.get(reg.ticket_token or "")
        passed, no_show = outcome(attempt is not None, attempt.passed if attempt else None)
        with db.transaction() as c:
            fresh = db.registration(reg.id)
            if fresh.state is not RegState.TICKETED:
                continue
            action = Action.PASS if passed else Action.FAIL
            db.set_registration(
                reg.id,
                state=transition(fresh.state, action),
                score=attempt.score if attempt else None,
                max_score=attempt.max_score if attempt else None,
                no_show=int(no_show),
                result_at=now,
            )
            db.log(
                reg.candidate_id,
                reg.id,
                now,
                "result",
                passed=passed,
                no_show=no_show,
                score=attempt.score if attempt else None,
            )
            number = _certify(prog, reg, target, now) if passed else None
            _result_notices(
                prog, reg, target, attempt.score if attempt else None, no_show, number, now
            )
        (report.passed if passed else report.no_show if no_show else report.failed).append(reg.id)
    with db.transaction() as c:
        c.execute(
            "UPDATE programme_sittings SET results_published_at = coalesce("
            "results_published_at, ?) WHERE month = ?",
            (_wire(now), target.key),
        )
    return report


def _certify(prog: Programme, reg: Registration, target: Sitting, now: datetime) -> str:
    """R19: the certificate of a pass; valid 2 years from the day the result was published."""
    number = f"{target.exam_date:%Y%m}{reg.id:06d}"
    e_from = max(target.e_certificate_from(prog.settings.holidays), now)
    published = local_date(now, target.tz)
    prog.db.c.execute(
        "INSERT INTO programme_certificates (number, candidate_id, registration_id, exam_date, "
        "published_at, e_available_from, paper_due, expires_on) VALUES (?,?,?,?,?,?,?,?)",
        (
            number,
            reg.candidate_id,
            reg.id,
            target.exam_date.isoformat(),
            _wire(now),
            _wire(e_from),
            _wire(target.paper_certificate_by),
            certificate_expires(published).isoformat(),
        ),
    )
    return number


def _result_notices(
    prog: Programme,
    reg: Registration,
    target: Sitting,
    score: int | None,
    no_show: bool,
    number: str | None,
    now: datetime,
) -> None:
    db = prog.db
    cand = db.candidate(reg.candidate_id)
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
    enqueue(db.c, f"result:{reg.id}", cand, reg.id, "result", subject, body, now)
    if not passed and reg.kind is Kind.FIRST:
        until = target.retake_until
        enqueue(
            db.c,
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


def lookup_certificate(
    prog: Programme, now: datetime, *, number: str | None = None, id_number: str | None = None
) -> CertificateView:
    """R19: the candidate's certificate, once the e-certificate may be looked up.

    By identity number, the newest certificate answers: re-certifying renews the validity.
    """
    if number:
        where, arg = "c.number = ?", number
    elif id_number:
        where, arg = "p.id_number = ?", id_number.strip().upper()
    else:
        raise ConfigError("give a certificate number or an identity number")
    rows = prog.db.c.execute(
        "SELECT c.number, p.name, p.id_number, c.exam_date, c.published_at, c.e_available_from, "
        "c.expires_on, c.paper_due, c.paper_mailed_at FROM programme_certificates c "
        f"JOIN programme_candidates p ON p.id = c.candidate_id WHERE {where} "
        "ORDER BY c.published_at DESC",
        (arg,),
    ).fetchall()
    if not rows:
        raise ConfigError(f"no certificate for {arg}")
    tz = prog.settings.tz
    # the newest certificate that may be looked up yet; R19 names the date when none may
    visible = [r for r in rows if from_wire(r[5]) <= now]
    if not visible:
        check_certificate_visible(min(from_wire(r[5]) for r in rows).astimezone(tz), now)
    row = visible[0]
    expires = date.fromisoformat(row[6])
    return CertificateView(
        number=row[0],
        name=row[1],
        id_number=row[2],
        exam_date=row[3],
        published_at=from_wire(row[4]).astimezone(tz).isoformat(timespec="minutes"),
        valid_until=(expires - timedelta(days=1)).isoformat(),
        valid=local_date(now, tz) < expires,
        paper_due=(from_wire(row[7]).astimezone(tz) - timedelta(days=1)).date().isoformat(),
        paper_mailed_at=row[8],
    )


def mark_paper_mailed(prog: Programme, number: str, now: datetime) -> bool:
    """Record that the paper certificate was mailed; True when that was within 30 days (R19)."""
    with prog.db.transaction() as c:
        row = c.execute(
            "SELECT registration_id, candidate_id, paper_due, paper_mailed_at "
            "FROM programme_certificates WHERE number = ?",
            (number,),
        ).fetchone()
        if row is None:
            raise ConfigError(f"no certificate {number}")
        if row[3] is not None:
            raise RuleError(f"certificate {number} was already mailed at {row[3]}")
        c.execute(
            "UPDATE programme_certificates SET paper_mailed_at = ? WHERE number = ?",
            (_wire(now), number),
        )
        prog.db.log(row[1], row[0], now, "paper_certificate_mailed", number=number)
    return now < from_wire(row[2])
