"""Two stores on one database, as two exam-server processes share one: what one reads and then
writes cannot be undone by the other. SQLite serialises its writers (the file's lock);
PostgreSQL's run at once under READ COMMITTED, and the store locks the rows it reads first.

On PostgreSQL a third connection (`Gate`) holds the attempt's row while both stores' writes
are sent, and lets go once the database shows both waiting: the writes meet at the row, not one
after the other by luck. Without the store's row locks the tests below fail there (both
submits win; an acknowledged answer is missed by the score)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from proctor_server.core.audit import verify_chain
from proctor_server.core.records import AttemptRecord, TicketRecord
from proctor_server.store import SqliteStore, make_store
from proctor_server.store.sql.database import CommitPolicy
from shared.errors import InvalidTransition
from shared.states import AttemptState, Trigger
from shared.vocabulary import Mode
from tests.store.conftest import NOW, PASS, QUESTIONS, ContractStore, attempt_record, seat
from tests.support.postgres import Cluster

SECOND = timedelta(seconds=1)
_clients = itertools.count(1)


@dataclass
class Pair:
    a: ContractStore
    b: ContractStore
    dsn: str | None  # PostgreSQL's; None on SQLite

    def gate(self, key: str, table: str = "attempts", column: str = "id") -> Gate | _NoGate:
        return _NoGate() if self.dsn is None else Gate(self.dsn, table, column, key)


class _NoGate:
    async def __aenter__(self) -> _NoGate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def release_when_waiting(self, n: int) -> None:
        return None


class Gate:
    """A transaction of its own holding a row (an attempt's, a ticket's);
    `release_when_waiting(n)` ends it once `n` other backends wait for a lock."""

    def __init__(self, dsn: str, table: str, column: str, key: str):
        self.dsn = dsn
        self.sql = f"SELECT 1 FROM {table} WHERE {column} = %s FOR UPDATE"
        self.key = key

    async def __aenter__(self) -> Gate:
        import psycopg

        self.conn = await psycopg.AsyncConnection.connect(self.dsn)
        await self.conn.execute(self.sql, (self.key,))
        return self

    async def release_when_waiting(self, n: int) -> None:
        await until_waiting(self.dsn, n)
        await self.conn.rollback()

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()


async def until_waiting(dsn: str, n: int) -> None:
    """Return once `n` backends of the database wait for a lock."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as watch:
        while True:  # the stores' backends block on the row: no sleep decides this
            cur = await watch.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = await cur.fetchone()
            if row is not None and row[0] >= n:
                return
            await asyncio.sleep(0.005)  # polling the condition, not waiting it out


async def _sqlite_pair(tmp_path: Path, cluster: Cluster | None) -> Pair:
    a, b = SqliteStore(tmp_path / "two.db"), SqliteStore(tmp_path / "two.db")
    await a.open()
    await b.open()
    return Pair(a, b, None)


async def _postgres_pair(tmp_path: Path, cluster: Cluster | None) -> Pair:
    assert cluster is not None
    dsn = cluster.create("two")
    a = make_store(dsn, tmp_path / "files", commits=CommitPolicy(window_ms=20))
    b = make_store(dsn, tmp_path / "files")
    await a.open()
    await b.open()
    return Pair(a, b, dsn)


PAIRS: dict[str, Callable[[Path, Cluster | None], Awaitable[Pair]]] = {
    "sqlite": _sqlite_pair,
    "postgres": _postgres_pair,
}


@pytest.fixture(params=sorted(PAIRS))
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    cluster = request.getfixturevalue("postgres") if request.param == "postgres" else None
    opened = await PAIRS[request.param](tmp_path, cluster)
    try:
        yield opened
    finally:
        await opened.a.close()
        await opened.b.close()


async def _settled(*writes: Awaitable[Any]) -> list[Any]:
    return list(await asyncio.gather(*writes, return_exceptions=True))


