"""The trial pass (R12): anyone registered runs the trial exam, as often as they like, from the
day they register until their exam, long before the admission ticket exists (R8: days
before the sitting).

Each sitting has a trial exam of its own on the exam server (`trial_exam`: the practice
questions, a window that starts at 00:00 on the exam day, so the trial closes then with
`trial_unavailable`), added with the first pass. A pass is a ticket on it marked
`trial_only`: the server opens the trial with it and refuses the exam (`bad_ticket`, "this
is a trial pass"). Like every ticket, the store keeps only its key; the raw pass travels in
the registration's notice, which the outbox holds until it is sent.

A pass is given at registration (first registrations and retakes) and again on a deferral
(for the new sitting, the old one revoked); a refund revokes it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from proctor_server.admin import new_ticket_token
from proctor_server.core.programme_records import Candidate
from proctor_server.core.records import ExamRecord, TicketRecord
from proctor_server.core.session import ticket_key
from proctor_server.programme.notify import enqueue
from proctor_server.programme.ports import ProgrammeTx
from shared.calendar import Sitting
from shared.programme_rules import when
from shared.questions import TRIAL_QUESTIONS, max_score
from shared.rules import default_pass_score

TRIAL_ENTRY = "proctor-client --ticket {ticket}"  # then "Trial exam" in the app


def registration_code(registration_id: int) -> str:
    """The candidate code of a registration, on its admission ticket and its trial pass."""
    return f"R{registration_id:06d}"


def trial_exam_id(sitting: str) -> str:
    return f"trial-{sitting}"


def trial_exam(target: Sitting, now: datetime) -> ExamRecord:
    """The sitting's trial exam: practice questions only, open until 00:00 on the exam day."""
    closes = datetime.combine(target.exam_date, time(0), tzinfo=target.tz)
    return ExamRecord(
        id=trial_exam_id(target.key),
        title=f"Trial exam, {target.key} sitting",
        starts_at=closes,
        duration=timedelta(minutes=1),
        questions=TRIAL_QUESTIONS,
        trial_questions=TRIAL_QUESTIONS,
        pass_score=default_pass_score(max_score(TRIAL_QUESTIONS)),
        snapshot_interval_s=30,
        warning_limit=None,
        created_at=now,
    )


def give_trial_pass(
    tx: ProgrammeTx,
    candidate: Candidate,
    registration_id: int,
    target: Sitting,
    now: datetime,
    entry: str = TRIAL_ENTRY,
) -> str:
    """Inside the caller's transaction: the pass (its key stored) and its notice (the raw
    pass, held by the outbox until sent). Returns the raw pass."""
    token = new_ticket_token()
    exam = trial_exam(target, now)
    code = registration_code(registration_id)
    tx.add_trial_pass(
        exam,
        TicketRecord(ticket_key(token), exam.id, code, candidate.name, trial_only=True),
        now,
    )
    tx.log(candidate.id, registration_id, now, "trial_pass_given", sitting=target.key)
    enqueue(
        tx,
        f"trial_pass:{registration_id}:{target.key}",
        candidate,
        registration_id,
        "trial_pass",
        f"Your trial exam pass, {target.key} sitting",
        f"Dear {candidate.name},\n\nyou are registered (#{registration_id}). Practise with the "
        f"trial exam as often as you like until {when(exam.starts_at)} (R12): it checks that "
        "you can log in, take photos and answer; nothing in it counts.\n"
        f"Trial pass: {token}\nOpen: {entry.replace('{ticket}', token)} and choose "
        '"Trial exam".\nThis pass opens the trial only; the admission ticket for the exam '
        "follows before the sitting (R8).\n",
        now,
    )
    return token
