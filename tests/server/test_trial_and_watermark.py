"""The trial exam (R12) and the rotating, attributable watermark (R16)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.request import urlopen

import pytest
from websockets.asyncio.client import connect

from proctor_server import admin, exams
from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.core.session import ticket_key
from proctor_server.store import ExamRecord
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.questions import TRIAL_QUESTIONS
from shared.timeutil import from_wire
from shared.vocabulary import EventKind, Mode
from tests.server.conftest import QUESTIONS, MakeExam, ticket_for
from tests.server.scripted import Candidate, new_id
from tests.support.clock import FakeClock


async def test_a_trial_runs_before_the_exam_as_often_as_wanted(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(hours=3))
    token = await ticket_for(server, exam)
    sessions = []
    for _ in range(2):
        c = await Candidate.connect(server.ws_url)
        welcome = await c.hello(token, mode=Mode.TRIAL)
        assert isinstance(welcome, p.Welcome) and welcome.mode == "trial"
        assert "TRIAL" in welcome.watermark.text
        assert (await c.identity()).accepted
        paper = await c.expect(p.Paper)  # a trial starts at once
        assert sorted(q.text for q in paper.questions) == sorted(q.text for q in TRIAL_QUESTIONS)
        left = from_wire(paper.ends_at) - from_wire(paper.server_time)
        assert timedelta(minutes=14) < left <= timedelta(minutes=15)
        q = paper.questions[0]
        await c.expect_ack(await c.answer(q.id, [q.options[0].id]))
        event = new_id()
        await c.send(p.Event(id=event, kind=EventKind.FOCUS_LOST))
        await c.expect_ack(event)
        warning = await c.expect(p.ProctorWarning)  # the trial shows the warning too
        assert warning.limit is None
        submit = new_id()
        await c.send(p.Submit(id=submit))
        result = await c.expect(p.Result)
        assert result.counts is False and result.max_score == 3
        sessions.append(welcome.session)
        await c.close()
    assert sessions[0] != sessions[1]
    for session in sessions:  # nothing in a trial counts: no violation recorded
        assert await server.store.violations(session) == []
    # the real exam is untouched: not open yet, no attempt
    assert await server.store.find_attempt(ticket_key(token), "exam") is None
    c = await Candidate.connect(server.ws_url)
    err = await c.hello(token)
    assert isinstance(err, p.Error) and err.code == "entry_not_open"


async def test_the_trial_closes_when_the_exam_starts(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    c = await Candidate.connect(server.ws_url)
    err = await c.hello(await ticket_for(server, exam), mode=Mode.TRIAL)
    assert isinstance(err, p.Error) and err.code == "trial_unavailable"


@pytest.fixture
async def rotating(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    config = ServerConfig(db=tmp_path / "w.db", port=0, nonce_rotation_s=60)
    async with run_server(config, clock) as s:
        yield s


async def networking(server: Server, clock: FakeClock) -> ExamRecord:
    """An exam that started a minute ago, on the rotating server."""
    return await admin.create_exam(
        server.store,
        title="Networking",
        starts_at=clock.now() - timedelta(minutes=1),
        duration=timedelta(hours=1),
        questions=QUESTIONS,
    )


async def test_the_watermark_nonce_rotates_and_dates_a_screenshot(
    rotating: Server, clock: FakeClock
) -> None:
    server = rotating
    exam = await networking(server, clock)
    token = await ticket_for(server, exam, "Alice Martin")
    c = await Candidate.connect(server.ws_url)
    welcome, _ = await c.enter(token)
    first = welcome.watermark.nonce
    # a minute later (the runtime's 2-second sweep of revoked tickets wakes in between)
    clock.set(await clock.next_wake(clock.now() + timedelta(seconds=30)))
    rotated = await c.expect(p.Watermark)
    clock.set(await clock.next_wake(clock.now() + timedelta(seconds=30)))
    second = await c.expect(p.Watermark)
    assert len({first, rotated.nonce, second.nonce}) == 3
    assert (
        rotated.text
        == welcome.watermark.text
        == f"{welcome.candidate.code} · A**********n · Networking"
    )
    history = await server.store.nonce_history(welcome.session)
    assert [n for n, _ in history][:3] == [first, rotated.nonce, second.nonce]
    assert [t for _, t in history] == sorted(t for _, t in history)
    # a screenshot showing `rotated.nonce` is attributed to this attempt and dated
    found = await server.store.find_nonce(rotated.nonce)
    assert found is not None and found[0] == welcome.session
    assert history[0][1] <= found[1] <= history[2][1]


async def test_health_and_bandwidth_endpoints(server: Server) -> None:
    import asyncio

    def get(path: str) -> tuple[int, bytes, str]:
        with urlopen(server.url + path, timeout=5) as r:
            return r.status, r.read(), r.headers["Content-Type"]

    status, body, kind = await asyncio.to_thread(get, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert from_wire(json.loads(body)["server_time"]).year >= 2026
    status, body, kind = await asyncio.to_thread(get, "/bandwidth?bytes=150000")
    assert (status, len(body), kind) == (200, 150_000, "application/octet-stream")
    # the plain GET is small: the download test streams over /ws/bandwidth
    for bad in ("/bandwidth?bytes=0", "/bandwidth?bytes=abc", "/bandwidth?bytes=20000000"):
        with pytest.raises(Exception, match="400"):
            await asyncio.to_thread(get, bad)
    with pytest.raises(Exception, match="404"):
        await asyncio.to_thread(get, "/nothing-here")
    async with connect(server.ws_url + "/ws/bandwidth", max_size=None) as ws:
        await ws.send(b"\x00" * 3_000_000)  # larger than a candidate frame may be
        ack = json.loads(await ws.recv())
        assert ack["type"] == "bandwidth_ack" and ack["bytes"] == 3_000_000
        await ws.send('{"type": "download", "bytes": 600000}')  # streamed in chunks
        got = 0
        while isinstance(message := await ws.recv(), bytes):
            got += len(message)
        assert got == 600_000 and json.loads(message) == {"type": "download_done", "bytes": 600000}


async def test_the_proctor_feed_needs_a_token_and_streams_events(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    async with connect(server.ws_url + "/ws/proctor?token=wrong") as ws:
        assert json.loads(await ws.recv())["code"] == "bad_token"
    token = await admin.proctor_token(server.store, exam.id)
    async with connect(server.ws_url + "/ws/proctor") as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot" and snapshot["exam"]["id"] == exam.id
        assert snapshot["columns"][0] == []  # no ticket: no row
        c = await Candidate.connect(server.ws_url)
        welcome, _ = await c.enter(await ticket_for(server, exam, "李四"))
        kinds = []
        while "started" not in kinds:
            event = json.loads(await ws.recv())
            assert event["attempt"] == welcome.session
            kinds.append(event["type"])
        assert kinds == ["joined", "identity", "started"]


async def test_the_feed_lists_the_most_suspicious_attempt_first(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    calm = await Candidate.connect(server.ws_url)
    await calm.enter(await ticket_for(server, exam, "Calm"))
    restless = await Candidate.connect(server.ws_url)
    welcome, _ = await restless.enter(await ticket_for(server, exam, "Restless"))
    for _ in range(3):
        event = new_id()
        await restless.send(p.Event(id=event, kind=EventKind.FOCUS_LOST))
        await restless.expect_ack(event)
    token = await admin.proctor_token(server.store, exam.id)
    async with connect(f"{server.ws_url}/ws/proctor?token={token}") as ws:
        snapshot = pp.decode_feed(await ws.recv())  # rows are arrays on the wire
    assert isinstance(snapshot, pp.Snapshot)
    first, second = snapshot.attempts
    assert first.attempt == welcome.session and first.violations == 3
    assert first.risk > second.risk == 0
    assert any(
        "left" in reason.lower() or "exam window" in reason.lower() for reason in first.risk_reasons
    )


async def test_a_rotation_reaches_every_candidate_a_few_at_a_time(
    rotating: Server, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exams, "ROTATION_SLICE", 2)  # five candidates, two writers
    server = rotating
    exam = await networking(server, clock)
    seated = []
    for n in range(5):
        c = await Candidate.connect(server.ws_url)
        welcome, _ = await c.enter(await ticket_for(server, exam, f"Candidate {n}"))
        seated.append((c, welcome))
    await clock.run_until(clock.now() + timedelta(seconds=61))  # past one rotation period
    for c, welcome in seated:
        rotated = await c.expect(p.Watermark)
        assert rotated.nonce != welcome.watermark.nonce
        history = await server.store.nonce_history(welcome.session)
        assert [n for n, _ in history][:2] == [welcome.watermark.nonce, rotated.nonce]
        await c.close()