def _submit(store: ContractStore, attempt_id: str, trigger: Trigger) -> Awaitable[Any]:
    return store.transition(
        attempt_id, trigger, NOW + SECOND, trigger.value, questions=QUESTIONS, pass_score=PASS
    )


async def test_a_transition_raced_by_two_processes_is_won_once(pair: Pair) -> None:
    seated = await seat(pair.a)
    async with pair.gate(seated.attempt.id) as gate:
        racing = asyncio.ensure_future(
            _settled(
                _submit(pair.a, seated.attempt.id, Trigger.SUBMIT),
                _submit(pair.b, seated.attempt.id, Trigger.DEADLINE),
            )
        )
        await gate.release_when_waiting(2)
        outcomes = await racing
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], InvalidTransition)
    history = await pair.b.state_history(seated.attempt.id)
    finished = [s for s, _, _ in history if s in ("submitted", "timed_out")]
    assert len(finished) == 1
    final = await pair.a.get_attempt(seated.attempt.id)
    assert final is not None and final.state.value == finished[0]


async def test_an_answer_resent_to_two_processes_is_stored_once(pair: Pair) -> None:
    seated = await seat(pair.a)
    client = f"c-{next(_clients)}"
    async with pair.gate(seated.attempt.id) as gate:
        racing = asyncio.ensure_future(
            _settled(
                pair.a.save_answer(seated.attempt.id, client, 0, [2], NOW),
                pair.b.save_answer(seated.attempt.id, client, 0, [2], NOW),
            )
        )
        await gate.release_when_waiting(1)  # one waits on the row, the other on the id
        outcomes = await racing
    assert sorted(outcomes) == [False, True]
    assert await pair.b.answers(seated.attempt.id) == {0: [2]}


async def test_an_acknowledged_answer_racing_the_submit_is_scored(pair: Pair) -> None:
    """Either the answer is stored before the submit scores (and counts), or the submit goes
    first and the answer is refused: never acknowledged and left out of the score."""
    for _ in range(3):
        seated = await seat(pair.a)
        async with pair.gate(seated.attempt.id) as gate:
            racing = asyncio.ensure_future(
                _settled(
                    pair.a.save_answer(seated.attempt.id, f"c-{next(_clients)}", 0, [2], NOW),
                    _submit(pair.b, seated.attempt.id, Trigger.SUBMIT),
                )
            )
            await gate.release_when_waiting(2)
            saved, submitted = await racing
        assert not isinstance(submitted, BaseException)
        attempt, _ = submitted
        assert attempt.state is AttemptState.SUBMITTED
        if saved is True:
            assert attempt.score == QUESTIONS[0].points
        else:
            assert isinstance(saved, BaseException) and attempt.score == 0


async def test_two_processes_entering_one_ticket_make_one_attempt(pair: Pair) -> None:
    seated = await seat(pair.a)
    ticket = seated.ticket

    def decide(
        t: TicketRecord | None, found: AttemptRecord | None, _: Callable[[], bool]
    ) -> AttemptRecord:
        assert t is not None
        return found or attempt_record(seated.exam, t, mode=Mode.TRIAL)

    async with pair.gate(ticket.token, "tickets", "token") as gate:
        racing = asyncio.ensure_future(
            _settled(
                pair.a.enter(ticket.token, Mode.TRIAL, f"n-{next(_clients)}", NOW, decide),
                pair.b.enter(ticket.token, Mode.TRIAL, f"n-{next(_clients)}", NOW, decide),
            )
        )
        await gate.release_when_waiting(2)
        results = await racing
    assert not any(isinstance(r, BaseException) for r in results)
    assert sorted(resumed for _, _, resumed in results) == [False, True]
    trials = [a for a in await pair.a.attempts_of_exam(seated.exam.id) if a.mode is Mode.TRIAL]
    assert len(trials) == 1


