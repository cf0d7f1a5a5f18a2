"""A ticket holder who floods the server: the excess is refused with `rate_limited`, nothing of
it is stored, the candidate's own session goes on, and other candidates are served."""

from __future__ import annotations

from datetime import timedelta

from proctor_server.app import Server
from shared import protocol as p
from shared.vocabulary import EventKind
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import Candidate, new_id


async def test_an_event_flood_is_cut_at_the_burst_and_stored_no_further(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    flooder = await Candidate.connect(server.ws_url)
    welcome, paper = await flooder.enter(await ticket_for(server, exam, "Mallory"))
    sent = [new_id() for _ in range(260)]
    for ident in sent:  # screen_removed: recorded, never a warning
        await flooder.send(p.Event(id=ident, kind=EventKind.SCREEN_REMOVED))
    acked: set[str] = set()
    limited: set[str] = set()
    while len(acked) + len(limited) < len(sent):
        m = await flooder.recv()
        if isinstance(m, p.Ack):
            acked.add(m.id)
        elif isinstance(m, p.Error):
            assert m.code == "rate_limited" and m.ref is not None
            limited.add(m.ref)
    assert len(limited) >= 50 and acked | limited == set(sent)
    stored = {e["id"] for e in await server.store.events(welcome.session)}
    assert stored == acked  # what was refused left no trace
    # the flooder's own answers still count once the burst is spent on events
    q = paper.questions[0]
    await flooder.expect_ack(await flooder.answer(q.id, [q.options[0].id]))
    # and someone else on the same exam is served as usual
    other = await Candidate.connect(server.ws_url)
    _, other_paper = await other.enter(await ticket_for(server, exam, "Alice"))
    q2 = other_paper.questions[0]
    await other.expect_ack(await other.answer(q2.id, [q2.options[0].id]))
