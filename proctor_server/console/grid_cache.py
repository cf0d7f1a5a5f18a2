"""Each followed exam's grid as last read, with every event published since the read began:
a proctor who opens the exam gets that read and those events, in order, instead of a read of
their own; and while the exam is warm, the next read is made in the background before the
last one ages out, so that no proctor waits for the store.

A proctor's page is a snapshot plus the events after it (`model.apply` on the page). Any
snapshot read at T0 followed by every event published from T0 on gives the page the state of
now, so one read serves every proctor who opens the exam while it is fresh: twenty proctors
opening the console at the start of a sitting, or a proctor reloading, cost one store read and
the replay of the events since, not a read each.

The rules that keep it exact:

- an entry's journal starts in the same turn as its read is started (before the read is
  queued), so no event falls between the two;
- a proctor's position in the journal is taken in the same turn of the event loop as their
  subscription to the bus: the events before it are replayed from the journal, the events after
  it come through the subscription, none twice and none missed;
- while an exam has entries the bus builds and publishes its events even when no proctor
  follows it (`EventBus.watched`), and every event goes to each of its entries' journals (the
  one given out and the one being read), so none misses one;
- an entry is given to new proctors only within `MAX_AGE` (3 s) of its read's start (longer
  for a large exam, below) and while its journal holds at most `LIMIT` events; past that a
  proctor gets the entry being read in the background if there is one, else starts a read.
  What changes without an event (tickets added by the command line while the exam runs)
  therefore shows on a page opened 3 s later at most, warm or not, and a replay is never long.

Warm exams. An exam is warm from the first time a proctor opens it, while a proctor follows
it and for `WARM_FOR` after the last one left (a reload, a proctor back from a break, the next
shift). While it is warm its next read starts in the background `REFRESH_AT` (2 s) after the
last one began, or once the journal holds `LIMIT // 2` events, never two at once and not within
`MIN_GAP` of the last: proctors are given the previous entry until the new read is done (it
becomes the one given out in the turn it completes), so the only proctor who waits for a read
is the first to open the exam on this process (or after it cooled), or one arriving when the
background read is more than a second late. Cost while warm: one grid read every 2 s on the
store's thread, and the exam's events built even when nobody follows it.

Large exams. A read's cost grows with the exam's tickets (about 25 ms for 1,000 here), and the
store's thread also stores every answer. Background reads therefore never take more than a
`DUTY`-th of its time: the next starts no sooner than `DUTY` times the last read's duration
after it (a 10,000-ticket exam read in 250 ms: every 5 s), and an entry stays fresh for that
interval plus one read, so what changes without an event may show that much later on such an
exam (5.25 s) instead of 3 s.

Round-trip samples (`Connection`) are not journalled: the snapshot's connection columns are
taken live, when it is sent. The risk in the snapshot is the read's; the page re-reads the
risk as soon as the snapshot is drawn (`/api/exam/ID`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from proctor_server.core.console import ExamGrid
from shared import proctor_protocol as pp

log = logging.getLogger(__name__)

MAX_AGE = timedelta(seconds=3)  # a read serves proctors who open the exam this long after it,
# as long as the page waits before it re-reads the risk (dashboard.js DETAILS_MS): a page opened
# from the journal is never staler than one that stayed open
LIMIT = 256  # and while no more events than this are to be replayed
REFRESH_AT = timedelta(seconds=2)  # a warm exam's next read starts this long after the last
MIN_GAP = timedelta(seconds=1)  # and not sooner than this after it, however many events
WARM_FOR = timedelta(minutes=10)  # an exam stays warm this long after its last proctor left
DUTY = 20  # background reads take at most a twentieth of the store thread's time

Read = Callable[[str, datetime], Awaitable[ExamGrid]]  # (exam, now) -> its grid


@dataclass(slots=True)
class _Entry:
    began: datetime  # when its read started: its journal holds every event since
    read: asyncio.Task[ExamGrid]
    frames: list[bytes] = field(default_factory=list)
    took: timedelta = timedelta(0)  # how long its read took (real time), once done

    def failed(self) -> bool:
        return self.read.done() and (self.read.cancelled() or self.read.exception() is not None)

    def usable(self) -> bool:
        """Not failed, and a replay of its journal is not too long."""
        return len(self.frames) <= LIMIT and not self.failed()

    def fresh(self, now: datetime, max_age: timedelta) -> bool:
        return now <= self.began + max_age and self.usable()


@dataclass(slots=True)
class _Exam:
    current: _Entry  # given to new proctors while fresh
    touched: datetime  # the last time a proctor opened the exam or was seen following it
    next: _Entry | None = None  # the read under way in the background, and its journal
    tried: datetime | None = None  # when the last background read started (failed or not)
    warmer: asyncio.Task[None] | None = None

    def entries(self) -> list[_Entry]:
        return [self.current] if self.next is None else [self.current, self.next]

    def gap(self) -> timedelta:
        """The least time between two background reads' starts: `MIN_GAP`, or longer when a
        read takes long enough that more often would pass the `DUTY` share."""
        return max(MIN_GAP, self.current.took * DUTY)

    def fresh_for(self, max_age: timedelta) -> timedelta:
        """How long after its start a read is given out: `max_age`, or, when the exam's
        reads may not come that often, until the next is due and done."""
        return max(max_age, self.gap() + self.current.took)


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


def _nobody(exam_id: str) -> bool:
    return False


class GridCache:
    """The exams' journals. `place` is called right after `EventBus.subscribe`, with no
    `await` between the two; the bus hands every event to `record`. `followed` tells whether a
    proctor follows an exam now (`EventBus.followed`, set once the bus exists)."""

    def __init__(
        self,
        now: Callable[[], datetime],
        read: Read,
        max_age: timedelta = MAX_AGE,
        warm_for: timedelta = WARM_FOR,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._now = now
        self._timer = timer  # how long reads take (the store's real time, whatever `now` says)
        self.read = read  # a test may slow it down
        self._max_age = max_age  # zero: every proctor's snapshot is a read of its own
        self._warm_for = warm_for if max_age else timedelta(0)  # zero: no read in the background
        self._exams: dict[str, _Exam] = {}
        self.followed: Callable[[str], bool] = _nobody
        self.reads = 0  # store reads started (the rest of the snapshots came from a journal)
        self.refreshes = 0  # of which started in the background, before any proctor asked

    def place(self, exam_id: str) -> Place:
        now = self._now()
        if not self._max_age:  # given to nobody else, so nothing to journal for it
            self.reads += 1
            return Place(_Entry(now, asyncio.ensure_future(self.read(exam_id, now))), 0)
        exam = self._exams.get(exam_id)
        if exam is None:
            exam = self._exams[exam_id] = _Exam(self._start(exam_id, now), now)
            entry = exam.current
        else:
            exam.touched = now
            if exam.current.fresh(now, exam.fresh_for(self._max_age)):
                entry = exam.current
                self._refresh_if_due(exam_id, exam, now)
            elif exam.next is not None and exam.next.usable():
                entry = exam.next  # being read: this proctor waits for the rest of it
            else:
                entry = exam.current = self._start(exam_id, now)
                exam.next = None
        if self._warm_for and exam.warmer is None:  # warm from now on
            exam.warmer = asyncio.create_task(
                self._keep_warm(exam_id, exam), name=f"grid-warm-{exam_id}"
            )
        return Place(entry, len(entry.frames))

    def recording(self, exam_id: str) -> bool:
        """Whether the exam's events are journalled now (so must be published)."""
        exam = self._exams.get(exam_id)
        if exam is None:
            return False
        if exam.warmer is not None or exam.current.fresh(
            self._now(), exam.fresh_for(self._max_age)
        ):
            return True
        del self._exams[exam_id]  # not warm, and nobody is given this entry any more
        return False

    def record(self, exam_id: str, event: pp.AttemptEvent, frame: bytes) -> None:
        exam = self._exams.get(exam_id)
        if exam is None or isinstance(event, pp.Connection):
            return
        for entry in exam.entries():
            if len(entry.frames) <= LIMIT:  # past it, given to nobody new: no need to keep
                entry.frames.append(frame)
        if exam.warmer is None:
            if len(exam.current.frames) > LIMIT:
                del self._exams[exam_id]  # the places given keep their own reference
        elif len(exam.current.frames) >= LIMIT // 2:
            self._refresh_if_due(exam_id, exam, self._now())

    def close(self) -> None:
        for exam in self._exams.values():
            for entry in exam.entries():
                entry.read.cancel()
            if exam.warmer is not None:
                exam.warmer.cancel()
        self._exams.clear()

    # ------------------------------------------------------------ reads

    def _start(self, exam_id: str, now: datetime) -> _Entry:
        """A read of the exam's grid, and its journal, from now."""
        self.reads += 1
        started = self._timer()
        entry = _Entry(now, asyncio.ensure_future(self.read(exam_id, now)))

        def timed(_: object) -> None:
            entry.took = timedelta(seconds=self._timer() - started)

        entry.read.add_done_callback(timed)
        return entry

    def _refresh_if_due(self, exam_id: str, exam: _Exam, now: datetime) -> None:
        """Start the warm exam's next read in the background, if it is time and none is
        under way; it becomes the entry given out in the turn it completes."""
        if exam.warmer is None or exam.next is not None:
            return
        age, gap = now - exam.current.began, exam.gap()
        due = age >= max(REFRESH_AT, gap) or len(exam.current.frames) >= LIMIT // 2
        if not due or age < gap or (exam.tried is not None and now - exam.tried < gap):
            return  # (a store that fails is not asked again at once)
        self.refreshes += 1
        exam.tried = now
        entry = exam.next = self._start(exam_id, now)
        entry.read.add_done_callback(lambda _: self._read_done(exam_id, exam, entry))

    def _read_done(self, exam_id: str, exam: _Exam, entry: _Entry) -> None:
        if exam.next is not entry:
            return  # replaced by a proctor's own read meanwhile, or the exam cooled
        exam.next = None
        if entry.failed():
            if not entry.read.cancelled():
                log.warning("exam %s: the grid's read failed: %s", exam_id, entry.read.exception())
            return
        exam.current = entry

    async def _keep_warm(self, exam_id: str, exam: _Exam) -> None:
        """Start each next read on time while the exam is warm; then let it cool. Sleeps in
        real seconds (the server's load is real time), ages on the exam's clock."""
        while True:
            now = self._now()
            if self.followed(exam_id):
                exam.touched = now
            elif now - exam.touched > self._warm_for:
                break
            self._refresh_if_due(exam_id, exam, now)
            due = exam.current.began + max(REFRESH_AT, exam.gap()) - now
            await asyncio.sleep(min(max(due.total_seconds(), 0.1), REFRESH_AT.total_seconds()))
        exam.warmer = None  # journalled no more than the current entry's freshness
        if exam.next is not None:
            exam.next.read.cancel()
            exam.next = None
