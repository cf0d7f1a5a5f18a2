"""A newer connection for the same attempt (the candidate's network changed, the app came back)
replaces the older one without waiting for it: the older one may no longer answer, and its
closing handshake then takes the library's close timeout. When the older one does end, that
changes nothing of the newer one's: the proctors do not see the candidate leave."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from proctor_server import admin
from proctor_server.app import Server
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import CloseCode, EventKind
from tests.media.peers import poll
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import WAIT, Candidate, new_id
from tests.server.scripted_proctor import Proctor

CLOSE_TIMEOUT_S = 10.0  # the library's: how long the newer entry waited on a frozen older one


async def frozen(server: Server, token: str) -> Candidate:
    """A candidate in the exam whose app then stops reading: its socket open, nothing answered
    (no closing handshake either)."""
    old = await Candidate.connect(server.ws_url)
    assert isinstance(await old.hello(token), p.Welcome)
    old.ws.transport.pause_reading()
    return old


async def test_a_frozen_older_connection_does_not_hold_up_the_newer_ones_entry(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await ticket_for(server, exam)
    old = await frozen(server, token)
    new = await Candidate.connect(server.ws_url)
    async with asyncio.timeout(CLOSE_TIMEOUT_S / 2):  # before: the close timeout first
        assert isinstance(await new.hello(token), p.Welcome)
    old.ws.transport.resume_reading()
    assert await old.close_code() == CloseCode.REPLACED
    ident = new_id()
    await new.send(p.Event(id=ident, kind=EventKind.FOCUS_LOST))
    await new.expect_ack(ident)  # the newer connection goes on


async def test_the_older_connections_end_is_not_the_candidate_leaving(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    token = await ticket_for(server, exam)
    proctor, _ = await Proctor.sign_in(server, await admin.proctor_token(server.store, exam.id))
    old = await frozen(server, token)
    new = await Candidate.connect(server.ws_url)
    assert isinstance(await new.hello(token), p.Welcome)
    old.ws.transport.resume_reading()
    assert await old.close_code() == CloseCode.REPLACED
    # the older connection's session has ended on the server: its handler has returned, and
    # the proctor's and the newer candidate's are left
    assert server._ws is not None
    handlers = server._ws.handler_tasks
    async with asyncio.timeout(WAIT):
        await poll(lambda: len(handlers) == 2)
    ident = new_id()
    await new.send(p.Event(id=ident, kind=EventKind.FOCUS_LOST))  # a mark in the feed
    await new.expect_ack(ident)
    seen: list[pp.FeedMessage] = [await proctor.recv()]
    while not isinstance(seen[-1], pp.ClientEvent):
        seen.append(await proctor.recv())
    joined = [m for m in seen if isinstance(m, pp.Joined)]
    assert len(joined) == 2 and joined[-1].resumed
    after = seen[seen.index(joined[-1]) :]
    assert not [m for m in after if isinstance(m, pp.Left)]  # the grid keeps them connected
    await proctor.close()
    await new.close()
