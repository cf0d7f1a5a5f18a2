"""/ws/proctor over a real socket: the typed events every proctor gets (each names its exam,
time, attempt and candidate), the reading side (commands answered, malformed input counted
and cut off), a closed server that does not wait on a quiet feed, and a finished attempt whose
risk stops growing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.vision.risk import risk_score
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.states import AttemptState
from shared.timeutil import from_wire, to_wire
from shared.vocabulary import CloseCode, EventKind, FinishReason, Source, ViolationKind
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import WAIT, Candidate, new_id
from tests.server.scripted_proctor import GRID_REUSE
from tests.support.clock import FakeClock

ATTEMPT_EVENTS = (
    pp.Warned,
    pp.Joined,
    pp.Left,
    pp.Started,
    pp.ClientEvent,
    pp.Flag,
    pp.ViolationEnded,
    pp.Identity,
    pp.AttemptFinished,
)


class Feed:
    def __init__(self, ws: ClientConnection):
        self.ws = ws

    async def recv(self) -> pp.FeedMessage:
        return pp.decode_feed(await asyncio.wait_for(self.ws.recv(), WAIT))

    async def until(self, kind: type[pp.FeedMessage]) -> list[pp.FeedMessage]:
        """Every message up to and including the first of `kind`."""
        seen = [await self.recv()]
        while not isinstance(seen[-1], kind):
            seen.append(await self.recv())
        return seen

    async def error(self) -> p.Error:
        message = await self.recv()
        assert isinstance(message, p.Error), message
        return message


@pytest.fixture
async def feed(server: Server, make_exam: MakeExam) -> AsyncIterator[Feed]:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await admin.proctor_token(server.store, exam.id)
    async with connect(f"{server.ws_url}/ws/proctor?token={token}") as ws:
        feed = Feed(ws)
        assert isinstance(await feed.recv(), pp.Snapshot)
        yield feed


COMMANDS: list[tuple[dict[str, object], str | None]] = [
    ({"type": "warn", "id": "w1", "attempt": "a-1", "text": "Please face the camera."}, "w1"),
    ({"type": "message", "id": "m1", "attempt": "a-1", "text": "Is someone there?"}, "m1"),
    ({"type": "terminate", "id": "t1", "attempt": "a-1", "reason": "another person"}, "t1"),
    ({"type": "extend", "id": "e1", "attempt": "a-1", "minutes": 10, "reason": "outage"}, "e1"),
    ({"type": "admit", "id": "ad1", "candidate": "C00042", "reason": "train delayed"}, "ad1"),
    ({"type": "review", "id": "r1", "violation": 7, "verdict": "dismissed", "note": "ok"}, "r1"),
    # watch, unwatch, rtc_answer, rtc_ice: live media, tests/media/
    ({"type": "hello", "token": "again"}, None),
]


@pytest.mark.parametrize(("command", "ref"), COMMANDS, ids=[str(c["type"]) for c, _ in COMMANDS])
async def test_a_valid_command_on_nothing_of_yours_is_answered_not_allowed_with_its_id(
    feed: Feed, command: dict[str, object], ref: str | None
) -> None:
    """No attempt a-1, no candidate C00042, no violation 7 in this proctor's exam; live media
    is not enabled yet."""
    await feed.ws.send(json.dumps(command))
    error = await feed.error()
    assert (error.code, error.ref) == ("not_allowed", ref)
    if command["type"] in ("watch", "unwatch", "rtc_answer", "rtc_ice", "hello"):
        assert error.message == "proctor commands are not enabled yet"


MALFORMED: list[str | bytes] = [
    "not json",
    "[]",
    '{"type": "shout", "id": "x"}',
    '{"type": "warn", "attempt": "a-1", "text": "no id"}',
    '{"type": "extend", "id": "e", "attempt": "a-1", "minutes": 0, "reason": "none"}',
    '{"type": "review", "id": "r", "violation": 1, "verdict": "maybe"}',
    '{"type": "warn", "id": "w", "attempt": "a-1", "text": "' + "x" * 3000 + '"}',
    json.dumps({"type": "rtc_answer", "attempt": "a", "sdp": "x" * (pp.MAX_COMMAND_FRAME + 1)}),
    b"\x00\x01binary",
]


@pytest.mark.parametrize("raw", MALFORMED, ids=range(len(MALFORMED)))
async def test_a_malformed_command_is_a_protocol_error_and_the_feed_goes_on(
    feed: Feed, raw: str | bytes
) -> None:
    await feed.ws.send(raw)
    assert (await feed.error()).code == "protocol_error"
    await feed.ws.send(json.dumps({"type": "watch", "id": "next", "attempt": "a-1"}))
    assert (await feed.error()).ref == "next"


async def test_too_many_malformed_commands_close_the_feed(feed: Feed) -> None:
    for _ in range(pp.MAX_PROTOCOL_ERRORS):
        await feed.ws.send("{")
    codes = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            codes.append((await feed.error()).code)
    assert codes == ["protocol_error"] * pp.MAX_PROTOCOL_ERRORS
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CloseCode.POLICY_VIOLATION


async def test_closing_the_server_does_not_wait_on_a_quiet_feed(server: Server, feed: Feed) -> None:
    async with asyncio.timeout(WAIT):  # before: it waited for an event forever
        await server.close()
    with pytest.raises(ConnectionClosed) as closed:
        await feed.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.GOING_AWAY


async def test_every_event_names_the_exam_the_time_the_attempt_and_the_candidate(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await admin.proctor_token(server.store, exam.id)
    ticket = await admin.issue_ticket(server.store, exam.id, name="Ada")
    async with connect(f"{server.ws_url}/ws/proctor?token={token}") as ws:
        feed = Feed(ws)
        assert isinstance(await feed.recv(), pp.Snapshot)
        c = await Candidate.connect(server.ws_url)
        welcome, _ = await c.enter(ticket.token)
        left = new_id()
        await c.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
        await c.expect_ack(left)
        submit = new_id()
        await c.send(p.Submit(id=submit))
        await c.expect_ack(submit)
        events = await feed.until(pp.ViolationEnded)
        await c.close()
        events += await feed.until(pp.Left)
    assert [type(e) for e in events] == [
        pp.Joined,
        pp.Identity,
        pp.Started,
        pp.ClientEvent,
        pp.Warned,
        pp.AttemptFinished,
        pp.ViolationEnded,
        pp.Left,
    ]
    for event in events:
        assert isinstance(event, ATTEMPT_EVENTS)
        assert (event.exam, event.attempt, event.candidate) == (
            exam.id,
            welcome.session,
            ticket.candidate_code,
        )
        from_wire(event.at)
    joined, _, _, event, warned, finished, ended, _ = events
    assert isinstance(warned, pp.Warned) and (warned.count, warned.by) == (1, "system")
    assert isinstance(joined, pp.Joined) and joined.state is AttemptState.WAITING
    assert isinstance(event, pp.ClientEvent)
    assert event.violation is ViolationKind.LEFT_EXAM_WINDOW
    assert isinstance(finished, pp.AttemptFinished)
    assert (finished.state, finished.reason) == (AttemptState.SUBMITTED, FinishReason.SUBMITTED)
    assert isinstance(ended, pp.ViolationEnded)
    assert (ended.kind, ended.source) == (ViolationKind.LEFT_EXAM_WINDOW, Source.CLIENT)
    assert ended.ended_at == finished.at


async def test_coming_back_to_the_exam_screen_ends_the_leave_there_and_then(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await admin.proctor_token(server.store, exam.id)
    async with connect(f"{server.ws_url}/ws/proctor?token={token}") as ws:
        feed = Feed(ws)
        await feed.recv()
        c = await Candidate.connect(server.ws_url)
        welcome, _ = await c.enter(await ticket_for(server, exam, "Wanderer"))
        for kind in (EventKind.APP_INACTIVE, EventKind.APP_ACTIVE):
            sent = new_id()
            await c.send(p.Event(id=sent, kind=kind))
            await c.expect_ack(sent)
        ended = (await feed.until(pp.ViolationEnded))[-1]
        attempt = await server.store.get_attempt(welcome.session)
        assert attempt is not None and attempt.finished_at is None  # still in the exam
        await c.close()
    assert isinstance(ended, pp.ViolationEnded)
    assert (ended.kind, ended.source) == (ViolationKind.LEFT_EXAM_WINDOW, Source.CLIENT)
    [leave] = await server.store.violations(welcome.session)
    assert leave.ended_at is not None and to_wire(leave.ended_at) == ended.ended_at
    assert ended.duration_s == round((leave.ended_at - leave.server_at).total_seconds(), 3)
    assert ended.duration_s >= 0


async def test_a_finished_attempt_s_risk_stops_growing(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await admin.proctor_token(server.store, exam.id)
    async with connect(f"{server.ws_url}/ws/proctor?token={token}") as ws:
        feed = Feed(ws)
        await feed.recv()
        c = await Candidate.connect(server.ws_url)
        welcome, _ = await c.enter(await ticket_for(server, exam, "Restless"))
        for _ in range(2):
            left = new_id()
            await c.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
            await c.expect_ack(left)
        submit = new_id()
        await c.send(p.Submit(id=submit))
        await c.expect_ack(submit)
        ends = 0
        while ends < 2:  # one per violation
            ends += isinstance(await feed.recv(), pp.ViolationEnded)
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.finished_at is not None
    violations = await server.store.violations(attempt.id)
    assert len(violations) == 2 and all(v.ended_at == attempt.finished_at for v in violations)
    at_finish = risk_score(violations, attempt.finished_at)
    assert at_finish.score > 0
    for later in (timedelta(minutes=10), timedelta(hours=5), timedelta(days=3)):
        assert risk_score(violations, attempt.finished_at + later) == at_finish
    clock.advance(GRID_REUSE)  # a read of its own, later than the finish
    async with connect(f"{server.ws_url}/ws/proctor?token={token}") as ws:
        snapshot = await Feed(ws).recv()
    assert isinstance(snapshot, pp.Snapshot)
    (shown,) = snapshot.attempts
    assert (shown.risk, shown.risk_reasons) == (at_finish.score, at_finish.reasons)
