"""Images that lie: a few hundred bytes declaring 16000×16000, a 16×4000 strip, a shell script
as a snapshot. Each is refused on its header with `bad_image`, nothing is stored or decoded, and
the candidate carries on with a real photo."""

from __future__ import annotations

import struct
from datetime import timedelta

import pytest

from proctor_server.app import Server
from shared import protocol as p
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import Candidate, jpeg, new_id


def declaring(width: int, height: int) -> bytes:
    data = bytearray(jpeg(64, 48))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


async def send_image(c: Candidate, kind: p.ImageKind, data: bytes) -> str:
    ident = new_id()
    await c.ws.send(p.encode_image(p.ImageHeader(type=kind, id=ident), data))
    return ident


@pytest.mark.parametrize(
    ("kind", "data", "words"),
    [
        ("identity_photo", declaring(16000, 16000), "too large"),
        ("identity_photo", declaring(16, 4000), "too narrow"),
        ("snapshot", declaring(16000, 16000), "too large"),
        ("snapshot", b"#!/bin/sh\necho pwned\n", "not a JPEG"),
    ],
)
async def test_a_lying_image_is_refused_on_its_header_and_nothing_is_kept(
    server: Server, make_exam: MakeExam, kind: p.ImageKind, data: bytes, words: str
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    welcome = await c.hello(await ticket_for(server, exam))
    assert isinstance(welcome, p.Welcome)
    if kind == "snapshot":
        assert (await c.identity()).accepted
        await c.expect(p.Paper)
    ident = await send_image(c, kind, data)
    err = await c.expect_error("bad_image")
    assert err.ref == ident and words in err.message
    assert [ph for ph in await server.store.photos(welcome.session) if ph.client_id == ident] == []
    # the session goes on: a real photo or snapshot is taken as usual
    if kind == "identity_photo":
        assert (await c.identity()).accepted
        await c.expect(p.Paper)
    else:
        await c.expect_ack(await c.snapshot())
