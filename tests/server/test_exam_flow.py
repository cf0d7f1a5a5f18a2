"""A whole exam over real sockets on loopback: entry, identity, paper, answers, submit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from proctor_server.app import Server
from shared import protocol as p
from shared.rules import WRITE_GRACE
from shared.states import AttemptState
from shared.timeutil import from_wire
from shared.vocabulary import EventKind
from tests.server.conftest import QUESTIONS, MakeExam, ticket_for
from tests.server.scripted import Candidate, jpeg, new_id
from tests.support.clock import FakeClock


def correct_choice(question: p.PaperQuestion) -> list[str]:
    """The right option ids, found by text (the key never crosses the wire)."""
    bank = next(q for q in QUESTIONS if q.text == question.text)
    right = {bank.options[i] for i in bank.answer}
    return [o.id for o in question.options if o.text in right]


async def test_a_whole_exam(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await ticket_for(server, exam, "张三丰")
    c = await Candidate.connect(server.ws_url)
    welcome = await c.hello(token)
    assert isinstance(welcome, p.Welcome)
    assert welcome.mode == "exam" and welcome.state == "waiting"
    assert welcome.exam.id == exam.id
    assert from_wire(welcome.exam.ends_at) == exam.window.ends_at
    assert welcome.candidate.name == "张*丰"
    assert welcome.candidate.code in welcome.watermark.text
    assert "张*丰" in welcome.watermark.text and exam.title in welcome.watermark.text
    assert len(welcome.watermark.nonce) >= 8

    identity = await c.identity()
    assert identity.accepted and identity.reasons == []
    paper = await c.expect(p.Paper)
    assert sorted(q.text for q in paper.questions) == sorted(q.text for q in QUESTIONS)
    assert all(not q.id.startswith("q1") or len(q.id) == 11 for q in paper.questions)
    assert not any(q.id in {"q1", "q2", "q3", "q4"} for q in paper.questions)  # opaque ids

    profile_id = new_id()
    await c.send(
        p.Profile(
            id=profile_id,
            mail_to=p.MailTo(
                name="张三丰", phone="13800000000", address="北京市海淀区", postcode="100080"
            ),
        )
    )
    await c.expect_ack(profile_id)

    # three right, the last one wrong
    for q in paper.questions[:3]:
        await c.expect_ack(await c.answer(q.id, correct_choice(q)))
    last = paper.questions[3]
    wrong = [o.id for o in last.options if o.id not in correct_choice(last)][:1]
    await c.expect_ack(await c.answer(last.id, wrong))

    submit_id = new_id()
    await c.send(p.Submit(id=submit_id))
    result = await c.expect(p.Result)
    await c.expect_ack(submit_id)
    assert (result.score, result.max_score, result.reason, result.counts) == (
        15,
        20,
        "submitted",
        True,
    )
    assert result.passed  # default pass: 60% of 20 = 12

    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.state is AttemptState.SUBMITTED
    assert [s for s, _, _ in await server.store.state_history(attempt.id)] == [
        "waiting",
        "verified",
        "in_progress",
        "submitted",
    ]
    assert await server.store.profile(attempt.id) == {
        "name": "张三丰",
        "phone": "13800000000",
        "address": "北京市海淀区",
        "postcode": "100080",
    }
    assert len(await server.store.answers(attempt.id)) == 4
    identity_photos = await server.store.photos(attempt.id, "identity_photo")
    assert len(identity_photos) == 1 and identity_photos[0].accepted
    assert await server.store.photo_bytes(identity_photos[0].id) == jpeg()

    # a resent submit gets the same result; writes after it are refused
    await c.send(p.Submit(id=submit_id))
    assert (await c.expect(p.Result)).score == 15
    await c.send(p.Answer(id=new_id(), question=last.id, choice=correct_choice(last)))
    await c.expect_error("exam_over")
    assert (await server.store.get_attempt(attempt.id)).score == 15  # type: ignore[union-attr]
    await c.close()

    # the attempt cannot be entered again, but the result is shown once more (R17)
    again = await Candidate.connect(server.ws_url)
    await again.send(p.Hello(protocol=p.PROTOCOL_VERSION, ticket=token))
    shown = await again.expect(p.Result)
    assert (shown.score, shown.max_score, shown.reason) == (15, 20, "submitted")
    await again.expect_error("exam_over")


async def test_the_paper_is_pushed_at_the_start_to_those_waiting(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=10))
    c = await Candidate.connect(server.ws_url)
    welcome = await c.hello(await ticket_for(server, exam))
    assert isinstance(welcome, p.Welcome)
    assert (await c.identity()).accepted
    # nothing to answer before the start
    early = await c.answer("q-anything", [])
    err = await c.expect(p.Error)
    assert (err.code, err.ref) == ("not_allowed", early)
    await clock.run_until(exam.starts_at)
    paper = await c.expect(p.Paper)
    assert from_wire(paper.server_time) >= exam.starts_at
    assert len(paper.questions) == 4


async def test_a_late_entrant_gets_only_the_time_left(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-20), duration=timedelta(minutes=60))
    c = await Candidate.connect(server.ws_url)
    welcome, paper = await c.enter(await ticket_for(server, exam))
    left = from_wire(paper.ends_at) - from_wire(paper.server_time)
    assert timedelta(minutes=39) < left <= timedelta(minutes=40)
    assert from_wire(welcome.exam.ends_at) == exam.window.ends_at


async def test_reconnecting_resumes_the_same_paper_with_saved_answers(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await ticket_for(server, exam)
    c = await Candidate.connect(server.ws_url)
    welcome, paper = await c.enter(token)
    q = paper.questions[1]
    await c.expect_ack(await c.answer(q.id, [q.options[0].id]))
    c.vanish()  # the network drops: no closing handshake

    again = await Candidate.connect(server.ws_url)
    resumed = await again.hello(token)
    assert isinstance(resumed, p.Welcome)
    assert resumed.resumed and resumed.identity_accepted and resumed.session == welcome.session
    paper2 = await again.expect(p.Paper)  # no second identity photo needed
    assert [x.id for x in paper2.questions] == [x.id for x in paper.questions]
    assert [[o.id for o in x.options] for x in paper2.questions] == [
        [o.id for o in x.options] for x in paper.questions
    ]
    assert paper2.saved == {q.id: [q.options[0].id]}


async def test_resent_answers_change_nothing_and_the_latest_answer_wins(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    welcome, paper = await c.enter(await ticket_for(server, exam))
    q = paper.questions[0]
    first = await c.answer(q.id, [q.options[0].id])
    await c.expect_ack(first)
    second = await c.answer(q.id, [q.options[1].id])
    await c.expect_ack(second)
    # the first one again (a client replaying its outbox): acknowledged, changes nothing
    await c.answer(q.id, [q.options[0].id], ident=first)
    await c.expect_ack(first)
    saved = await server.store.answers(welcome.session)
    paper2_ids = {o.id: o for o in q.options}
    assert len(saved) == 1
    ((bank_index, choice),) = saved.items()
    assert QUESTIONS[bank_index].text == q.text
    assert QUESTIONS[bank_index].options[choice[0]] == paper2_ids[q.options[1].id].text


async def test_the_deadline_finalizes_every_open_attempt(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-5), duration=timedelta(minutes=90))
    feed_token = await __import__("proctor_server.admin", fromlist=["x"]).proctor_token(
        server.store, exam.id
    )
    from websockets.asyncio.client import connect

    async with connect(f"{server.ws_url}/ws/proctor?token={feed_token}") as feed:
        assert '"snapshot"' in str(await feed.recv())
        present = await Candidate.connect(server.ws_url)
        welcome, paper = await present.enter(await ticket_for(server, exam, "Alice"))
        q = next(x for x in paper.questions if x.text == QUESTIONS[0].text)
        await present.expect_ack(await present.answer(q.id, correct_choice(q)))
        gone = await Candidate.connect(server.ws_url)
        gone_welcome, _ = await gone.enter(await ticket_for(server, exam, "Bob"))
        await gone.close()  # this candidate's client vanishes before the deadline
        await clock.run_until(exam.window.ends_at + WRITE_GRACE)

        time_up = await present.expect(p.TimeUp)
        result = await present.expect(p.Result)
        assert from_wire(time_up.at) >= exam.window.ends_at
        assert (result.score, result.reason) == (5, "time_up")
        # late writes are refused with deadline_passed
        await present.answer(q.id, [])
        await present.expect_error("deadline_passed")

        finished: set[str] = set()
        while len(finished) < 2:
            event = __import__("json").loads(await asyncio.wait_for(feed.recv(), 10))
            if event["type"] == "attempt_finished":
                finished.add(event["attempt"])
        assert finished == {welcome.session, gone_welcome.session}
    for attempt_id in finished:
        attempt = await server.store.get_attempt(attempt_id)
        assert attempt is not None and attempt.state is AttemptState.TIMED_OUT
        assert attempt.finished_at is not None and attempt.score is not None


async def test_a_newer_connection_replaces_the_older_one(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await ticket_for(server, exam)
    old = await Candidate.connect(server.ws_url)
    assert isinstance(await old.hello(token), p.Welcome)
    new = await Candidate.connect(server.ws_url)
    assert isinstance(await new.hello(token), p.Welcome)
    assert await old.close_code() == 4409


async def test_leaving_the_screen_is_recorded_and_warned(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1), warning_limit=3)
    c = await Candidate.connect(server.ws_url)
    welcome, _ = await c.enter(await ticket_for(server, exam))
    event_id = new_id()
    await c.send(p.Event(id=event_id, kind=EventKind.FOCUS_LOST, at="2026-07-25T06:01:02.000Z"))
    await c.expect_ack(event_id)
    warning = await c.expect(p.ProctorWarning)
    assert (warning.count, warning.limit) == (1, 3)
    assert "2 left" in warning.text
    back = new_id()
    await c.send(p.Event(id=back, kind=EventKind.FOCUS_BACK))
    await c.expect_ack(back)
    await c.send(p.Event(id=event_id, kind=EventKind.FOCUS_LOST))  # a resend: no second warning
    await c.expect_ack(event_id)
    violations = await server.store.violations(welcome.session)
    assert [(v.kind, v.client_at) for v in violations] == [
        ("left_exam_window", "2026-07-25T06:01:02.000Z")
    ]
    assert violations[0].server_at.year >= 2026
    assert [e["kind"] for e in await server.store.events(welcome.session)] == [
        "focus_lost",
        "focus_back",
    ]
    hb = p.Heartbeat()
    await c.send(hb)
    assert not c.inbox or all(not isinstance(m, p.ProctorWarning) for m in c.inbox)
    await c.expect(p.HeartbeatAck)


async def test_device_signals_are_judged_by_the_server(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    welcome = await c.hello(
        await ticket_for(server, exam),
        cameras=["OBS Virtual Camera"],
        camera_in_use="OBS Virtual Camera",
        virtual_cameras=[],  # the client's own verdict is not trusted either way
    )
    assert isinstance(welcome, p.Welcome)
    event = new_id()
    await c.send(
        p.Event(
            id=event,
            kind=EventKind.DEVICE_SIGNAL,
            detail={"vm_signals": [{"signal": "dmi.sys_vendor", "value": "VMware, Inc."}]},
        )
    )
    await c.expect_ack(event)
    violations = await server.store.violations(welcome.session)
    assert [(v.kind, v.source) for v in violations] == [
        ("virtual_camera", "server"),
        ("virtual_machine", "server"),
    ]
    assert "OBS Virtual Camera" in str(violations[0].evidence)
    assert "VMware" in str(violations[1].evidence)
