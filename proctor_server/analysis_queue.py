"""One exam's analysis work, bounded and in order of need. Owned by the exam runtime, run by
a fixed number of consumer tasks in the runtime's task set.

- Identity photos go first: a candidate waits for the verdict before the paper opens, while a
  snapshot's analysis is only watched by proctors.
- The latest snapshot of an attempt wins: a newer one replaces the one still queued (in its
  place in the line), and one attempt's snapshots are analysed one at a time, in order.
- The queue is bounded: past `capacity` attempts waiting, the snapshot that waited longest is
  dropped. Memory holds at most `capacity` JPEGs, whatever the load.
- Frames sampled from the live video (`submit_live`, media/live_video.py) go through the same
  analysis, after the stored snapshots: at most one waits per attempt (a newer one replaces
  it and `live_dropped` counts it), and past `capacity` attempts the oldest is dropped. Their
  flags carry no snapshot (the frame is not stored; the evidence clip shows it).
- When an attempt finishes, its queued snapshot is dropped, the one being analysed is waited
  for, the analyzer is told (`SnapshotAnalyzer.finish`), every violation still open is ended
  at the finish time, and proctors get a `violation_ended` per violation ended. Its risk score
  then stops growing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from proctor_server.analysis import IdentityChecker, IdentityVerdict, SnapshotAnalyzer
from proctor_server.core.conduct import violation_ended
from proctor_server.core.records import ViolationRecord
from proctor_server.tasks import TaskSet
from shared import proctor_protocol as pp
from shared.timeutil import to_wire
from shared.vocabulary import ViolationKind

log = logging.getLogger(__name__)

WORKERS = 2  # consumers per exam: one analysis running while the next is handed over
CAPACITY = 500  # attempts with a snapshot waiting; latest-wins keeps one per attempt

Publish = Callable[[pp.AttemptEvent], None]


class ViolationLog(Protocol):
    """What the queue needs from the store."""

    async def violations(self, attempt_id: str) -> list[ViolationRecord]: ...

    async def end_violation(
        self, violation_id: int, ended_at: datetime, evidence: dict[str, Any] | None = None
    ) -> None: ...


class AnalysisClosed(RuntimeError):
    """The exam's analysis stopped (server shutdown) before this identity photo was checked."""


@dataclass(slots=True)
class _Snapshot:
    attempt_id: str
    candidate: str
    photo_id: str
    jpeg: bytes
    at: datetime
    live: bool = False  # a frame sampled from the live video, not a stored snapshot


