"""One live exam on this server: its timers (paper release, deadline, watermark rotation),
its connected candidates, and finalizing attempts. Rebuilt from the store after a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from proctor_server.analysis_queue import AnalysisQueue
from proctor_server.store import AttemptRecord, ExamRecord
from proctor_server.tasks import TaskSet
from shared import proctor_protocol as pp
from shared.errors import InvalidTransition
from shared.questions import Question, max_score
from shared.rules import WRITE_GRACE, default_pass_score
from shared.states import Effect, Trigger
from shared.timeutil import to_wire
from shared.vocabulary import FinishReason

if TYPE_CHECKING:
    from proctor_server.app import Server
    from proctor_server.candidate import CandidateSession

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def sleep_until(moment: datetime) -> None:
    """Sleep until the server clock reaches `moment` (re-checked after each wake-up)."""
    while True:
        delay = (moment - utcnow()).total_seconds()
        if delay <= 0:
            return
        await asyncio.sleep(min(delay, 3600))


class ExamRuntime:
    def __init__(self, server: Server, exam: ExamRecord):
        self.server = server
        self.exam = exam
        self.sessions: dict[str, CandidateSession] = {}
        self._tasks = TaskSet(f"exam {exam.id}")
        self._trial_deadlines: set[str] = set()
        self._closed = False
        self.analysis = AnalysisQueue(
            exam.id, server.analyzer, server.identity, server.store, self.publish
        )

    # ------------------------------------------------------------ rules of this exam

    def questions_for(self, attempt: AttemptRecord) -> list[Question]:
        return self.exam.trial_questions if attempt.mode == "trial" else self.exam.questions

    def pass_score_for(self, attempt: AttemptRecord) -> int:
        if attempt.mode == "trial":
            return default_pass_score(max_score(self.exam.trial_questions))
        return self.exam.pass_score

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Schedule the paper release, the deadline, the watermark rotation, and the
        deadlines of unfinished trial attempts (after a restart, from the store)."""
        self.analysis.start(self._tasks)
        self._tasks.spawn(self._release_at_start(), f"release-{self.exam.id}")
        self._tasks.spawn(
            self._finalize_at(self.exam.window.ends_at + WRITE_GRACE, mode="exam"),
            f"deadline-{self.exam.id}",
        )
        self._tasks.spawn(self._rotate_nonces(), f"nonces-{self.exam.id}")
        for attempt in await self.server.store.unfinished_attempts(self.exam.id):
            if attempt.mode == "trial":
                self.schedule_trial_deadline(attempt)

    def schedule_trial_deadline(self, attempt: AttemptRecord) -> None:
        if attempt.id in self._trial_deadlines:
            return
        self._trial_deadlines.add(attempt.id)
        self._tasks.spawn(self._finalize_trial(attempt), f"trial-deadline-{attempt.id}")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._tasks.close()
        self.analysis.close()

    # ------------------------------------------------------------ sessions

    def attach(self, session: CandidateSession) -> CandidateSession | None:
        """Register a live connection for an attempt; return the one it replaces."""
        old = self.sessions.get(session.attempt_id)
        self.sessions[session.attempt_id] = session
        return old if old is not session else None

    def detach(self, session: CandidateSession) -> None:
        if self.sessions.get(session.attempt_id) is session:
            del self.sessions[session.attempt_id]

    def publish(self, event: pp.AttemptEvent) -> None:
        self.server.bus.publish(self.exam.id, event)

    async def _candidate_code(self, attempt: AttemptRecord) -> str:
        """The attempt's candidate code for proctors' events ("" when nobody watches)."""
        session = self.sessions.get(attempt.id)
        if session is not None and session.ticket is not None:
            return session.ticket.candidate_code
        if not self.server.bus.watched(self.exam.id):
            return ""
        ticket = await self.server.store.get_ticket(attempt.ticket)
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
        await sleep_until(self.exam.starts_at)
        waiting = [s for s in self.sessions.values() if s.attempt_mode == "exam"]
        await self._all("paper release", [s.release_paper() for s in waiting])

    async def _finalize_at(self, moment: datetime, *, mode: str) -> None:
        await sleep_until(moment)
        open_ = [
            a for a in await self.server.store.unfinished_attempts(self.exam.id) if a.mode == mode
        ]
        await self._all(
            "finalizing", [self.finalize(a, Trigger.DEADLINE, FinishReason.TIME_UP) for a in open_]
        )

    async def _finalize_trial(self, attempt: AttemptRecord) -> None:
        await sleep_until(attempt.ends_at + WRITE_GRACE)
        await self.finalize(attempt, Trigger.DEADLINE, FinishReason.TIME_UP)

    async def _rotate_nonces(self) -> None:
        period = self.server.config.nonce_rotation_s
        while not self.exam.window.over(utcnow()):
            await asyncio.sleep(period)
            await self._all(
                "watermark rotation", [s.rotate_nonce() for s in self.sessions.values()]
            )

    # ------------------------------------------------------------ finishing

    async def finalize(
        self, attempt: AttemptRecord, trigger: Trigger, reason: FinishReason
    ) -> AttemptRecord | None:
        """Finish an attempt (deadline, submit, termination), score it, tell its candidate."""
        try:
            updated, effects = await self.server.store.transition(
                attempt.id,
                trigger,
                utcnow(),
                reason,
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
        finished_at = updated.finished_at or utcnow()
        if Effect.NOTIFY_PROCTORS in effects:
            self.publish(
                pp.AttemptFinished(
                    exam=self.exam.id,
                    at=to_wire(finished_at),
                    attempt=updated.id,
                    candidate=candidate,
                    state=updated.state,
                    reason=reason,
                    score=updated.score,
                    max_score=updated.max_score,
                    passed=updated.passed,
                )
            )
        session = self.sessions.get(updated.id)
        if session is not None and Effect.SCORE in effects:
            await session.on_finished(updated, reason)
        # Its analysis ends too: open violations close, so its risk stops growing.
        self._tasks.spawn(
            self.analysis.finish(updated.id, candidate, finished_at), f"finish-{updated.id}"
        )
        return updated
