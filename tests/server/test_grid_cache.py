"""The journal's rules on their own (`console/grid_cache.py`): where a proctor's replay starts,
when a read is no longer given out, and a read that fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from proctor_server.console.grid_cache import LIMIT, MAX_AGE, GridCache
from proctor_server.core.console import ExamGrid
from shared import proctor_protocol as pp
from shared import protocol as p

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
GRID = ExamGrid(columns={}, attempts=[], risks={})


def event(n: int) -> pp.Warned:
    return pp.Warned(
        exam="e", at="t", attempt="a", candidate="C1", text=str(n), count=n, limit=3,
        source=p.WarningSource.SYSTEM, by="system",
    )  # fmt: skip


def sample() -> pp.Connection:
    return pp.Connection(exam="e", at="t", attempt="a", candidate="C1", rtt_ms=20, reconnects=0)


class Reads:
    """Reads that finish when the test says so, counted."""

    def __init__(self) -> None:
        self.started: list[asyncio.Future[ExamGrid]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, now: datetime) -> ExamGrid:
        done: asyncio.Future[ExamGrid] = asyncio.get_running_loop().create_future()
        self.started.append(done)
        async with self._changed:
            self._changed.notify_all()
        return await done

    async def begun(self, n: int) -> list[asyncio.Future[ExamGrid]]:
        """Once `n` reads have started: their results, to be set."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.started) >= n), 5)
        return self.started


async def test_each_place_replays_what_came_before_it_and_nothing_after() -> None:
    now = [T0]
    cache, reads = GridCache(lambda: now[0]), Reads()
    reader = cache.place("e", reads)
    assert cache.recording("e")
    cache.record("e", event(1), b"1")  # during the read
    second = cache.place("e", reads)
    cache.record("e", event(2), b"2")
    cache.record("e", sample(), b"rtt")  # samples are not journalled
    third = cache.place("e", reads)
    (read,) = await reads.begun(1)
    read.set_result(GRID)
    assert [await place.grid() for place in (reader, second, third)] == [GRID] * 3
    assert (reader.replay(), second.replay(), third.replay()) == ([], [b"1"], [b"1", b"2"])
    assert cache.reads == 1


@pytest.mark.parametrize(
    ("later", "events", "again"),
    [
        (MAX_AGE, 0, False),
        (MAX_AGE + timedelta(microseconds=1), 0, True),
        (timedelta(0), LIMIT, False),
        (timedelta(0), LIMIT + 1, True),
    ],
)
async def test_a_read_is_given_out_while_recent_and_short(
    later: timedelta, events: int, again: bool
) -> None:
    now = [T0]
    cache, reads = GridCache(lambda: now[0]), Reads()
    cache.place("e", reads)
    for n in range(events):
        cache.record("e", event(n), b"x")
    now[0] = T0 + later
    assert cache.recording("e") is not again  # a stale entry keeps nothing more
    last = cache.place("e", reads)
    for started in await reads.begun(2 if again else 1):
        started.set_result(GRID)
    assert await last.grid() == GRID
    assert (cache.reads, len(reads.started)) == ((2, 2) if again else (1, 1))


async def test_a_failed_read_fails_its_proctors_and_the_next_reads_again() -> None:
    cache, reads = GridCache(lambda: T0), Reads()
    first = cache.place("e", reads)
    (read,) = await reads.begun(1)
    read.set_exception(OSError("disk"))
    with pytest.raises(OSError):
        await first.grid()
    assert not cache.recording("e")
    again = cache.place("e", reads)
    (await reads.begun(2))[1].set_result(GRID)
    assert await again.grid() == GRID and cache.reads == 2


async def test_no_reuse_when_the_window_is_zero() -> None:
    cache, reads = GridCache(lambda: T0, max_age=timedelta(0)), Reads()
    places = [cache.place("e", reads) for _ in range(2)]
    for started in await reads.begun(2):
        started.set_result(GRID)
    assert [await place.grid() for place in places] == [GRID, GRID]
    assert cache.reads == 2
    assert not cache.recording("e")  # nothing journalled for a read nobody else is given
