"""The warning limit has the consequence the exam's configuration gives it, the server enforces
it, and the candidate's welcome says which."""

from __future__ import annotations

from datetime import timedelta

import pytest

from proctor_server.app import Server
from proctor_server.console import staff
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.states import AttemptState
from shared.vocabulary import EventKind, FinishReason
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import Candidate, new_id
from tests.server.scripted_proctor import Proctor


async def leave(candidate: Candidate) -> p.ProctorWarning:
    ident = new_id()
    await candidate.send(p.Event(id=ident, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(ident)
    return await candidate.expect(p.ProctorWarning)


@pytest.mark.parametrize("action", list(p.WarningLimitAction))
async def test_the_welcome_says_what_reaching_the_limit_does(
    server: Server, make_exam: MakeExam, action: p.WarningLimitAction
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1), on_warning_limit=action)
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(await ticket_for(server, exam))
    assert (welcome.warning_limit, welcome.warning_limit_action) == (3, action)


async def test_no_limit_no_action(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1), warning_limit=None)
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(await ticket_for(server, exam))
    assert (welcome.warning_limit, welcome.warning_limit_action) == (None, None)


async def test_terminate_at_the_limit_ends_the_attempt(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(
        starts_in=timedelta(minutes=-1),
        warning_limit=2,
        on_warning_limit=p.WarningLimitAction.TERMINATE,
    )
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    proctor, _ = await Proctor.sign_in(server, token)
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(await ticket_for(server, exam))
    assert (await leave(candidate)).count == 1
    # a proctor's warning counts too: the second one reaches the limit
    await proctor.ok("warn", attempt=welcome.session, text="Stay on the exam screen.")
    last = await candidate.expect(p.ProctorWarning)
    assert (last.count, last.limit, last.source) == (2, 2, p.WarningSource.PROCTOR)
    terminated = await candidate.expect(p.Terminated)
    assert terminated.reason == "the warning limit (2) was reached"
    assert (await candidate.expect(p.Result)).reason is FinishReason.TERMINATED
    reached = await proctor.expect(pp.WarningLimitReached)
    assert (reached.count, reached.limit, reached.action) == (2, 2, p.WarningLimitAction.TERMINATE)
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.state is AttemptState.TERMINATED


async def test_alert_at_the_limit_tells_the_proctors_and_the_exam_goes_on(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1), warning_limit=1)
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    proctor, _ = await Proctor.sign_in(server, token)
    candidate = await Candidate.connect(server.ws_url)
    welcome, paper = await candidate.enter(await ticket_for(server, exam))
    assert (await leave(candidate)).count == 1
    reached = await proctor.expect(pp.WarningLimitReached)
    assert reached.action is p.WarningLimitAction.ALERT
    question = paper.questions[0]
    answer = await candidate.answer(question.id, [question.options[0].id])
    await candidate.expect_ack(answer)  # still in the exam
    assert (await leave(candidate)).count == 2  # alerted once, at the limit
    chain = await server.store.audit_chain(exam.id)
    assert [e.action for e in chain].count("warning_limit_reached") == 1
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.state is AttemptState.IN_PROGRESS