async def test_two_processes_append_to_one_audit_chain_without_a_gap(pair: Pair) -> None:
    """Each process audits its own candidate's warnings, both in the exam's one chain."""
    seated = await seat(pair.a)
    other = await seat(pair.b, exam=seated.exam, code="C00002")
    writes = [
        store.add_warning(attempt.id, NOW, text=str(i))
        for i in range(20)
        for store, attempt in ((pair.a, seated.attempt), (pair.b, other.attempt))
    ]
    counts = await asyncio.gather(*writes)
    assert sorted(counts) == sorted([*range(1, 21), *range(1, 21)])
    chain = await pair.b.audit_chain(seated.exam.id)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert verify_chain(chain, await pair.b.audit_head(seated.exam.id)) is None


async def test_a_write_that_loses_a_deadlock_runs_again(postgres: Cluster, tmp_path: Path) -> None:
    """A group holds one attempt's row and waits for another's, which another transaction
    holds while it waits for the first: PostgreSQL breaks the deadlock by failing the group's
    second write; the group commits the first, and the second runs again and is stored."""
    import psycopg

    dsn = postgres.create("deadlock")
    store = make_store(dsn, tmp_path / "files", commits=CommitPolicy(window_ms=100))
    await store.open()
    try:
        x = await seat(store)
        y = await seat(store, exam=x.exam, code="C00002")
        with psycopg.connect(dsn) as other:
            other.execute("SET deadlock_timeout = '60s'")  # the store's backend detects it
            other.execute("SELECT 1 FROM attempts WHERE id = %s FOR UPDATE", (x.attempt.id,))
            group = asyncio.ensure_future(
                asyncio.gather(
                    store.add_warning(y.attempt.id, NOW, text="first"),
                    store.add_warning(x.attempt.id, NOW, text="second"),
                )
            )
            await until_waiting(dsn, 1)
            await asyncio.to_thread(
                other.execute, "SELECT 1 FROM attempts WHERE id = %s FOR UPDATE", (y.attempt.id,)
            )
            other.rollback()
            assert list(await group) == [1, 1]
        assert [w.warnings_used for w in await store.attempts_of_exam(x.exam.id)] == [1, 1]
    finally:
        await store.close()


async def test_processes_starting_at_once_run_each_migration_step_once(
    postgres: Cluster, tmp_path: Path
) -> None:
    """Four stores open one empty PostgreSQL database at once: each step runs once, under the
    migration lock, and each component ends at its newest version."""
    import psycopg

    from proctor_server.programme.schema import MIGRATIONS
    from proctor_server.store.migrations import STORE_COMPONENTS

    dsn = postgres.create("migrate")
    stores = [make_store(dsn, tmp_path / "files", components=MIGRATIONS) for _ in range(4)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
    finally:
        for s in stores:
            await s.close()
    with psycopg.connect(dsn) as conn:
        versions: dict[str, int] = dict(
            conn.execute("SELECT component, version FROM schema_versions").fetchall()
        )
    expected = {name: len(steps) for name, steps in {**STORE_COMPONENTS, **MIGRATIONS}.items()}
    assert versions == expected


async def test_a_store_whose_session_is_ended_connects_again(
    postgres: Cluster, tmp_path: Path
) -> None:
    """PostgreSQL ends the store's session (a restart, an operator's pg_terminate_backend):
    the write in flight fails unacknowledged, and the store connects again for the next."""
    import psycopg

    dsn = postgres.create("reconnect")
    store = make_store(dsn, tmp_path / "files")
    await store.open()
    try:
        seated = await seat(store)
        pid = await store._read(lambda c: c.execute("SELECT pg_backend_pid()").fetchone()[0])
        with psycopg.connect(dsn, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            await store.save_answer(seated.attempt.id, "lost", 0, [1], NOW)
        assert await store.save_answer(seated.attempt.id, "again", 0, [1], NOW)
        assert await store.answers(seated.attempt.id) == {0: [1]}
    finally:
        await store.close()
