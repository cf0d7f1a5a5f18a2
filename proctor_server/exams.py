"""One live exam on this server: its timers (paper release, deadlines, watermark rotation),
its connected candidates, and finalizing attempts. Rebuilt from the store after a restart.

A runtime takes what it uses (the store, the clock, a publish function, the snapshot
analyzer), not the server; `ExamRegistry` holds the runtimes of one process."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Container, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from proctor_server.analysis import IdentityChecker, SnapshotAnalyzer
from proctor_server.analysis_queue import AnalysisQueue
from proctor_server.bus import EventBus
from proctor_server.clock import Clock
from proctor_server.cluster import signals as cs
from proctor_server.cluster.base import LOCAL, Cluster
from proctor_server.console.quality import SAMPLE_EVERY, Quality
from proctor_server.core.console import limit_reached
from proctor_server.core.quota import AttemptQuota, Limits
from proctor_server.core.records import AttemptRecord, ExamRecord
from proctor_server.core.session import pass_score_for, questions_for, warning_limit_for
from proctor_server.media.gateway import (
    MOVED,
    NO_MEDIA,
    MediaGateway,
    end_stream,
    finish_media,
)
from proctor_server.pacing import Pacer
from proctor_server.store import Store
from proctor_server.tasks import TaskSet
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import InvalidTransition
from shared.questions import Question
from shared.rules import WRITE_GRACE
from shared.states import Effect, Trigger
from shared.timeutil import to_wire
from shared.vocabulary import FinishReason, Mode

log = logging.getLogger(__name__)


# How often each exam runtime looks for its tickets revoked by a staff command (run in another
# process: the store is the only thing both share), so a revoked candidate is closed within
# this long even when idle. One indexed read per exam with candidates connected.
REVOCATION_SWEEP_S = 2.0
ROTATION_SLICE = 128  # candidates whose new watermark nonce is written at once in a rotation


class LiveSession(Protocol):
    """A candidate's live connection to one attempt, as the runtime drives it."""

    @property
    def attempt_id(self) -> str: ...
    @property
    def mode(self) -> Mode: ...
    @property
    def peer(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def ticket_key(self) -> str:
        """The key of the ticket it entered with (what the store keeps of it)."""
        ...

    async def release_paper(self) -> None: ...
    async def rotate_nonce(self) -> None: ...
    async def on_finished(
        self, attempt: AttemptRecord, reason: FinishReason, note: str
    ) -> None: ...
    async def replaced(self) -> None: ...
    async def revoked(self) -> None:
        """Its ticket was revoked: tell the candidate (`bad_ticket`) and close (4401)."""
        ...

    async def notify(self, message: p.ProctorWarning | p.Notice) -> None:
        """Send the candidate a warning or a proctor's notice."""
        ...

    async def deadline_moved(self, attempt: AttemptRecord) -> None:
        """The attempt's own deadline moved: hold the new record, tell the candidate."""
        ...

    async def identity_accepted(self, attempt: AttemptRecord) -> None:
        """A proctor accepted the identity photo: tell the candidate, release the paper."""
        ...


@dataclass(frozen=True, slots=True)
class RuntimeDeps:
    store: Store
    clock: Clock
    bus: EventBus
    analyzer: SnapshotAnalyzer
    identity: IdentityChecker
    nonce_rotation_s: float
    media: MediaGateway = NO_MEDIA  # its live streams close when an attempt finishes
    revocation_sweep_s: float = REVOCATION_SWEEP_S
    # told of every event published (the evidence clips start at violations); quick, no I/O
    observers: tuple[Callable[[pp.AttemptEvent], None], ...] = ()
    # the other server processes on the same database (none with SQLite)
    cluster: Cluster = LOCAL


class _Online:
    """The attempts connected to this process or to another of the cluster."""

    __slots__ = ("cluster", "sessions")

    def __init__(self, sessions: dict[str, LiveSession], cluster: Cluster) -> None:
        self.sessions, self.cluster = sessions, cluster

    def __contains__(self, attempt: object) -> bool:
        return attempt in self.sessions or (
            isinstance(attempt, str) and self.cluster.present_elsewhere(attempt)
        )


class ExamRuntime:
    def __init__(self, deps: RuntimeDeps, exam: ExamRecord):
        self.deps = deps
        self.exam = exam
        self.sessions: dict[str, LiveSession] = {}
        self._replaced: set[LiveSession] = set()  # closing: a newer connection took over
        self._tasks = TaskSet(f"exam {exam.id}")
        self._deadlines: set[str] = set()  # attempts with a deadline of their own scheduled
        self._quotas: dict[str, AttemptQuota] = {}  # per attempt, across reconnects
        self._limits = Limits.for_exam(exam.snapshot_interval_s)
        self._closed = False
        self.pacer = Pacer()  # papers built a few per event-loop turn at the release
        self.quality = Quality()  # round trips, reconnects, media status (the grid's)
        self.analysis = AnalysisQueue(
            exam.id,
            deps.analyzer,
            deps.identity,
            deps.store,
            self.publish,
            now=deps.clock.now,
        )

    # ------------------------------------------------------------ rules of this exam

    def questions_for(self, attempt: AttemptRecord) -> list[Question]:
        return questions_for(self.exam, attempt.mode)

    def pass_score_for(self, attempt: AttemptRecord) -> int:
        return pass_score_for(self.exam, attempt.mode)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Schedule the paper release, the deadline, the watermark rotation, and the
        deadlines of unfinished attempts that have their own (after a restart, from the store)."""
        self.analysis.start(self._tasks)
        self._tasks.spawn(self._release_at_start(), f"release-{self.exam.id}")
        self._tasks.spawn(self._rotate_nonces(), f"nonces-{self.exam.id}")
        self._tasks.spawn(self._sweep_revoked(), f"revocations-{self.exam.id}")
        self._tasks.spawn(self._follow_round_trips(), f"round-trips-{self.exam.id}")
        if self.deps.cluster.alone:
            await self._take_timers()
        else:  # the process that leads the exam's timers has them; another takes over at its end
            self._tasks.spawn(self._lead_timers(), f"lead-{self.exam.id}")

    async def _take_timers(self) -> None:
        """The exam's deadline, and the deadlines of its attempts that have their own."""
        self._tasks.spawn(self._finalize_exam(), f"deadline-{self.exam.id}")
        for attempt in await self.deps.store.unfinished_attempts(self.exam.id):
            self.schedule_deadline(attempt)

    async def _lead_timers(self) -> None:
        """Wait to lead this exam's timers among the processes, then hold them until closed.
        The other processes still time the attempts connected to them; a deadline counts
        once whoever reaches it first (the store's transition decides)."""
        async with self.deps.cluster.leading(f"exam-timers:{self.exam.id}"):
            await self._take_timers()
            await asyncio.Event().wait()  # held until the runtime closes (cancelled)

    def schedule_deadline(self, attempt: AttemptRecord) -> None:
        """A trial's deadline, or an exam attempt's own later one (extra time), is its own
        timer; the exam's common deadline covers every other attempt."""
        if attempt.mode is Mode.EXAM and attempt.ends_at <= self.exam.window.ends_at:
            return
        if attempt.id in self._deadlines:
            return
        self._deadlines.add(attempt.id)
        self._tasks.spawn(self._finalize_own(attempt), f"attempt-deadline-{attempt.id}")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._tasks.close()
        self.analysis.close()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` in the background, cancelled when the exam's runtime closes."""
        self._tasks.spawn(work, name)

    # ------------------------------------------------------------ sessions

    def attach(self, session: LiveSession) -> LiveSession | None:
        """Register a live connection for an attempt; return the one it replaces, which is
        being closed (a connection to another process is told to close by the cluster)."""
        old = self.sessions.get(session.attempt_id)
        self.sessions[session.attempt_id] = session
        self._tell(cs.Entered, session.attempt_id)
        if old is None or old is session:
            return None
        self._close_replaced(old)
        return old

    def _close_replaced(self, session: LiveSession) -> None:
        """Close a connection a newer one replaced, without waiting for it: the closing
        handshake of a connection that no longer answers (a candidate whose network changed)
        takes the library's close timeout, 10 s, and the newer connection's entry must not."""
        self._replaced.add(session)
        self._tasks.spawn(session.replaced(), f"replaced-{session.attempt_id}")

    def was_replaced(self, session: LiveSession) -> bool:
        """Whether `session` was closed because a newer connection, here or on another process,
        took its attempt over (that one told the proctors it joined); forgets it."""
        if session in self._replaced:
            self._replaced.discard(session)
            return True
        return False

    def _tell(self, kind: type[cs.AttemptSignal], attempt: str, **fields: Any) -> None:
        """Tell the other processes of this attempt (the cluster signs it as this process's)."""
        if not self.deps.cluster.alone:
            self.deps.cluster.tell(kind(origin="", exam=self.exam.id, attempt=attempt, **fields))

    def detach(self, session: LiveSession) -> None:
        """The connection ended (or one on another process took the attempt over): the
        other processes hear that it is no longer here (`cluster.present_elsewhere`)."""
        if self.sessions.get(session.attempt_id) is session:
            del self.sessions[session.attempt_id]
            self._tell(cs.Gone, session.attempt_id)

    def connected_elsewhere(self, attempt: str) -> bool:
        """Whether the attempt's candidate is connected to another process, not this one."""
        return attempt not in self.sessions and self.deps.cluster.present_elsewhere(attempt)

    def online(self) -> Container[str]:
        """The attempts whose candidate is connected, here or to another process of the
        cluster (`cluster.present_elsewhere`), for `in`."""
        return (
            self.sessions if self.deps.cluster.alone else _Online(self.sessions, self.deps.cluster)
        )

    def new_quota(self, attempt_id: str) -> None:
        """The quota of an attempt this entry created: nothing stored yet, nothing to count."""
        self._quotas.setdefault(attempt_id, AttemptQuota(self._limits, 0))

    async def quota(self, attempt_id: str) -> AttemptQuota:
        """The attempt's write quota, its stored evidence counted from the store once."""
        quota = self._quotas.get(attempt_id)
        if quota is None:
            stored = sum(photo.size for photo in await self.deps.store.photos(attempt_id))
            quota = self._quotas.setdefault(attempt_id, AttemptQuota(self._limits, stored))
        return quota

    def publish(self, event: pp.AttemptEvent) -> None:
        self.quality.observe(event)
        self.deps.bus.publish(self.exam.id, event)
        for observe in self.deps.observers:
            try:
                observe(event)
            except Exception:
                log.exception("an observer of exam %s failed", self.exam.id)

    def report_round_trips(self) -> None:
        """A `connection` event for each connected attempt whose round trip changed."""
        for attempt, rtt, reconnects in self.quality.sample():
            session = self.sessions.get(attempt)
            if session is not None:
                self.publish(
                    pp.Connection(
                        exam=self.exam.id,
                        at=self.wire_now(),
                        attempt=attempt,
                        candidate=session.code,
                        rtt_ms=rtt,
                        reconnects=reconnects,
                    )
                )

    async def _follow_round_trips(self) -> None:
        """Round trips are network time, measured by the sockets in real time: this one
        timer sleeps in real seconds, not on the exam's clock."""
        while not self.exam.window.over(self.deps.clock.now()):
            await asyncio.sleep(SAMPLE_EVERY.total_seconds())
            if self.deps.bus.followed(self.exam.id):  # nobody follows: nothing to tell
                self.report_round_trips()

    def wire_now(self) -> str:
        """The server time as events carry it."""
        return to_wire(self.deps.clock.now())

    async def _candidate_code(self, attempt: AttemptRecord) -> str:
        """The attempt's candidate code for proctors' events ("" when nobody watches)."""
        session = self.sessions.get(attempt.id)
        if session is not None:
            return session.code
        if not self.deps.bus.watched(self.exam.id):
            return ""
        ticket = await self.deps.store.get_ticket(attempt.ticket)
        return ticket.candidate_code if ticket is not None else ""

    # ------------------------------------------------------------ timers

    async def _all(self, label: str, work: list[Coroutine[Any, Any, Any]]) -> None:
        """Run per-candidate work at once, not one after another: everyone shares one clock,
        so the paper must reach the last candidate as early as the first, and the store
        groups their writes into a few transactions."""
        for outcome in await asyncio.gather(*work, return_exceptions=True):
            if isinstance(outcome, BaseException) and not isinstance(
                outcome, asyncio.CancelledError
            ):
                log.error(
                    "exam %s: %s failed for one candidate", self.exam.id, label, exc_info=outcome
                )

    async def _release_at_start(self) -> None:
        await self.deps.clock.sleep_until(self.exam.starts_at)
        waiting = [s for s in self.sessions.values() if s.mode is Mode.EXAM]
        await self._all("paper release", [s.release_paper() for s in waiting])

    async def _finalize_exam(self) -> None:
        ends_at = self.exam.window.ends_at
        await self.deps.clock.sleep_until(ends_at + WRITE_GRACE)
        open_ = [
            a
            for a in await self.deps.store.unfinished_attempts(self.exam.id)
            if a.mode is Mode.EXAM and a.ends_at <= ends_at
        ]
        await self._all(
            "finalizing",
            [self.finalize(a, Trigger.DEADLINE, FinishReason.TIME_UP) for a in open_],
        )

    async def _finalize_own(self, attempt: AttemptRecord) -> None:
        """Sleep until the attempt's deadline, read it again (extra time may have moved it
        meanwhile: sleep on), then finalize."""
        while True:
            await self.deps.clock.sleep_until(attempt.ends_at + WRITE_GRACE)
            current = await self.deps.store.get_attempt(attempt.id)
            if current is None or current.state.finished:
                self._deadlines.discard(attempt.id)
                return
            if current.ends_at <= attempt.ends_at:
                break
            attempt = current
        self._deadlines.discard(attempt.id)
        await self.finalize(attempt, Trigger.DEADLINE, FinishReason.TIME_UP)

    async def _rotate_nonces(self) -> None:
        clock = self.deps.clock
        period = timedelta(seconds=self.deps.nonce_rotation_s)
        while not self.exam.window.over(clock.now()):
            await clock.sleep_until(clock.now() + period)
            await self._rotate_all(list(self.sessions.values()))

    async def _rotate_all(self, sessions: list[LiveSession]) -> None:
        """Every candidate's new nonce, by ROTATION_SLICE workers taking candidates in turn:
        at most that many nonces wait in the store at once, so an answer that arrives
        meanwhile waits behind them, not behind every candidate of the exam (with 5,000 in
        one go, acks waited up to 0.8 s); no more than that many tasks start in one turn of
        the loop (5,000 at once held it about 100 ms); and a slow socket holds up one worker,
        not the candidates after it."""
        waiting = deque(sessions)

        async def worker() -> None:
            while waiting:
                session = waiting.popleft()
                try:
                    await session.rotate_nonce()
                except Exception:
                    log.exception("exam %s: watermark rotation failed for one", self.exam.id)

        await asyncio.gather(*(worker() for _ in range(min(ROTATION_SLICE, len(waiting)))))

    async def _sweep_revoked(self) -> None:
        """Every `revocation_sweep_s`, close the connected candidates whose ticket was revoked
        (`proctor-server ticket revoke`, a refund): their answers so far stay stored, and a
        revoked ticket cannot enter again (`check_ticket`)."""
        clock = self.deps.clock
        period = timedelta(seconds=self.deps.revocation_sweep_s)
        while True:
            await clock.sleep_until(clock.now() + period)
            if not self.sessions:
                continue
            revoked = await self.deps.store.revoked_tickets(self.exam.id)
            ended = [s for s in self.sessions.values() if s.ticket_key in revoked]
            for session in ended:
                log.info("attempt %s: its ticket was revoked, closing", session.attempt_id)
            await self._all("revocation", [s.revoked() for s in ended])

    # ------------------------------------------------------------ what proctors and rules do

    async def warning_given(
        self,
        attempt: AttemptRecord,
        used: int,
        text: str,
        source: p.WarningSource,
        by: str,
    ) -> None:
        """A warning was counted (stored and sent): tell the proctors, and carry out what the
        exam says reaching its limit does (alert the proctors, or end the attempt)."""
        limit = warning_limit_for(self.exam, attempt.mode)
        candidate = await self._candidate_code(attempt)
        now = self.wire_now()
        self.publish(
            pp.Warned(
                exam=self.exam.id,
                at=now,
                attempt=attempt.id,
                candidate=candidate,
                text=text,
                count=used,
                limit=limit,
                source=source,
                by=by,
            )
        )
        if limit is None or not limit_reached(used, limit):
            return
        action = self.exam.on_warning_limit
        self.publish(
            pp.WarningLimitReached(
                exam=self.exam.id,
                at=now,
                attempt=attempt.id,
                candidate=candidate,
                count=used,
                limit=limit,
                action=action,
            )
        )
        if action is p.WarningLimitAction.TERMINATE:
            note = f"the warning limit ({limit}) was reached"
            await self.finalize(attempt, Trigger.TERMINATE, FinishReason.TERMINATED, note)
        else:
            await self.deps.store.audit(
                "system",
                "warning_limit_reached",
                {"attempt": attempt.id, "count": used, "limit": limit, "action": action.value},
                self.deps.clock.now(),
                exam=self.exam.id,
            )

    async def deadline_moved(self, attempt: AttemptRecord) -> None:
        """The attempt's own deadline moved (stored already): its timer and its candidate."""
        self.schedule_deadline(attempt)
        session = self.sessions.get(attempt.id)
        if session is not None:
            await session.deadline_moved(attempt)
        # every process times it from now on: the one leading the exam's timers after this one
        # dies must finalize it even if its candidate never comes back
        self._tell(cs.DeadlineMoved, attempt.id)

    async def accept_identity(self, attempt: AttemptRecord, reason: str) -> AttemptRecord:
        """A proctor accepted the identity photo the automatic check refused: the attempt is
        verified, and its paper released (InvalidTransition unless it was waiting)."""
        updated, _ = await self.deps.store.transition(
            attempt.id,
            Trigger.IDENTITY_ACCEPTED,
            self.deps.clock.now(),
            reason,
            questions=self.questions_for(attempt),
            pass_score=self.pass_score_for(attempt),
        )
        session = self.sessions.get(attempt.id)
        if session is not None:
            await session.identity_accepted(updated)
        else:
            self._tell(cs.IdentityAccepted, attempt.id)
        return updated

    async def notify(self, attempt_id: str, message: p.ProctorWarning | p.Notice) -> bool:
        """Send a connected candidate a message; False when the candidate is not connected
        (here, or to another process that says it delivered it)."""
        session = self.sessions.get(attempt_id)
        if session is None:
            if self.deps.cluster.alone:
                return False
            return await self.deps.cluster.deliver(self.exam.id, attempt_id, p.encode(message))
        await session.notify(message)
        return True

    # ------------------------------------------------------------ finishing

    async def finalize(
        self, attempt: AttemptRecord, trigger: Trigger, reason: FinishReason, note: str = ""
    ) -> AttemptRecord | None:
        """Finish an attempt (deadline, submit, termination), score it, tell its candidate.
        `note`: the words given for a termination, shown to the candidate and kept."""
        try:
            updated, effects = await self.deps.store.transition(
                attempt.id,
                trigger,
                self.deps.clock.now(),
                note or reason,
                questions=self.questions_for(attempt),
                pass_score=self.pass_score_for(attempt),
            )
        except InvalidTransition:
            return None  # already finished by another path: nothing to do
        log.info(
            "attempt %s %s: %s/%s",
            updated.id,
            updated.state.value,
            updated.score,
            updated.max_score,
        )
        # The transition's effects, carried out here: tell the proctors, report the score.
        candidate = await self._candidate_code(updated)
        finished_at = updated.finished_at or self.deps.clock.now()
        if Effect.NOTIFY_PROCTORS in effects:
            self.publish(
                pp.AttemptFinished(
                    exam=self.exam.id,
                    at=to_wire(finished_at),
                    attempt=updated.id,
                    candidate=candidate,
                    state=updated.state,
                    reason=reason,
                    note=note or None,
                    score=updated.score,
                    max_score=updated.max_score,
                    passed=updated.passed,
                )
            )
        self._quotas.pop(updated.id, None)
        session = self.sessions.get(updated.id)
        if session is not None and Effect.SCORE in effects:
            await session.on_finished(updated, reason, note)
        elif session is None:
            self._tell(cs.Finished, updated.id, reason=reason, note=note)
        # its live media and watchers end with it, without holding up what finished it
        self._tasks.spawn(finish_media(self.deps.media, updated.id), f"media-{updated.id}")
        # Its analysis ends too: open violations close, so its risk stops growing.
        self._tasks.spawn(
            self.analysis.finish(updated.id, candidate, finished_at), f"finish-{updated.id}"
        )
        return updated

    # ------------------------------------------------------------ told by another process

    async def signalled(self, signal: cs.AttemptSignal) -> bool:
        """Act on another process's signal if the attempt's candidate is connected here."""
        session = self.sessions.get(signal.attempt)
        if isinstance(signal, cs.DeadlineMoved):  # every process times it from now on
            moved = await self.deps.store.get_attempt(signal.attempt)
            if moved is None:
                return False
            self.schedule_deadline(moved)
            if session is not None:
                await session.deadline_moved(moved)
            return session is not None
        if session is None:
            return False
        if isinstance(signal, cs.Entered):
            log.info(
                "attempt %s: a newer connection to another server replaces this one", signal.attempt
            )
            self.detach(session)
            self._close_replaced(session)
            # its stream here ends now, not when the old connection's closing does (up to the
            # library's close timeout later, by when the candidate may be live through the
            # other server): the proctors see no live video, and why, until it is live there
            self._tasks.spawn(
                end_stream(self.deps.media, signal.attempt, MOVED), f"media-moved-{signal.attempt}"
            )
            return True
        if isinstance(signal, cs.Deliver):
            message = p.decode_server(signal.message)
            if not isinstance(message, p.ProctorWarning | p.Notice):
                return False
            await session.notify(message)
            return True
        attempt = await self.deps.store.get_attempt(signal.attempt)
        if attempt is None:
            return False
        if isinstance(signal, cs.Finished):
            self._quotas.pop(attempt.id, None)
            await session.on_finished(attempt, signal.reason, signal.note)
            self._tasks.spawn(finish_media(self.deps.media, attempt.id), f"media-{attempt.id}")
        else:
            await session.identity_accepted(attempt)
        return True


class ExamRegistry:
    """The exams this process runs, loaded on first use and closed together."""

    def __init__(self, deps: RuntimeDeps):
        self._deps = deps
        self._runtimes: dict[str, ExamRuntime] = {}
        self._lock = asyncio.Lock()

    def loaded(self, exam_id: str) -> ExamRuntime | None:
        return self._runtimes.get(exam_id)

    async def load(self, exam_id: str) -> ExamRuntime | None:
        runtime = self._runtimes.get(exam_id)
        if runtime is not None:
            return runtime
        async with self._lock:
            runtime = self._runtimes.get(exam_id)
            if runtime is None:
                exam = await self._deps.store.get_exam(exam_id)
                if exam is None:
                    return None
                runtime = ExamRuntime(self._deps, exam)
                self._runtimes[exam_id] = runtime
                await runtime.start()
        return runtime

    def __iter__(self) -> Iterator[ExamRuntime]:
        return iter(list(self._runtimes.values()))

    def __getitem__(self, exam_id: str) -> ExamRuntime:
        return self._runtimes[exam_id]

    def __contains__(self, exam_id: object) -> bool:
        return exam_id in self._runtimes

    async def close(self) -> None:
        for runtime in self:
            await runtime.close()
