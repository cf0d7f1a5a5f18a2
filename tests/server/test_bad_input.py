"""Bad input gets a coded error or close code, a log line, and loses nothing."""

from __future__ import annotations

import logging
import struct
from datetime import timedelta

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from proctor_server.app import Server
from proctor_server.candidate import MAX_PROTOCOL_ERRORS
from proctor_server.core.session import ticket_key
from shared import protocol as p
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import Candidate, new_id


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ("{not json", "protocol_error"),
        ('{"type": "answer", "id": "1", "question": "q", "choice": []}', "protocol_error"),
        ('{"type": "hello", "protocol": 1}', "protocol_error"),
        ('{"type": "hello", "protocol": 1, "ticket": "nope"}', "bad_ticket"),
        ('{"type": "hello", "protocol": 99, "ticket": "nope"}', "unsupported_protocol"),
    ],
)
async def test_a_bad_hello_is_refused_and_closed(server: Server, first: str, code: str) -> None:
    c = await Candidate.connect(server.ws_url)
    await c.send_raw(first)
    await c.expect_error(code)
    assert await c.close_code() == 4403


async def test_a_binary_first_frame_is_refused(server: Server) -> None:
    c = await Candidate.connect(server.ws_url)
    await c.send_raw(b"\x00\x01")
    await c.expect_error("protocol_error")
    assert await c.close_code() == 4403


async def test_a_ticket_for_another_exam_is_refused(server: Server, make_exam: MakeExam) -> None:
    one, other = await make_exam(), await make_exam()
    c = await Candidate.connect(server.ws_url)
    await c.send(p.Hello(protocol=1, ticket=await ticket_for(server, one), exam=other.id))
    await c.expect_error("bad_ticket")


async def test_a_revoked_ticket_is_refused(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam()
    token = await ticket_for(server, exam)
    code = (await server.store.get_ticket(ticket_key(token)) or pytest.fail()).candidate_code
    await server.store.revoke_ticket(exam.id, code, exam.starts_at, actor="staff", reason="test")
    c = await Candidate.connect(server.ws_url)
    assert isinstance(err := await c.hello(token), p.Error) and err.code == "bad_ticket"


@pytest.mark.parametrize(
    ("starts_in", "code"),
    [(timedelta(minutes=31), "entry_not_open"), (timedelta(minutes=-31), "entry_closed")],
)
async def test_entry_outside_the_window(
    server: Server, make_exam: MakeExam, starts_in: timedelta, code: str
) -> None:
    exam = await make_exam(starts_in=starts_in, duration=timedelta(hours=2))
    c = await Candidate.connect(server.ws_url)
    err = await c.hello(await ticket_for(server, exam))
    assert isinstance(err, p.Error) and err.code == code
    assert "30 minutes" in err.message
    assert await c.close_code() == 4403


async def test_malformed_messages_mid_exam_keep_the_connection_and_the_answers(
    server: Server, make_exam: MakeExam, caplog: pytest.LogCaptureFixture
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    welcome, paper = await c.enter(await ticket_for(server, exam))
    q = paper.questions[0]
    kept = await c.answer(q.id, [q.options[0].id])
    await c.expect_ack(kept)
    caplog.set_level(logging.INFO, logger="proctor_server")
    malformed: list[str | bytes] = [
        "{oops",
        '{"type": "teleport"}',
        '{"type": "answer", "id": "x", "question": "q"}',
        '{"type": "answer", "id": 5, "question": "q", "choice": []}',
        struct.pack(">I", 900) + b"{}",
        struct.pack(">I", 2) + b"{}\xff\xd8",
    ]
    for raw in malformed:
        await c.send_raw(raw)
        await c.expect_error("protocol_error")
    # wrong ids and wrong choices
    bad_q = await c.answer("q-not-in-paper", [])
    err = await c.expect(p.Error)
    assert (err.code, err.ref) == ("unknown_question", bad_q)
    bad_o = await c.answer(q.id, ["o-nope"])
    assert (await c.expect_error("bad_choice")).ref == bad_o
    single = next(x for x in paper.questions if not x.multiple)
    await c.answer(single.id, [single.options[0].id, single.options[1].id])
    await c.expect_error("bad_choice")
    await c.answer(q.id, [q.options[0].id, q.options[0].id])
    await c.expect_error("bad_choice")
    # messages the state does not accept
    await c.send(p.Hello(protocol=1, ticket="again"))
    await c.expect_error("not_allowed")
    await c.send(p.RtcOffer(sdp="v=0"))
    await c.expect_error("not_allowed")
    # still usable, and nothing stored was lost
    await c.send(p.Heartbeat())
    await c.expect(p.HeartbeatAck)
    assert len(await server.store.answers(welcome.session)) == 1
    assert any("protocol_error" in r.getMessage() for r in caplog.records)
    assert any("unknown_question" in r.getMessage() for r in caplog.records)


async def test_exam_messages_before_the_identity_photo(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    assert isinstance(await c.hello(await ticket_for(server, exam)), p.Welcome)
    a = await c.answer("q", ["o"])
    assert (await c.expect_error("identity_required")).ref == a
    await c.send(p.Submit(id=new_id()))
    await c.expect_error("identity_required")


async def test_an_unreadable_identity_photo_is_refused_with_a_reason(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    assert isinstance(await c.hello(await ticket_for(server, exam)), p.Welcome)
    for garbage in (b"\xff\xd8 this is not a jpeg", b"GIF89a"):
        ident = new_id()
        await c.ws.send(p.encode_image(p.ImageHeader(type="identity_photo", id=ident), garbage))
        refused = await c.expect_error("bad_image")  # judged on its header, never decoded
        assert refused.ref == ident
    assert (await c.identity()).accepted  # a retake works
    await c.expect(p.Paper)


async def test_an_oversized_frame_closes_that_socket_only(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    big = await Candidate.connect(server.ws_url)
    await big.enter(await ticket_for(server, exam))
    await big.send_raw(
        p.encode_image(p.ImageHeader(type="snapshot", id="big"), b"\xff\xd8" + b"0" * p.MAX_FRAME)
    )
    assert await big.close_code() == 1009
    other = await Candidate.connect(server.ws_url)
    await other.enter(await ticket_for(server, exam, "Other"))  # the server serves everyone else


async def test_an_oversized_text_frame_is_a_protocol_error(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    await c.enter(await ticket_for(server, exam))
    await c.send_raw('{"type": "heartbeat", "pad": "' + "x" * p.MAX_TEXT_FRAME + '"}')
    await c.expect_error("protocol_error")


async def test_too_many_malformed_messages_close_the_socket(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    await c.enter(await ticket_for(server, exam))
    for _ in range(MAX_PROTOCOL_ERRORS):
        await c.send_raw("garbage")
    assert await c.close_code() == 1008


async def test_no_hello_in_time_closes_the_socket(tmp_path: object) -> None:
    from pathlib import Path

    from proctor_server.app import ServerConfig, run_server

    assert isinstance(tmp_path, Path)
    async with run_server(
        ServerConfig(db=tmp_path / "x.db", port=0, hello_timeout_s=0.2)
    ) as server:
        async with connect(server.ws_url + "/ws/candidate") as ws:
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 4408


async def test_compression_is_not_offered(server: Server) -> None:
    async with connect(server.ws_url + "/ws/candidate") as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
