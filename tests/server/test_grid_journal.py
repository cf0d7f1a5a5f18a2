"""A proctor who opens an exam shortly after another gets the other's read of the grid and
every event since, in order, instead of a read of their own (`console/grid_cache.py`); while
the exam is warm its next read is made in the background, with no event lost or doubled, and
what changes without an event shows within `MAX_AGE`; past that, a read of their own. Real
server, real sockets, the server's clock moved by the test."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.console.grid_cache import MAX_AGE, REFRESH_AT
from proctor_server.core.console import ExamGrid
from proctor_server.store import ExamRecord
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import EventKind
from tests.server.conftest import MakeExam
from tests.server.scripted import Candidate, new_id
from tests.server.scripted_proctor import GRID_REUSE, Proctor
from tests.support.clock import FakeClock


async def token_of(server: Server, exam: ExamRecord, name: str) -> str:
    return (await staff.add_proctor(server.store, name=name, exam_id=exam.id))[1]


async def watched_exam(
    server: Server, make_exam: MakeExam
) -> tuple[ExamRecord, str, Proctor, pp.Snapshot]:
    """An exam under way with one ticket (Ada's, not entered), its first proctor (Wang)
    signed in, and the snapshot that proctor got."""
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    ticket = (await admin.issue_ticket(server.store, exam.id, name="Ada")).token
    first, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Wang"))
    return exam, ticket, first, snapshot


async def seated_and_flagged(server: Server, ticket: str) -> tuple[Candidate, str]:
    """The ticket's candidate enters and leaves the exam window once (a violation)."""
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(ticket)
    left = new_id()
    await candidate.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(left)
    return candidate, welcome.session or ""


async def events_until(proctor: Proctor, last: type[pp.AttemptEvent]) -> list[pp.FeedMessage]:
    """The feed's events up to the first of kind `last`, round-trip samples left out."""
    seen: list[pp.FeedMessage] = []
    while True:
        m = await proctor.recv()
        if isinstance(m, pp.Connection):
            continue
        seen.append(m)
        if isinstance(m, last):
            return seen


async def test_a_second_proctor_gets_the_first_read_and_every_event_since(
    server: Server, make_exam: MakeExam
) -> None:
    exam, ticket, first, before = await watched_exam(server, make_exam)
    candidate, attempt = await seated_and_flagged(server, ticket)
    lived = await events_until(first, pp.ClientEvent)  # what the first proctor saw happen

    second, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Li"))
    assert server.grids.reads == 1  # the second proctor's snapshot was not read again
    assert [a.candidate for a in snapshot.attempts] == [a.candidate for a in before.attempts]
    (shown,) = snapshot.attempts
    assert (shown.state, shown.attempt) == (pp.SeatState.NOT_ENTERED, "")  # as read
    replayed = [await second.recv() for _ in lived]
    assert replayed == lived  # then the same events, in the same order
    assert any(isinstance(m, pp.Joined) and m.attempt == attempt for m in replayed)

    again = new_id()  # what happened and happens next reaches both alike, once each
    await candidate.send(p.Event(id=again, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(again)
    rest = await events_until(first, pp.ClientEvent)
    assert await events_until(second, pp.ClientEvent) == rest
    assert [type(m) for m in rest].count(pp.ClientEvent) == 1
    for c in (first, second, candidate):
        await c.close()


async def test_events_while_no_proctor_follows_are_kept_for_the_next(
    server: Server, make_exam: MakeExam
) -> None:
    exam, ticket, first, _ = await watched_exam(server, make_exam)
    await first.close()  # a reload: the page is gone before the candidate enters
    candidate, attempt = await seated_and_flagged(server, ticket)
    second, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Li"))
    assert server.grids.reads == 1
    (shown,) = snapshot.attempts
    assert shown.attempt == ""  # as read, before the candidate entered
    replayed = await events_until(second, pp.ClientEvent)
    joined = [m for m in replayed if isinstance(m, pp.Joined)]
    assert [j.attempt for j in joined] == [attempt]
    await second.close()
    await candidate.close()


async def test_past_the_window_a_proctor_reads_the_grid_again(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam, ticket, first, _ = await watched_exam(server, make_exam)
    candidate, attempt = await seated_and_flagged(server, ticket)
    await events_until(first, pp.ClientEvent)
    clock.advance(GRID_REUSE)
    second, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Li"))
    assert server.grids.reads == 2
    (shown,) = snapshot.attempts
    assert (shown.attempt, shown.state, shown.violations) == (
        attempt,
        pp.SeatState.IN_PROGRESS,
        1,
    )
    again = new_id()  # nothing replayed: the next message is what happens next
    await candidate.send(p.Event(id=again, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(again)
    nxt = await second.recv()
    while isinstance(nxt, pp.Connection):
        nxt = await second.recv()
    assert isinstance(nxt, pp.ClientEvent) and nxt.attempt == attempt
    for c in (first, second, candidate):
        await c.close()


def client_events(messages: list[pp.FeedMessage]) -> int:
    return [type(m) for m in messages].count(pp.ClientEvent)


async def test_a_warm_exam_is_read_again_in_the_background_losing_and_doubling_no_event(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam, ticket, first, _ = await watched_exam(server, make_exam)
    candidate, attempt = await seated_and_flagged(server, ticket)
    await events_until(first, pp.ClientEvent)

    held = asyncio.Event()  # the next read is made at once; its end is held back until set
    read = server.grids.read

    async def held_back(exam_id: str, now: datetime) -> ExamGrid:
        grid = await read(exam_id, now)
        await held.wait()
        return grid

    server.grids.read = held_back
    clock.advance(REFRESH_AT + timedelta(milliseconds=500))  # due again, still given out
    second, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Li"))
    assert (server.grids.reads, server.grids.refreshes) == (2, 1)  # the next in the background
    (shown,) = snapshot.attempts
    assert shown.attempt == ""  # the first read, before the candidate entered
    assert client_events(await events_until(second, pp.ClientEvent)) == 1  # then its journal

    during = new_id()  # an event while the background read is under way
    await candidate.send(p.Event(id=during, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(during)
    for proctor in (first, second):
        assert client_events(await events_until(proctor, pp.ClientEvent)) == 1

    held.set()  # the background read is done: it is the one given out from now on
    third, latest = await Proctor.sign_in(server, await token_of(server, exam, "Zhao"))
    assert server.grids.reads == 2  # not a read of its own
    (shown,) = latest.attempts
    assert (shown.attempt, shown.violations) == (attempt, 1)  # read before `during`
    replayed = await events_until(third, pp.ClientEvent)  # then `during`, from its journal
    assert client_events(replayed) == 1
    assert not any(isinstance(m, pp.Joined) for m in replayed)  # what the read holds is not

    after = new_id()  # and what happens next reaches every proctor once
    await candidate.send(p.Event(id=after, kind=EventKind.FOCUS_LOST))
    await candidate.expect_ack(after)
    for proctor in (first, second, third):
        assert client_events(await events_until(proctor, pp.ClientEvent)) == 1
    for c in (first, second, third, candidate):
        await c.close()


async def test_a_ticket_added_without_an_event_shows_within_max_age_with_no_wait(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    await admin.issue_ticket(server.store, exam.id, name="Ada")
    first, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Wang"))
    assert len(snapshot.attempts) == 1
    await admin.issue_ticket(server.store, exam.id, name="Bo")  # as the command line: no event
    clock.advance(REFRESH_AT)
    second, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Li"))
    assert len(snapshot.attempts) == 1  # the first read, 2 s old, is still given out
    assert (server.grids.reads, server.grids.refreshes) == (2, 1)
    clock.advance(MAX_AGE - REFRESH_AT + timedelta(milliseconds=1))  # the first read too old
    third, snapshot = await Proctor.sign_in(server, await token_of(server, exam, "Zhao"))
    assert len(snapshot.attempts) == 2  # the background read's, begun after the ticket
    assert server.grids.reads == 2  # done or still under way: no read of its own
    for c in (first, second, third):
        await c.close()
