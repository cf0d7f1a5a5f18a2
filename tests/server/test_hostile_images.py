"""Images that lie: a few hundred bytes declaring 16000×16000, a 16×4000 strip, a shell script
as a snapshot. Each is refused on its header with `bad_image`, nothing is stored or decoded, and
the candidate carries on with a real photo."""

from __future__ import annotations

import hashlib
import struct
from datetime import timedelta

import pytest

from proctor_server.app import Server
from proctor_server.store import SqliteStore
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


async def test_a_snapshot_resent_under_its_id_with_other_bytes_cannot_replace_it(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    welcome, _ = await c.enter(await ticket_for(server, exam))
    first = jpeg(seed=1)
    ident = await c.snapshot(photo=first)
    await c.expect_ack(ident)
    await c.snapshot(ident=ident, photo=first)  # a true resend: acknowledged again
    await c.expect_ack(ident)
    await c.snapshot(ident=ident, photo=jpeg(seed=2))  # other bytes under the same id
    err = await c.expect_error("duplicate_id")
    assert err.ref == ident
    (stored,) = [ph for ph in await server.store.photos(welcome.session) if ph.client_id == ident]
    assert stored.sha256 == hashlib.sha256(first).hexdigest()
    assert server.store.blobs.read(stored.path) == first  # the evidence, byte for byte
    assert isinstance(server.store, SqliteStore)
    files = list((server.store.blobs.root / "snapshots").rglob("*.jpg"))
    assert len(files) == 1  # the refused bytes left no file behind


async def test_a_refused_identity_photo_cannot_be_swapped_for_an_accepted_one(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    welcome = await c.hello(await ticket_for(server, exam))
    assert isinstance(welcome, p.Welcome)
    ident = new_id()
    refused = await c.identity(photo=jpeg(100, 80), ident=ident)  # too small: refused
    assert not refused.accepted
    await c.ws.send(p.encode_image(p.ImageHeader(type="identity_photo", id=ident), jpeg()))
    err = await c.expect_error("duplicate_id")
    assert err.ref == ident
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and not attempt.identity_accepted
    (row,) = await server.store.photos(welcome.session, "identity_photo")
    assert row.accepted is False and row.sha256 == hashlib.sha256(jpeg(100, 80)).hexdigest()
    # a new photo under a new id is judged on its own
    assert (await c.identity()).accepted
