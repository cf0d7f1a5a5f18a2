"""Each followed exam's grid as last read, with every event published since the read began:
a proctor who opens the exam gets that read and those events, in order, instead of a read of
their own.

A proctor's page is a snapshot plus the events after it (`model.apply` on the page). Any
snapshot read at T0 followed by every event published from T0 on gives the page the state of
now, so one read serves every proctor who opens the exam while it is fresh: twenty proctors
opening the console at the start of a sitting, or a proctor reloading, cost one store read and
the replay of the events since, not a read each.

The rules that keep it exact:

- the journal starts before the read is queued, so no event falls between the two;
- a proctor's position in the journal is taken in the same turn of the event loop as their
  subscription to the bus: the events before it are replayed from the journal, the events after
  it come through the subscription, none twice and none missed;
- while an entry is alive the bus builds and publishes the exam's events even when no proctor
  follows it (`EventBus.watched`), so the journal misses none;
- an entry serves new proctors for `MAX_AGE` (3 s) after its read began and while its journal
  holds at most `LIMIT` events; after that the next proctor starts a new read. What changes
  without an event (tickets added by the command line while the exam runs) therefore shows on
  a page opened 3 s later at most, and a replay is never long.

Round-trip samples (`Connection`) are not journalled: the snapshot's connection columns are
taken live, when it is sent. The risk in the snapshot is the read's; the page re-reads the
risk as soon as the snapshot is drawn (`/api/exam/ID`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from proctor_server.core.console import ExamGrid
from shared import proctor_protocol as pp

MAX_AGE = timedelta(seconds=3)  # a read serves proctors who open the exam this long after it,
# as long as the page waits before it re-reads the risk (dashboard.js DETAILS_MS): a page opened
# from the journal is never staler than one that stayed open
LIMIT = 256  # and while no more events than this are to be replayed

Read = Callable[[datetime], Awaitable[ExamGrid]]


@dataclass(slots=True)
class _Entry:
    until: datetime  # serves new proctors until then
    read: asyncio.Task[ExamGrid]
    frames: list[bytes] = field(default_factory=list)

    def fresh(self, now: datetime) -> bool:
        if self.read.done() and (self.read.cancelled() or self.read.exception() is not None):
            return False
        return now <= self.until and len(self.frames) <= LIMIT


@dataclass(frozen=True, slots=True)
class Place:
    """A proctor's place in an exam's journal: the read to draw from and how many of the
    journal's events (those published before the proctor subscribed) to replay after it."""

    entry: _Entry
    position: int

    async def grid(self) -> ExamGrid:
        return await asyncio.shield(self.entry.read)

    def replay(self) -> list[bytes]:
        return self.entry.frames[: self.position]


class GridCache:
    """The exams' journals. `place` is called right after `EventBus.subscribe`, with no
    `await` between the two; the bus hands every event to `record`."""

    def __init__(self, now: Callable[[], datetime], max_age: timedelta = MAX_AGE) -> None:
        self._now = now
        self._max_age = max_age  # zero: every proctor's snapshot is a read of its own
        self._entries: dict[str, _Entry] = {}
        self.reads = 0  # store reads started (the rest of the snapshots came from a journal)

    def place(self, exam_id: str, read: Read) -> Place:
        now = self._now()
        entry = self._entries.get(exam_id)
        if entry is None or not entry.fresh(now) or not self._max_age:
            self.reads += 1
            entry = _Entry(now + self._max_age, asyncio.ensure_future(read(now)))
            if self._max_age:  # else given to nobody else, so nothing to journal for it
                self._entries[exam_id] = entry
        return Place(entry, len(entry.frames))

    def recording(self, exam_id: str) -> bool:
        """Whether the exam's events are journalled now (so must be published)."""
        entry = self._entries.get(exam_id)
        if entry is None:
            return False
        if entry.fresh(self._now()):
            return True
        del self._entries[exam_id]  # nobody is given this entry any more
        return False

    def record(self, exam_id: str, event: pp.AttemptEvent, frame: bytes) -> None:
        entry = self._entries.get(exam_id)
        if entry is None or isinstance(event, pp.Connection):
            return
        entry.frames.append(frame)
        if len(entry.frames) > LIMIT:
            del self._entries[exam_id]  # the places given keep their own reference

    def close(self) -> None:
        for entry in self._entries.values():
            entry.read.cancel()
        self._entries.clear()
