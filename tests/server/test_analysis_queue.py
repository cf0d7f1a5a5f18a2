"""The analysis queue of one exam: identity photos before snapshots, the latest snapshot of an
attempt wins, one analysis per attempt at a time, a bounded line, and the end of an attempt
(its open violations end with it, so its risk stops growing). A slow analyzer stands in for
the face stack; the store is a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proctor_server.analysis import IdentityVerdict, ViolationDraft
from proctor_server.analysis_queue import AnalysisClosed, AnalysisQueue
from proctor_server.store import AttemptRecord, ExamRecord, SqliteStore, TicketRecord
from proctor_server.tasks import TaskSet
from proctor_server.vision.risk import risk_score
from shared import proctor_protocol as pp
from shared.shuffle import PaperOrder
from shared.states import AttemptState
from shared.timeutil import to_wire
from shared.vocabulary import Mode, Source, ViolationKind

T0 = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)
JPEG = b"\xff\xd8 not decoded by the fakes"


class SlowAnalyzer:
    """Records the order it is given snapshots in; holds each until `gate` opens."""

    def __init__(self, order: list[str]) -> None:
        self.order = order
        self.gate = asyncio.Event()
        self.raises: dict[str, list[ViolationDraft]] = {}
        self.finished: list[tuple[str, datetime]] = []
        self._seen = asyncio.Condition()

    async def analyze(
        self, attempt_id: str, snapshot_id: str, jpeg: bytes, at: datetime
    ) -> list[ViolationDraft]:
        async with self._seen:
            self.order.append(snapshot_id)
            self._seen.notify_all()
        await self.gate.wait()
        self.order.append(f"{snapshot_id} done")
        return self.raises.get(snapshot_id, [])

    async def started(self, count: int) -> None:
        """Until `count` snapshots reached the analyzer."""
        async with self._seen:
            await self._seen.wait_for(
                lambda: sum("#" in s and " " not in s for s in self.order) >= count
            )

    async def finish(self, attempt_id: str, at: datetime) -> None:
        self.order.append(f"finish {attempt_id}")
        self.finished.append((attempt_id, at))

    async def close(self) -> None:
        return None


class RecordingIdentity:
    def __init__(self, order: list[str]) -> None:
        self.order = order

    async def check(
        self, attempt_id: str, photo: bytes, reference: bytes | None
    ) -> IdentityVerdict:
        self.order.append(f"id:{attempt_id}")
        return IdentityVerdict(True)


@dataclass
class Line:
    queue: AnalysisQueue
    analyzer: SlowAnalyzer
    store: SqliteStore
    tasks: TaskSet
    order: list[str] = field(default_factory=list)
    events: list[pp.AttemptEvent] = field(default_factory=list)

    @property
    def analysed(self) -> list[str]:
        """The snapshots and identity photos in the order they reached analysis."""
        return [s for s in self.order if " " not in s]

    def snap(self, attempt: str, n: int) -> None:
        self.queue.submit_snapshot(attempt, f"C-{attempt}", f"{attempt}#{n}", JPEG, T0)

    async def attempt(self, name: str) -> str:
        await self.store.create_ticket(TicketRecord(f"t-{name}", "exam1", f"C-{name}", name))
        await self.store.create_attempt(
            AttemptRecord(
                id=name,
                exam_id="exam1",
                ticket=f"t-{name}",
                mode=Mode.EXAM,
                state=AttemptState.IN_PROGRESS,
                seed="s",
                order=PaperOrder(questions=[], options=[]),
                created_at=T0,
                ends_at=T0 + timedelta(hours=2),
            )
        )
        return name


async def make_line(tmp_path: Path, workers: int, capacity: int = 100) -> AsyncIterator[Line]:
    store = SqliteStore(tmp_path / "exam.db")
    await store.open()
    await store.create_exam(
        ExamRecord("exam1", "Cloud", T0, timedelta(hours=2), [], [], 0, created_at=T0)
    )
    order: list[str] = []
    analyzer = SlowAnalyzer(order)
    events: list[pp.AttemptEvent] = []
    queue = AnalysisQueue(
        "exam1",
        analyzer,
        RecordingIdentity(order),
        store,
        events.append,
        capacity=capacity,
        now=lambda: T0 + timedelta(hours=1),
    )
    tasks = TaskSet("test")
    queue.start(tasks, workers)
    try:
        yield Line(queue, analyzer, store, tasks, order, events)
    finally:
        analyzer.gate.set()
        await tasks.close()
        queue.close()
        await store.close()


@pytest.fixture
async def line(tmp_path: Path) -> AsyncIterator[Line]:
    async for made in make_line(tmp_path, workers=1):
        yield made


@pytest.fixture
async def two_workers(tmp_path: Path) -> AsyncIterator[Line]:
    async for made in make_line(tmp_path, workers=2):
        yield made


async def test_an_identity_photo_is_checked_before_the_snapshots_queued_ahead_of_it(
    line: Line,
) -> None:
    line.snap("a", 1)
    await line.analyzer.started(1)  # the only consumer is busy with a slow snapshot
    line.snap("b", 1)
    line.snap("c", 1)
    verdict = line.queue.check_identity("d", JPEG, None)  # queued after b and c
    line.analyzer.gate.set()
    assert (await verdict).accepted
    await line.analyzer.started(3)
    assert line.analysed == ["a#1", "id:d", "b#1", "c#1"]


async def test_the_latest_snapshot_of_an_attempt_replaces_the_one_waiting(line: Line) -> None:
    line.snap("a", 1)
    await line.analyzer.started(1)
    line.snap("b", 1)
    line.snap("a", 2)
    line.snap("c", 1)
    line.snap("a", 3)
    line.snap("a", 4)
    line.snap("b", 2)
    line.analyzer.gate.set()
    await line.analyzer.started(4)
    # each newer one took the place of the one it replaced: b, a, c
    assert line.analysed == ["a#1", "b#2", "a#4", "c#1"]
    assert line.queue.replaced == 3 and line.queue.waiting == 0


async def test_one_attempt_is_analysed_one_snapshot_at_a_time(two_workers: Line) -> None:
    line = two_workers
    line.snap("a", 1)
    await line.analyzer.started(1)
    line.snap("a", 2)  # the free consumer must not take it while a#1 runs
    line.snap("b", 1)
    await line.analyzer.started(2)
    assert line.analysed == ["a#1", "b#1"] and line.queue.waiting == 1
    line.analyzer.gate.set()
    await line.analyzer.started(3)
    assert line.analysed[2] == "a#2"


async def test_the_line_is_bounded_and_drops_the_snapshot_that_waited_longest(
    tmp_path: Path,
) -> None:
    async for line in make_line(tmp_path, workers=1, capacity=2):
        line.snap("a", 1)
        await line.analyzer.started(1)
        for attempt in ("b", "c", "d"):
            line.snap(attempt, 1)
        assert line.queue.waiting == 2 and line.queue.overflowed == 1
        line.analyzer.gate.set()
        await line.analyzer.started(3)
        assert line.analysed == ["a#1", "c#1", "d#1"]


async def test_a_flag_names_the_exam_attempt_and_candidate(line: Line) -> None:
    line.analyzer.raises["a#1"] = [ViolationDraft("multiple_faces", 0.9, T0)]
    line.analyzer.gate.set()
    line.snap("a", 1)
    line.snap("b", 1)
    await line.analyzer.started(2)
    await line.queue.finish("b", "C-b", T0)  # waits for b#1, so a#1 was published before
    (flag,) = line.events
    assert flag == pp.Flag(
        exam="exam1",
        at=to_wire(T0 + timedelta(hours=1)),
        attempt="a",
        candidate="C-a",
        kind=ViolationKind.MULTIPLE_FACES,
        confidence=0.9,
        snapshot="a#1",
    )


async def test_a_finished_attempt_drops_its_queued_snapshot_and_waits_for_the_running_one(
    line: Line,
) -> None:
    attempt = await line.attempt("a")
    line.snap(attempt, 1)
    await line.analyzer.started(1)
    line.snap(attempt, 2)
    ending = line.queue.finish(attempt, "C-a", T0 + timedelta(minutes=50))
    assert line.queue.dropped_finished == 1 and line.queue.waiting == 0  # a#2, at once
    finishing = asyncio.create_task(ending)  # runs before a#1 resumes ...
    line.analyzer.gate.set()
    await finishing
    # ... yet the analyzer is told only once a#1 is done
    assert line.order == ["a#1", "a#1 done", "finish a"]
    assert line.analyzer.finished == [(attempt, T0 + timedelta(minutes=50))]
    line.snap(attempt, 3)  # a late one: never analysed
    line.snap("b", 1)
    await line.analyzer.started(2)
    assert line.analysed == ["a#1", "b#1"]
    assert line.queue.dropped_finished == 2


async def test_a_finished_attempt_s_violations_end_and_its_risk_stops_growing(
    line: Line,
) -> None:
    attempt = await line.attempt("a")
    store = line.store
    left = await store.add_violation(attempt, ViolationKind.LEFT_EXAM_WINDOW, Source.CLIENT, T0)
    seen = await store.add_violation(
        attempt, ViolationKind.FACE_ABSENT, Source.SERVER, T0 + timedelta(minutes=5)
    )
    await store.end_violation(seen, T0 + timedelta(minutes=6))
    finished_at = T0 + timedelta(minutes=30)
    at_finish = risk_score(await store.violations(attempt), finished_at)

    await line.queue.finish(attempt, "C-a", finished_at)

    violations = await store.violations(attempt)
    assert [v.ended_at for v in violations] == [finished_at, T0 + timedelta(minutes=6)]
    for later in (finished_at, finished_at + timedelta(hours=3), finished_at + timedelta(days=2)):
        assert risk_score(violations, later) == at_finish
    assert line.events == [
        pp.ViolationEnded(
            exam="exam1",
            at=to_wire(T0 + timedelta(hours=1)),
            attempt=attempt,
            candidate="C-a",
            violation=left,
            kind=ViolationKind.LEFT_EXAM_WINDOW,
            source=Source.CLIENT,
            started_at=to_wire(T0),
            ended_at=to_wire(finished_at),
            duration_s=1800.0,
        )
    ]
    await line.queue.finish(attempt, "C-a", finished_at)  # a second time: nothing more
    assert len(line.events) == 1


async def test_identity_checks_fail_rather_than_hang_once_analysis_stops(line: Line) -> None:
    line.snap("a", 1)
    await line.analyzer.started(1)
    waiting = line.queue.check_identity("b", JPEG, None)
    line.queue.close()
    with pytest.raises(AnalysisClosed):
        await waiting
    with pytest.raises(AnalysisClosed):
        await line.queue.check_identity("c", JPEG, None)
