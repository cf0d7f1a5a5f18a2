"""A proctor's commands against a real server on loopback, with scripted candidates: each
reaches the candidate, is acknowledged once stored with its audit entry, acts once per id,
and shows on every proctor's feed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.core.audit import verify_chain
from proctor_server.store import ExamRecord
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.rules import WRITE_GRACE
from shared.states import AttemptState
from shared.timeutil import from_wire
from shared.vocabulary import EventKind, FinishReason
from tests.server.conftest import MakeExam
from tests.server.scripted import WAIT, Candidate, jpeg, new_id
from tests.server.scripted_proctor import GRID_REUSE, Proctor
from tests.support.clock import FakeClock

MICROSECOND = timedelta(microseconds=1)


async def seated(server: Server, exam: ExamRecord, name: str) -> tuple[Candidate, p.Welcome]:
    """A candidate in the exam with the paper open."""
    ticket = await admin.issue_ticket(server.store, exam.id, name=name)
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(ticket.token)
    return candidate, welcome


async def proctor_token(server: Server, exam: ExamRecord) -> str:
    """A second proctor of the exam, as a reload would see it."""
    return (await staff.add_proctor(server.store, name="Li Na", exam_id=exam.id))[1]


async def signed_in(server: Server, exam: ExamRecord, name: str = "Wang Li") -> Proctor:
    _, token = await staff.add_proctor(server.store, name=name, exam_id=exam.id)
    proctor, _ = await Proctor.sign_in(server, token)
    return proctor


async def test_warn_reaches_the_candidate_counts_toward_the_limit_and_is_audited(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    candidate, welcome = await seated(server, exam, "Ada")
    await proctor.ok("warn", attempt=welcome.session, text="Please face the camera.")
    warning = await candidate.expect(p.ProctorWarning)
    assert (warning.text, warning.count, warning.limit, warning.source) == (
        "Please face the camera.",
        1,
        3,
        p.WarningSource.PROCTOR,
    )
    warned = await proctor.expect(pp.Warned)
    assert (warned.attempt, warned.count, warned.by) == (welcome.session, 1, "proctor:Wang Li")
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.warnings_used == 1
    chain = await server.store.audit_chain(exam.id)
    (entry,) = [e for e in chain if e.action == "warning"]
    assert entry.actor == "proctor:Wang Li"
    assert entry.detail == {
        "attempt": welcome.session,
        "count": 1,
        "text": "Please face the camera.",
    }


async def test_a_message_is_a_notice_that_counts_toward_nothing(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    candidate, welcome = await seated(server, exam, "Ada")
    await proctor.ok("message", attempt=welcome.session, text="We can hear you; is someone there?")
    notice = await candidate.expect(p.Notice)
    assert notice.text == "We can hear you; is someone there?"
    messaged = await proctor.expect(pp.Messaged)
    assert messaged.delivered and messaged.by == "proctor:Wang Li"
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.warnings_used == 0


async def test_terminate_ends_the_attempt_with_the_reason(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    candidate, welcome = await seated(server, exam, "Ada")
    await proctor.ok("terminate", attempt=welcome.session, reason="another person in the room")
    terminated = await candidate.expect(p.Terminated)
    assert terminated.reason == "another person in the room"
    result = await candidate.expect(p.Result)
    assert result.reason is FinishReason.TERMINATED
    finished = await proctor.expect(pp.AttemptFinished)
    assert finished.state is AttemptState.TERMINATED
    assert finished.note == "another person in the room"
    again = await proctor.refused("terminate", attempt=welcome.session, reason="twice")
    assert again.code == "exam_over"
    actions = [(e.actor, e.action) for e in await server.store.audit_chain(exam.id)]
    assert ("proctor:Wang Li", "terminate") in actions and ("system", "state") in actions


async def test_extend_moves_only_that_attempt_s_deadline_and_again(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    given, given_welcome = await seated(server, exam, "Given")
    other, _ = await seated(server, exam, "Other")
    await proctor.ok("extend", attempt=given_welcome.session, minutes=10, reason="outage")
    moved = await given.expect(p.Deadline)
    assert from_wire(moved.ends_at) == exam.window.ends_at + timedelta(minutes=10)
    extended = await proctor.expect(pp.Extended)
    assert (extended.minutes, extended.ends_at) == (10, moved.ends_at)

    await clock.run_until(exam.window.ends_at + WRITE_GRACE)
    assert (await other.expect(p.Result)).reason is FinishReason.TIME_UP
    answer = await given.answer("x", [])  # still writing: refused as an unknown question only
    assert (await given.expect_error("unknown_question")).ref == answer

    await proctor.ok("extend", attempt=given_welcome.session, minutes=5, reason="still out")
    again = await given.expect(p.Deadline)
    final = exam.window.ends_at + timedelta(minutes=15)
    assert from_wire(again.ends_at) == final
    await clock.run_until(exam.window.ends_at + timedelta(minutes=10) + WRITE_GRACE)
    # the timer read the deadline again and sleeps on until the new one: not finished at +10
    wake = await asyncio.wait_for(clock.next_wake(final + WRITE_GRACE - MICROSECOND), WAIT)
    assert wake == final + WRITE_GRACE
    attempt = await server.store.get_attempt(given_welcome.session)
    assert attempt is not None and attempt.state is AttemptState.IN_PROGRESS
    clock.set(final + WRITE_GRACE)
    result = await given.expect(p.Result)
    assert result.reason is FinishReason.TIME_UP
    attempt = await server.store.get_attempt(given_welcome.session)
    assert attempt is not None and attempt.ends_at == final
    assert attempt.state is AttemptState.TIMED_OUT


async def test_admit_lets_a_late_candidate_in(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-40))  # entry closed 10 minutes ago
    proctor = await signed_in(server, exam)
    ticket = await admin.issue_ticket(server.store, exam.id, name="Late")
    late = await Candidate.connect(server.ws_url)
    refused = await late.hello(ticket.token)
    assert isinstance(refused, p.Error) and refused.code == "entry_closed"
    await late.close()
    missing = await proctor.refused("admit", candidate="C09999", reason="typo")
    assert missing.code == "not_allowed"
    await proctor.ok("admit", candidate=ticket.candidate_code, reason="train delayed")
    admitted = await proctor.expect(pp.Admitted)
    assert (admitted.candidate, admitted.by) == (ticket.candidate_code, "proctor:Wang Li")
    clock.advance(GRID_REUSE)  # a read of its own: the ticket came after the first one's
    _, snapshot = await Proctor.sign_in(server, await proctor_token(server, exam))
    (row,) = snapshot.attempts  # a reload shows the admission (SQLite writes that column)
    assert (row.state, row.attempt, row.admitted) == (pp.SeatState.NOT_ENTERED, "", True)
    late = await Candidate.connect(server.ws_url)
    welcome, paper = await late.enter(ticket.token)
    assert paper.questions and welcome.session.startswith("a-")
    chain = await server.store.audit_chain(exam.id)
    (refusal,) = [e for e in chain if e.action == "entry_refused"]
    assert (refusal.detail["candidate"], refusal.detail["code"]) == (
        ticket.candidate_code,
        "entry_closed",
    )
    (entry,) = [e for e in chain if e.action == "entry"]
    assert entry.detail["late_admission"] is True


async def test_accept_identity_verifies_the_attempt_and_releases_the_paper(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    ticket = await admin.issue_ticket(server.store, exam.id, name="Blurry")
    candidate = await Candidate.connect(server.ws_url)
    welcome = await candidate.hello(ticket.token)
    assert isinstance(welcome, p.Welcome)
    photo = new_id()
    refused = await candidate.identity(jpeg(100, 80), photo)  # too small: refused
    assert not refused.accepted
    await proctor.ok("accept_identity", attempt=welcome.session, reason="checked on video")
    accepted = await candidate.expect(p.IdentityResult)
    assert (accepted.id, accepted.accepted) == (photo, True)
    assert (await candidate.expect(p.Paper)).questions
    overridden = await proctor.expect(pp.IdentityOverridden)
    assert overridden.reason == "checked on video"
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.state is AttemptState.IN_PROGRESS
    again = await proctor.refused("accept_identity", attempt=welcome.session, reason="again")
    assert again.code == "not_allowed"


async def test_review_a_violation_and_give_a_verdict_after_the_attempt(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    candidate, welcome = await seated(server, exam, "Ada")
    left = new_id()
    await candidate.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(left)
    (violation,) = await server.store.violations(welcome.session)
    await proctor.ok("review", violation=violation.id, verdict="dismissed", note="a pop-up")
    reviewed = await proctor.expect(pp.Reviewed)
    assert (reviewed.violation, reviewed.verdict) == (violation.id, pp.Verdict.DISMISSED)
    reviews = await server.store.violation_reviews(welcome.session)
    assert reviews == {violation.id: ("dismissed", "a pop-up", "proctor:Wang Li")}
    early = await proctor.refused("verdict", attempt=welcome.session, verdict="clean")
    assert early.code == "not_allowed"
    submit = new_id()
    await candidate.send(p.Submit(id=submit))
    await candidate.expect_ack(submit)
    await proctor.ok("verdict", attempt=welcome.session, verdict="invalidated", note="notes")
    judged = await proctor.expect(pp.Judged)
    assert judged.verdict is pp.AttemptVerdict.INVALIDATED
    clock.advance(GRID_REUSE)  # a read of its own, not the first proctor's and the events since
    _, snapshot = await Proctor.sign_in(server, await proctor_token(server, exam))
    (row,) = snapshot.attempts  # a reload shows the verdict, the score and the pass
    assert (row.state, row.verdict, row.violations) == (pp.SeatState.SUBMITTED, "invalidated", 1)
    assert row.risk > 0 and row.max_score is not None and row.passed is False
    assert await server.store.attempt_verdicts(exam.id) == {welcome.session: "invalidated"}


async def test_the_same_command_id_acts_once(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    candidate, welcome = await seated(server, exam, "Ada")
    for _ in range(2):
        await proctor.ok("warn", "same-id", attempt=welcome.session, text="Face the camera.")
    await proctor.ok("message", attempt=welcome.session, text="after")
    assert isinstance(await candidate.recv(), p.ProctorWarning)
    assert isinstance(await candidate.recv(), p.Notice)  # no second warning in between
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.warnings_used == 1
    # another proctor's "same-id" is another command
    other = await signed_in(server, exam, "Zhao Min")
    await other.ok("warn", "same-id", attempt=welcome.session, text="Again.")
    assert (await candidate.expect(p.ProctorWarning)).count == 2


async def test_a_proctor_of_one_exam_cannot_act_on_another(
    server: Server, make_exam: MakeExam
) -> None:
    mine = await make_exam(starts_in=timedelta(minutes=-1))
    theirs = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, mine)
    candidate, welcome = await seated(server, theirs, "Elsewhere")
    commands: list[tuple[str, dict[str, object]]] = [
        ("warn", {"attempt": welcome.session, "text": "x"}),
        ("message", {"attempt": welcome.session, "text": "x"}),
        ("terminate", {"attempt": welcome.session, "reason": "x"}),
        ("extend", {"attempt": welcome.session, "minutes": 5, "reason": "x"}),
        ("accept_identity", {"attempt": welcome.session, "reason": "x"}),
        ("verdict", {"attempt": welcome.session, "verdict": "clean"}),
    ]
    for kind, fields in commands:
        assert (await proctor.refused(kind, **fields)).code == "not_allowed", kind
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.state is AttemptState.IN_PROGRESS
    assert attempt.warnings_used == 0
    _, token = await staff.add_proctor(server.store, name="Li", exam_id=mine.id)
    elsewhere = await Proctor.open(server, token, exam=theirs.id)
    refused = await elsewhere.recv()
    assert isinstance(refused, p.Error) and refused.code == "not_allowed"
    await candidate.close()


async def test_an_attempt_s_decisions_are_an_audit_chain_that_verifies(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    proctor = await signed_in(server, exam)
    candidate, welcome = await seated(server, exam, "Ada")
    left = new_id()
    await candidate.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(left)
    await proctor.ok("terminate", attempt=welcome.session, reason="phone on the desk")
    await candidate.expect(p.Result)
    chain = await server.store.audit_chain(exam.id)
    assert verify_chain(chain, await server.store.audit_head(exam.id)) is None
    about = [(e.actor, e.action) for e in chain if e.detail.get("attempt") == welcome.session]
    assert about == [
        ("system", "entry"),
        ("system", "consent"),  # the rules of conduct accepted (R16)
        ("system", "identity_verdict"),
        ("system", "state"),  # verified
        ("system", "state"),  # the paper released
        ("system", "violation"),
        ("system", "warning"),
        ("system", "state"),  # terminated, with its score
        ("proctor:Wang Li", "terminate"),
    ]
    finished = [e for e in chain if e.detail.get("to") == "terminated"]
    assert finished[0].detail["reason"] == "phone on the desk" and "score" in finished[0].detail
