"""The journal's rules on their own (`console/grid_cache.py`): where a proctor's replay starts,
when a read is no longer given out, a read that fails, and when a warm exam's next read starts
in the background and takes over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from proctor_server.console.grid_cache import LIMIT, MAX_AGE, MIN_GAP, REFRESH_AT, GridCache
from proctor_server.core.console import ExamGrid
from shared import proctor_protocol as pp
from shared import protocol as p

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
GRID = ExamGrid(columns={}, attempts=[], risks={})
NEXT = ExamGrid(columns={}, attempts=["a"], risks={})
COLD = timedelta(0)  # no read in the background: the journal's own rules


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

    async def __call__(self, exam_id: str, now: datetime) -> ExamGrid:
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
    reads = Reads()
    cache = GridCache(lambda: now[0], reads, warm_for=COLD)
    reader = cache.place("e")
    assert cache.recording("e")
    cache.record("e", event(1), b"1")  # during the read
    second = cache.place("e")
    cache.record("e", event(2), b"2")
    cache.record("e", sample(), b"rtt")  # samples are not journalled
    third = cache.place("e")
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
    reads = Reads()
    cache = GridCache(lambda: now[0], reads, warm_for=COLD)
    cache.place("e")
    for n in range(events):
        cache.record("e", event(n), b"x")
    now[0] = T0 + later
    assert cache.recording("e") is not again  # a stale entry keeps nothing more
    last = cache.place("e")
    for started in await reads.begun(2 if again else 1):
        started.set_result(GRID)
    assert await last.grid() == GRID
    assert (cache.reads, len(reads.started)) == ((2, 2) if again else (1, 1))


async def test_a_failed_read_fails_its_proctors_and_the_next_reads_again() -> None:
    reads = Reads()
    cache = GridCache(lambda: T0, reads, warm_for=COLD)
    first = cache.place("e")
    (read,) = await reads.begun(1)
    read.set_exception(OSError("disk"))
    with pytest.raises(OSError):
        await first.grid()
    assert not cache.recording("e")
    again = cache.place("e")
    (await reads.begun(2))[1].set_result(GRID)
    assert await again.grid() == GRID and cache.reads == 2


async def test_no_reuse_when_the_window_is_zero() -> None:
    reads = Reads()
    cache = GridCache(lambda: T0, reads, max_age=timedelta(0))
    places = [cache.place("e") for _ in range(2)]
    for started in await reads.begun(2):
        started.set_result(GRID)
    assert [await place.grid() for place in places] == [GRID, GRID]
    assert cache.reads == 2
    assert not cache.recording("e")  # nothing journalled for a read nobody else is given


@pytest.mark.parametrize(
    ("later", "events", "refresh"),
    [
        (REFRESH_AT - timedelta(microseconds=1), 0, False),
        (REFRESH_AT, 0, True),
        (MIN_GAP - timedelta(microseconds=1), LIMIT // 2, False),
        (MIN_GAP, LIMIT // 2 - 1, False),
        (MIN_GAP, LIMIT // 2, True),
    ],
)
async def test_a_warm_exam_reads_again_when_its_read_is_old_or_its_journal_long(
    later: timedelta, events: int, refresh: bool
) -> None:
    now = [T0]
    reads = Reads()
    cache = GridCache(lambda: now[0], reads)
    cache.place("e")
    (await reads.begun(1))[0].set_result(GRID)
    for n in range(events):
        cache.record("e", event(n), b"x")
    now[0] = T0 + later
    given = cache.place("e")  # the last read, and the next one started behind it if due
    assert await given.grid() == GRID and len(given.replay()) == events
    assert (cache.reads, cache.refreshes) == ((2, 1) if refresh else (1, 0))
    cache.close()


async def test_the_next_read_takes_over_once_done_and_its_journal_runs_from_its_start() -> None:
    now = [T0]
    reads = Reads()
    cache = GridCache(lambda: now[0], reads)
    cache.place("e")
    (await reads.begun(1))[0].set_result(GRID)
    cache.record("e", event(1), b"1")
    now[0] = T0 + REFRESH_AT
    before = cache.place("e")  # starts the next read
    cache.record("e", event(2), b"2")  # while it is under way: in both journals
    meanwhile = cache.place("e")
    assert (before.replay(), meanwhile.replay()) == ([b"1"], [b"1", b"2"])
    assert await meanwhile.grid() == GRID  # the last read still given out
    now[0] = T0 + MAX_AGE + timedelta(microseconds=1)  # the last read too old to be given
    waiting = cache.place("e")  # the next read's, waited for
    (await reads.begun(2))[1].set_result(NEXT)
    assert await waiting.grid() == NEXT and waiting.replay() == [b"2"]
    cache.record("e", event(3), b"3")
    after = cache.place("e")  # the next read, now the one given out: no read of its own
    assert await after.grid() == NEXT and after.replay() == [b"2", b"3"]
    assert cache.reads == 2 and cache.recording("e")
    cache.close()


async def test_a_failed_background_read_fails_who_waited_for_it_and_the_next_reads_again() -> None:
    now = [T0]
    reads = Reads()
    cache = GridCache(lambda: now[0], reads)
    cache.place("e")
    (await reads.begun(1))[0].set_result(GRID)
    now[0] = T0 + REFRESH_AT
    assert await cache.place("e").grid() == GRID  # given the last read; the next one starts
    (await reads.begun(2))[1].set_exception(OSError("disk"))
    now[0] = T0 + MAX_AGE + timedelta(microseconds=1)
    waiting = cache.place("e")
    with pytest.raises(OSError):
        await waiting.grid()
    again = cache.place("e")  # a read of its own
    (await reads.begun(3))[2].set_result(NEXT)
    assert await again.grid() == NEXT and cache.reads == 3
    cache.close()


@pytest.mark.parametrize(
    ("later", "events", "refresh"),
    [
        (timedelta(seconds=4), 0, False),  # past 3 s, but reads of this exam come every 10 s
        (timedelta(seconds=4), LIMIT // 2, False),  # however many events
        (timedelta(seconds=10), 0, True),  # twenty times the read's half second
    ],
)
async def test_a_large_exam_is_read_in_the_background_at_most_a_twentieth_of_the_time(
    later: timedelta, events: int, refresh: bool
) -> None:
    now, timer = [T0], [100.0]
    reads = Reads()
    cache = GridCache(lambda: now[0], reads, timer=lambda: timer[0])
    first = cache.place("e")
    timer[0] += 0.5  # the read takes half a second
    (await reads.begun(1))[0].set_result(GRID)
    assert await first.grid() == GRID
    for n in range(events):
        cache.record("e", event(n), b"x")
    now[0] = T0 + later
    given = cache.place("e")  # still the first read: fresh until the next is due and done
    assert await given.grid() == GRID and len(given.replay()) == events
    assert (cache.reads, cache.refreshes) == ((2, 1) if refresh else (1, 0))
    now[0] = T0 + timedelta(seconds=10.5, microseconds=1)  # past that: not given out any more
    assert cache.place("e").entry is not first.entry
    cache.close()
