"""What a candidate in the exam keeps in the server's memory: once a photo is handled (checked,
stored, acknowledged), its bytes do not stay in the candidate's message loop until the next
photo. Measured with `tracemalloc` around a real candidate on a real socket: a block of the
photo's size still allocated where the server received or decoded it is one held too long."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import timedelta

import pytest

from proctor_server.app import Server
from shared import protocol as p
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import Candidate, jpeg

FRAME = "websockets/frames.py"  # a frame as received (only the server receives large ones here)
DECODED = "shared/protocol.py"  # the photo taken out of it, when called from the message loop
LOOP = "proctor_server/candidate.py"


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start(4)
    try:
        yield
    finally:
        tracemalloc.stop()


def held(size: int) -> list[str]:
    """Blocks of at least `size` bytes still allocated where the server received a frame or
    took a photo out of one, each as the line that allocated it."""
    found = []
    for trace in tracemalloc.take_snapshot().traces:
        files = [f.filename.replace("\\", "/") for f in trace.traceback]
        received = files[-1].endswith(FRAME)  # the allocating line: the newest frame
        decoded = files[-1].endswith(DECODED) and any(f.endswith(LOOP) for f in files)
        if trace.size >= size and (received or decoded):
            found.append(str(trace.traceback[-1]))
    return found


async def test_a_handled_photo_is_not_held_by_the_message_loop(
    server: Server, make_exam: MakeExam, traced: None
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    assert isinstance(await c.hello(await ticket_for(server, exam), ready=False), p.Welcome)
    photo = jpeg(640, 480, seed=7)  # noise: about as large as its pixels
    assert len(photo) > 200_000
    assert (await c.identity(photo)).accepted  # checked, stored, answered
    # The next message: `websockets` keeps the last frame it parsed until then (the photo's
    # frame was that until now), the message loop keeps nothing of it.
    await c.expect_ack(await c.consent())
    assert held(len(photo)) == []
    await c.close()