@dataclass(slots=True)
class _IdentityCheck:
    attempt_id: str
    photo: bytes
    reference: bytes | None
    verdict: asyncio.Future[IdentityVerdict]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AnalysisQueue:
    def __init__(
        self,
        exam_id: str,
        analyzer: SnapshotAnalyzer,
        identity: IdentityChecker,
        store: ViolationLog,
        publish: Publish,
        *,
        capacity: int = CAPACITY,
        now: Callable[[], datetime] = _utcnow,
    ):
        self.exam_id = exam_id
        self.analyzer = analyzer
        self.identity = identity
        self.store = store
        self.publish = publish
        self.capacity = capacity
        self._now = now
        self._identity: deque[_IdentityCheck] = deque()
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()  # attempt -> latest
        self._live: OrderedDict[str, _Snapshot] = OrderedDict()  # attempt -> latest live frame
        self._busy: dict[str, asyncio.Future[None]] = {}  # attempts being analysed
        self._finished: set[str] = set()
        self._wake = asyncio.Event()
        self._closed = False
        # Snapshots not analysed: replaced by a newer one, pushed out, or of a finished attempt.
        self.replaced = 0
        self.overflowed = 0
        self.dropped_finished = 0
        self.live_dropped = 0  # live frames replaced by a newer one or pushed out

    @property
    def waiting(self) -> int:
        return len(self._identity) + len(self._snapshots) + len(self._live)

    def start(self, tasks: TaskSet, workers: int = WORKERS) -> None:
        for n in range(workers):
            tasks.spawn(self._consume(), f"analysis-{self.exam_id}-{n}")

    # ------------------------------------------------------------ producers

    def submit_snapshot(
        self, attempt_id: str, candidate: str, photo_id: str, jpeg: bytes, at: datetime
    ) -> None:
        """Queue a stored snapshot for analysis; returns at once."""
        if self._closed or attempt_id in self._finished:
            self.dropped_finished += 1
            return
        job = _Snapshot(attempt_id, candidate, photo_id, jpeg, at)
        if attempt_id in self._snapshots:
            self.replaced += 1
        elif len(self._snapshots) >= self.capacity:
            stale, _ = self._snapshots.popitem(last=False)
            self.overflowed += 1
            log.warning("exam %s: analysis behind; a snapshot of %s skipped", self.exam_id, stale)
        self._snapshots[attempt_id] = job  # a replacement keeps its place in the line
        self._wake.set()

    def submit_live(
        self, attempt_id: str, candidate: str, frame_id: str, jpeg: bytes, at: datetime
    ) -> None:
        """Queue a frame of the live video; at most one waits per attempt (back-pressure)."""
        if self._closed or attempt_id in self._finished:
            self.dropped_finished += 1
            return
        if attempt_id in self._live:
            self.live_dropped += 1
        elif len(self._live) >= self.capacity:
            self._live.popitem(last=False)
            self.live_dropped += 1
        self._live[attempt_id] = _Snapshot(attempt_id, candidate, frame_id, jpeg, at, live=True)
        self._wake.set()

    def check_identity(
        self, attempt_id: str, photo: bytes, reference: bytes | None
    ) -> asyncio.Future[IdentityVerdict]:
        """Queue an identity photo ahead of every snapshot; await the result for the verdict."""
        verdict: asyncio.Future[IdentityVerdict] = asyncio.get_running_loop().create_future()
        if self._closed:
            verdict.set_exception(AnalysisClosed("analysis stopped"))
            return verdict
        self._identity.append(_IdentityCheck(attempt_id, photo, reference, verdict))
        self._wake.set()
        return verdict

    # ------------------------------------------------------------ consumers

    def _take(self) -> _IdentityCheck | _Snapshot | None:
        if self._identity:
            return self._identity.popleft()
        for line in (self._snapshots, self._live):  # stored snapshots before live frames
            for attempt_id in line:
                if attempt_id not in self._busy:  # one analysis per attempt at a time
                    job = line.pop(attempt_id)
                    self._busy[attempt_id] = asyncio.get_running_loop().create_future()
                    return job
        return None

    async def _consume(self) -> None:
        while True:
            job = self._take()
            if job is None:
                self._wake.clear()
                await self._wake.wait()
            elif isinstance(job, _IdentityCheck):
                await self._check(job)
            else:
                try:
                    await self._analyze(job)
                finally:
                    done = self._busy.pop(job.attempt_id)
                    done.set_result(None)
                    self._wake.set()  # a newer snapshot of this attempt may be waiting

    async def _check(self, job: _IdentityCheck) -> None:
        if job.verdict.done():  # the candidate went away meanwhile
            return
        try:
            verdict = await self.identity.check(job.attempt_id, job.photo, job.reference)
        except asyncio.CancelledError:  # the exam's analysis is stopping
            if not job.verdict.done():
                job.verdict.set_exception(AnalysisClosed("analysis stopped"))
            raise
        except Exception as exc:
            if not job.verdict.done():
                job.verdict.set_exception(exc)
            return
        if not job.verdict.done():
            job.verdict.set_result(verdict)

    async def _analyze(self, job: _Snapshot) -> None:
        if job.attempt_id in self._finished:
            self.dropped_finished += 1
            return
        try:
            drafts = await self.analyzer.analyze(job.attempt_id, job.photo_id, job.jpeg, job.at)
        except Exception:
            log.exception("analysis of snapshot %s of %s failed", job.photo_id, job.attempt_id)
            return
        for draft in drafts:
            self.publish(
                pp.Flag(
                    exam=self.exam_id,
                    at=to_wire(self._now()),
                    attempt=job.attempt_id,
                    candidate=job.candidate,
                    kind=ViolationKind(draft.kind),
                    confidence=draft.confidence,
                    snapshot=None if job.live else job.photo_id,
                )
            )

    # ------------------------------------------------------------ lifecycle

    def finish(self, attempt_id: str, candidate: str, at: datetime) -> Coroutine[Any, Any, None]:
        """The attempt finished at `at`. At once: its queued snapshot is dropped and later
        ones are refused. Then, in the coroutine returned: the running analysis ends, the
        analyzer is told, the open violations end at `at` and the proctors are told."""
        self._finished.add(attempt_id)
        for line in (self._snapshots, self._live):
            if line.pop(attempt_id, None) is not None:
                self.dropped_finished += 1
        return self._end(attempt_id, candidate, at)

    async def _end(self, attempt_id: str, candidate: str, at: datetime) -> None:
        running = self._busy.get(attempt_id)
        if running is not None:
            await asyncio.shield(running)
        open_before = {v.id for v in await self.store.violations(attempt_id) if v.ended_at is None}
        await self.analyzer.finish(attempt_id, at)  # ends its own at their last frame
        if not open_before:
            return
        for v in await self.store.violations(attempt_id):
            if v.id not in open_before:
                continue
            ended = v.ended_at
            if ended is None:  # raised by the client or a device signal: ends with the attempt
                ended = max(at, v.server_at)
                await self.store.end_violation(v.id, ended)
            self.publish(violation_ended(self.exam_id, to_wire(self._now()), candidate, v, ended))

    def close(self) -> None:
        """Stop taking work (the consumers are cancelled with the runtime's task set)."""
        self._closed = True
        while self._identity:
            job = self._identity.popleft()
            if not job.verdict.done():
                job.verdict.set_exception(AnalysisClosed("analysis stopped"))
        self._snapshots.clear()
        self._live.clear()
