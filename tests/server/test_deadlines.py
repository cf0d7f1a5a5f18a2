"""Deadlines on a clock the test moves: the exam's common deadline, an attempt's own later
one (extra time), and both rebuilt from the store when the server restarts."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from proctor_server import admin
from proctor_server.app import ServerConfig, run_server
from proctor_server.store import AttemptRecord, ExamRecord, Store
from shared import protocol as p
from shared.rules import WRITE_GRACE
from shared.shuffle import SEED_BYTES, order_for
from shared.states import AttemptState
from shared.timeutil import from_wire
from shared.vocabulary import Mode
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate
from tests.support.clock import FakeClock

EXTRA = timedelta(minutes=10)


def config(tmp_path: Path) -> ServerConfig:
    return ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600)


async def extended_attempt(store: Store, exam: ExamRecord, name: str) -> tuple[AttemptRecord, str]:
    """An attempt whose own deadline is later than the exam's (an extension of 10 minutes),
    and the raw ticket it is entered with."""
    ticket = await admin.issue_ticket(store, exam.id, name=name)
    seed = secrets.token_hex(SEED_BYTES)
    attempt = AttemptRecord(
        id="a-extended",
        exam_id=exam.id,
        ticket=ticket.key,
        mode=Mode.EXAM,
        state=AttemptState.WAITING,
        seed=seed,
        order=order_for(seed, QUESTIONS),
        created_at=exam.starts_at,
        ends_at=exam.window.ends_at + EXTRA,
    )
    await store.create_attempt(attempt)
    return attempt, ticket.token


async def test_deadlines_are_rebuilt_after_a_restart_and_extra_time_is_kept(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with run_server(config(tmp_path), clock) as server:
        exam = await admin.create_exam(
            server.store,
            title="Deadlines",
            starts_at=clock.now() - timedelta(minutes=5),
            duration=timedelta(minutes=90),
            questions=QUESTIONS,
        )
        token = (await admin.issue_ticket(server.store, exam.id, name="Alice")).token
        c = await Candidate.connect(server.ws_url)
        welcome, _ = await c.enter(token)
        extended, bob_ticket = await extended_attempt(server.store, exam, "Bob")
        await c.close()

    # A new server process on the same database: the timers come from the store.
    async with run_server(config(tmp_path), clock) as server:
        c = await Candidate.connect(server.ws_url)
        resumed = await c.hello(token)
        assert isinstance(resumed, p.Welcome) and resumed.session == welcome.session
        await c.expect(p.Paper)

        await clock.run_until(exam.window.ends_at + WRITE_GRACE)
        await c.expect(p.TimeUp)
        assert (await c.expect(p.Result)).reason == "time_up"
        on_time = await server.store.get_attempt(welcome.session)
        assert on_time is not None and on_time.state is AttemptState.TIMED_OUT
        later = await server.store.get_attempt(extended.id)
        assert later is not None and later.state is AttemptState.WAITING  # still has 10 min

        bob = await Candidate.connect(server.ws_url)
        assert isinstance(await bob.hello(bob_ticket), p.Welcome)
        await clock.run_until(extended.ends_at + WRITE_GRACE)
        await bob.expect(p.TimeUp)
        finished = await server.store.get_attempt(extended.id)
        assert finished is not None and finished.state is AttemptState.TIMED_OUT
        assert finished.finished_at == extended.ends_at + WRITE_GRACE


async def test_an_extended_attempt_takes_writes_until_its_own_deadline(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with run_server(config(tmp_path), clock) as server:
        exam = await admin.create_exam(
            server.store,
            title="Extra time",
            starts_at=clock.now() - timedelta(minutes=5),
            duration=timedelta(minutes=90),
            questions=QUESTIONS,
        )
        extended, carol_ticket = await extended_attempt(server.store, exam, "Carol")
        c = await Candidate.connect(server.ws_url)
        welcome, paper = await c.enter(carol_ticket)
        assert welcome.session == extended.id
        assert from_wire(paper.ends_at) == extended.ends_at
        await clock.run_until(exam.window.ends_at + WRITE_GRACE)
        q = paper.questions[0]
        await c.expect_ack(await c.answer(q.id, [q.options[0].id]))  # still open for Carol
        await clock.run_until(extended.ends_at + WRITE_GRACE)
        await c.expect(p.TimeUp)
        await c.answer(q.id, [q.options[1].id])
        await c.expect_error("deadline_passed")
