"""The trial pass (R12) through a real server: registering gives the candidate a pass, in the
registration's notice, that runs the trial exam as often as they like with no admission
ticket yet; the pass never opens the exam, and the trial closes on the exam day. Like a
ticket, the pass is stored as its key only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from proctor_server.app import Server, ServerConfig, run_server
from proctor_server.core.session import ticket_key
from proctor_server.programme.service import Programme, Settings
from proctor_server.programme.trial import trial_exam_id
from shared import protocol as p
from shared.calendar import month_key, next_month, sitting_of
from shared.questions import TRIAL_QUESTIONS
from shared.vocabulary import Mode
from tests.client.runtime.test_runtime_command import take
from tests.programme.conftest import close_programme, open_programme, query
from tests.server.scripted import Candidate
from tests.support.clock import FakeClock

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 3, 9, 0, tzinfo=TZ))


@pytest.fixture
async def server(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    config = ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600)
    async with run_server(config, clock) as s:
        yield s


async def register(db: Path, now: datetime, sitting: str) -> tuple[Programme, int]:
    prog = await open_programme(db, Settings(TZ))
    reg = await prog.register(
        name="Lin Wei",
        id_number="E12345678",
        phone="13800138000",
        email="lin@example.cn",
        city="Shenzhen",
        sitting=sitting,
        identity_verified=True,
        now=now,
    )
    return prog, reg.id


def the_pass(prog: Programme, registration: int) -> str:
    ((body,),) = query(
        prog,
        "SELECT body FROM programme_notices WHERE kind = 'trial_pass' AND registration_id = ?",
        registration,
    )
    found = re.search(r"Trial pass: (\S+)", body)
    assert found is not None, body
    return found.group(1)


async def test_a_registered_candidate_runs_the_trial_with_the_pass_until_the_exam_day(
    server: Server, clock: FakeClock, tmp_path: Path
) -> None:
    now = clock.now()
    sitting = next_month(month_key(now.year, now.month))
    prog, reg_id = await register(tmp_path / "exam.db", now, sitting)
    try:
        token = the_pass(prog, reg_id)
        # unpaid, no admission ticket: registering is enough (R12); only the key is stored
        stored = query(prog, "SELECT token, trial_only, exam_id FROM tickets")
        assert stored == [(ticket_key(token), 1, trial_exam_id(sitting))]
    finally:
        await close_programme(prog)

    async def live() -> list[str]:
        return [e.id for e in await server.store.list_live_exams(clock.now())]

    # the trial exam is no exam for a proctor to follow (a chief's feed picks among these)
    assert trial_exam_id(sitting) not in await live()
    sessions = []
    for _ in range(2):  # as often as they like
        c = await Candidate.connect(server.ws_url)
        welcome = await c.hello(token, mode=Mode.TRIAL)
        assert isinstance(welcome, p.Welcome) and welcome.mode == "trial", welcome
        assert welcome.candidate.code == f"R{reg_id:06d}"
        assert (await c.identity()).accepted
        assert trial_exam_id(sitting) in await live()  # while a trial is going: restarts
        paper = await c.expect(p.Paper)
        assert sorted(q.text for q in paper.questions) == sorted(q.text for q in TRIAL_QUESTIONS)
        q = paper.questions[0]
        await c.expect_ack(await c.answer(q.id, [q.options[0].id]))
        await c.send(p.Submit(id="submit-1"))
        result = await c.expect(p.Result)
        assert result.counts is False
        sessions.append(welcome.session)
        await c.close()
    assert sessions[0] != sessions[1]

    c = await Candidate.connect(server.ws_url)  # the pass never opens the exam
    refused = await c.hello(token, mode=Mode.EXAM)
    assert isinstance(refused, p.Error) and refused.code == "bad_ticket"
    assert "trial pass" in refused.message and "admission ticket" in refused.message
    await c.close()

    exam_day = sitting_of(sitting, tz=TZ).exam_date
    clock.set(datetime(exam_day.year, exam_day.month, exam_day.day, tzinfo=TZ))
    c = await Candidate.connect(server.ws_url)
    closed = await c.hello(token, mode=Mode.TRIAL)
    assert isinstance(closed, p.Error) and closed.code == "trial_unavailable"
    await c.close()


async def test_a_refund_revokes_the_pass_and_a_deferral_gives_a_new_one(
    server: Server, clock: FakeClock, tmp_path: Path
) -> None:
    now = clock.now()
    sitting = next_month(month_key(now.year, now.month))
    prog, reg_id = await register(tmp_path / "exam.db", now, sitting)
    try:
        first = the_pass(prog, reg_id)
        await prog.pay(reg_id, now + timedelta(minutes=1))
        await prog.defer(reg_id, None, now + timedelta(minutes=2))
        passes = query(
            prog,
            "SELECT body FROM programme_notices WHERE kind = 'trial_pass' ORDER BY id",
        )
        assert len(passes) == 2 and next_month(sitting) in passes[1][0]
        second = re.findall(r"Trial pass: (\S+)", passes[1][0])[0]
        assert await trial(server, first) == "bad_ticket"  # the old sitting's pass is gone
        assert await trial(server, second) == "welcome"
        await prog.refund(reg_id, now + timedelta(minutes=3))
        assert await trial(server, second) == "bad_ticket"  # no longer registered
    finally:
        await close_programme(prog)


async def trial(server: Server, token: str) -> str:
    c = await Candidate.connect(server.ws_url)
    try:
        answer = await c.hello(token, mode=Mode.TRIAL, ready=False)
        return "welcome" if isinstance(answer, p.Welcome) else answer.code
    finally:
        await c.close()


async def test_the_app_takes_the_trial_with_the_pass_and_is_told_it_is_not_the_ticket(
    server: Server, clock: FakeClock, tmp_path: Path
) -> None:
    """`proctor-client take --ticket PASS --trial`, a real client process: the app's trial
    (the GUI's trial button enters the same way), then the exam refused in one line."""
    now = clock.now()
    prog, reg_id = await register(
        tmp_path / "exam.db", now, next_month(month_key(now.year, now.month))
    )
    try:
        token = the_pass(prog, reg_id)
    finally:
        await close_programme(prog)
    code, out, err = await take(
        tmp_path, "--server", server.url, "--ticket", token, "--trial", "--random"
    )
    assert code == 0, (out, err)
    assert "(trial: nothing counts)" in out.splitlines()[-1], out
    code, out, err = await take(tmp_path, "--server", server.url, "--ticket", token, "--random")
    assert code == 2 and "trial pass" in err and len(err.strip().splitlines()) == 1, err
