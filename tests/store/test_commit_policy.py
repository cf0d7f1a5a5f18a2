"""The store's commit grouping as the operator sets it (`serve --commit-window-ms`,
`--commit-max`): how many writes share a transaction, and that a lone failing write is
refused alone; on both engines (`database`: a SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from proctor_server.store import make_store
from proctor_server.store.sql.database import CommitPolicy
from tests.store.conftest import NOW, seat


async def grouped(database: Path | str, policy: CommitPolicy, count: int) -> tuple[int, int]:
    """(transactions, writes) for `count` answers sent at once on a store with `policy`."""
    store = make_store(database, commits=policy)
    await store.open()
    try:
        attempt = (await seat(store)).attempt.id
        before = store.commits, store.writes
        saved = await asyncio.gather(
            *(store.save_answer(attempt, f"c{i}", i % 4, [0], NOW) for i in range(count))
        )
        assert all(saved)
        assert len(await store.answers(attempt)) == min(count, 4)
        return store.commits - before[0], store.writes - before[1]
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("policy", "count", "most_commits", "least_commits"),
    [
        (CommitPolicy(max_group=10), 100, 100, 10),  # at most 10 writes per transaction
        (CommitPolicy(max_group=1), 30, 30, 30),  # one transaction per write
        (CommitPolicy(window_ms=200.0), 100, 2, 1),  # everything waits into one or two
    ],
)
async def test_the_commit_policy_sets_how_writes_share_transactions(
    database: Path | str, policy: CommitPolicy, count: int, most_commits: int, least_commits: int
) -> None:
    commits, writes = await grouped(database, policy, count)
    assert writes == count
    assert least_commits <= commits <= most_commits


async def test_a_commit_window_gathers_writes_sent_apart(database: Path | str) -> None:
    store = make_store(database, commits=CommitPolicy(window_ms=300.0))
    await store.open()
    try:
        attempt = (await seat(store)).attempt.id
        before = store.commits

        async def later(i: int) -> bool:
            await asyncio.sleep(0.01 * i)
            return await store.save_answer(attempt, f"c{i}", i % 4, [1], NOW)

        assert all(await asyncio.gather(*(later(i) for i in range(5))))
        assert store.commits - before == 1
    finally:
        await store.close()


async def test_a_lone_failing_write_is_refused_and_leaves_nothing(database: Path | str) -> None:
    store = make_store(database)
    await store.open()
    try:

        def boom(c: Any) -> None:
            c.execute("INSERT INTO audit (at, actor, action, detail) VALUES ('x', 'y', 'z', '{}')")
            raise ValueError("refused")

        with pytest.raises(ValueError):
            await store._write(boom)
        count = await store._read(
            lambda c: c.execute("SELECT COUNT(*) FROM audit WHERE actor = 'y'").fetchone()[0]
        )
        assert count == 0
        assert await store._read(lambda c: c.in_transaction) is False
    finally:
        await store.close()


@pytest.mark.parametrize(("window_ms", "max_group"), [(-1.0, 10), (0.0, 0)])
def test_a_commit_policy_out_of_range_is_refused(window_ms: float, max_group: int) -> None:
    with pytest.raises(ValueError):
        CommitPolicy(window_ms, max_group)


async def test_writes_queued_at_close_are_committed_first(database: Path | str) -> None:
    store = make_store(database)
    await store.open()
    attempt = (await seat(store)).attempt.id
    pending = [
        asyncio.ensure_future(store.save_answer(attempt, f"c{i}", i % 4, [2], NOW))
        for i in range(20)
    ]
    await asyncio.sleep(0)  # queued, not yet committed
    await store.close()
    assert all(await asyncio.gather(*pending))
    reopened = make_store(database)
    await reopened.open()
    try:
        assert len(await reopened.answers(attempt)) == 4
    finally:
        await reopened.close()
