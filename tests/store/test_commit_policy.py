"""The store's commit grouping as the operator sets it (`serve --commit-window-ms`,
`--commit-max`): how many writes share a transaction, and that a lone failing write is
refused alone; on both engines (`database`: a SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from proctor_server.core.audit import verify_chain
from proctor_server.store import make_store
from proctor_server.store.sql.audit import append_audit
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


async def test_a_read_sees_the_writes_queued_before_it_and_none_after(
    database: Path | str,
) -> None:
    """Reads take turns with the grouped writes on the store's thread: each sees exactly the
    writes queued before it, though a commit window gathers writes on both sides of it. The
    proctors' grid journal counts on it: a grid read started before an event must not hold
    that event, or the page, which replays the event after the read, counts it twice."""
    store = make_store(database, commits=CommitPolicy(window_ms=200.0))
    await store.open()
    try:
        attempt = (await seat(store)).attempt.id

        def stored(c: Any) -> int:
            sql = "SELECT count(*) FROM answer_log WHERE attempt_id = ?"
            return int(c.execute(sql, (attempt,)).fetchone()[0])

        def answer(n: int) -> Any:
            return store.save_answer(attempt, f"c{n}", n % 4, [0], NOW)

        async def read() -> int:
            return await store._read(stored)

        # queued in this order, in one turn of the loop: within one window of the store
        outcomes = await asyncio.gather(
            read(), answer(1), read(), answer(2), answer(3), read(), answer(4)
        )
        assert outcomes == [0, True, 1, True, True, 3, True]
        assert await store._read(stored) == 4
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


@pytest.mark.parametrize("repeatable", [False, True])
async def test_audit_entries_sharing_a_transaction_keep_their_chains(
    database: Path | str, repeatable: bool
) -> None:
    """A group's audit entries read each chain's head once and write it once before COMMIT
    (`chain_heads`); a write that fails after appending takes its entries back (rolled back
    to its savepoint, or the group run again with savepoints): every chain still verifies and
    its head is its last entry."""
    store = make_store(database, commits=CommitPolicy(window_ms=200.0))
    await store.open()
    try:
        exam = (await seat(store)).exam.id
        before = store.commits
        failing = {3, 10, 17, 29}

        def entry(k: int) -> Any:
            def op(c: Any) -> int:
                append_audit(c, exam, "staff", "note", {"k": k}, NOW)
                append_audit(c, "", "staff", "aside", {"k": k}, NOW)  # a second chain
                if k in failing:
                    raise ValueError("refused")
                return k

            return store._write(op, repeatable=repeatable)

        outcomes = await asyncio.gather(*(entry(k) for k in range(30)), return_exceptions=True)
        assert [k for k, o in enumerate(outcomes) if isinstance(o, ValueError)] == sorted(failing)
        assert store.commits - before <= 2  # one group (two at most on a slow machine)
        for chain, action in ((exam, "note"), ("", "aside")):
            entries = await store.audit_chain(chain)
            kept = [e.detail["k"] for e in entries if e.action == action]
            assert kept == [k for k in range(30) if k not in failing]
            assert verify_chain(entries, await store.audit_head(chain)) is None
        # a later lone write reads the head the group wrote
        await store.audit("staff", "after", {}, NOW, exam=exam)
        entries = await store.audit_chain(exam)
        assert verify_chain(entries, await store.audit_head(exam)) is None
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
