"""One entered attempt on one live connection: what it holds (ticket, attempt, paper, nonce)
and what the exam runtime pushes to it (the paper, the watermark, the end)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from proctor_server.core.paper import AttemptPaper
from proctor_server.core.records import AttemptRecord, TicketRecord
from proctor_server.core.session import attempt_window, paper_due
from proctor_server.exams import ExamRuntime
from proctor_server.session.deps import SessionDeps
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode
from shared.rules import ExamWindow
from shared.states import AttemptState, Effect, Trigger
from shared.timeutil import to_wire
from shared.vocabulary import CloseCode, FinishReason, Mode
from shared.watermark import watermark_text

Send = Callable[[p._Msg], Awaitable[None]]
Close = Callable[[CloseCode, str], Awaitable[None]]


NONCE_BYTES = 4  # a watermark nonce: this many random bytes, as hex


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def result_message(attempt: AttemptRecord, reason: FinishReason) -> p.Result:
    """The candidate's result (R17): shown at the end, and again on a later entry."""
    return p.Result(
        score=attempt.score or 0,
        max_score=attempt.max_score or 0,
        passed=bool(attempt.passed),
        reason=reason,
        counts=attempt.mode is Mode.EXAM,
    )


class LiveAttempt:
    __slots__ = (  # thousands live at once
        "_close",
        "_paper",
        "_release_lock",
        "attempt",
        "deps",
        "nonce",
        "peer",
        "runtime",
        "send",
        "ticket",
    )

    def __init__(
        self,
        deps: SessionDeps,
        runtime: ExamRuntime,
        ticket: TicketRecord,
        attempt: AttemptRecord,
        nonce: str,
        send: Send,
        close: Close,
        peer: str,
    ):
        self.deps = deps
        self.runtime = runtime
        self.ticket = ticket
        self.attempt = attempt
        self.nonce = nonce
        self.send = send
        self._close = close
        self.peer = peer
        self._paper: AttemptPaper | None = None
        self._release_lock = asyncio.Lock()

    # ------------------------------------------------------------ what it is

    @property
    def attempt_id(self) -> str:
        return self.attempt.id

    @property
    def mode(self) -> Mode:
        return self.attempt.mode

    @property
    def code(self) -> str:
        return self.ticket.candidate_code

    @property
    def ticket_key(self) -> str:
        return self.ticket.token

    @property
    def window(self) -> ExamWindow:
        return attempt_window(self.runtime.exam, self.attempt)

    @property
    def paper(self) -> AttemptPaper:
        """This attempt's paper, built on first use (a join in the waiting room needs none)."""
        if self._paper is None:
            questions = self.runtime.questions_for(self.attempt)
            self._paper = AttemptPaper.build(self.attempt.seed, questions, self.attempt.order)
        return self._paper

    def watermark(self) -> str:
        title = self.runtime.exam.title + (" · TRIAL" if self.mode is Mode.TRIAL else "")
        return watermark_text(self.ticket.candidate_code, self.ticket.name, title)

    # ------------------------------------------------------------ pushes from the exam runtime

    async def release_paper(self) -> None:
        """Send the paper once the exam has started and the identity photo was accepted."""
        async with self._release_lock:
            now = self.deps.clock.now()
            if paper_due(self.attempt, self.runtime.exam, now):
                self.attempt, effects = await self.deps.store.transition(
                    self.attempt.id,
                    Trigger.PAPER_RELEASED,
                    now,
                    "paper released",
                    questions=self.runtime.questions_for(self.attempt),
                    pass_score=self.runtime.pass_score_for(self.attempt),
                )
                self.runtime.publish(
                    pp.Started(
                        exam=self.runtime.exam.id,
                        at=to_wire(now),
                        attempt=self.attempt.id,
                        candidate=self.code,
                    )
                )
                if Effect.SEND_PAPER in effects:
                    await self._send_paper(first=True)
            elif self.attempt.state is AttemptState.IN_PROGRESS:
                await self._send_paper(first=False)

    async def _send_paper(self, *, first: bool) -> None:
        # Nothing can be saved before the first release: skip the read on the herd's path.
        saved = {} if first else await self.deps.store.answers(self.attempt.id)
        await self.runtime.pacer.turn()  # at the release, a few papers per event-loop turn
        await self.send(self.paper.message(self.attempt.ends_at, self.deps.clock.now(), saved))

    async def rotate_nonce(self) -> None:
        """A new watermark nonce, stored, then sent."""
        if self.attempt.state.finished:
            return
        nonce = new_nonce()
        await self.deps.store.add_nonce(self.attempt.id, nonce, self.deps.clock.now())
        self.nonce = nonce
        await self.send(p.Watermark(text=self.watermark(), nonce=nonce))

    async def on_finished(self, attempt: AttemptRecord, reason: FinishReason, note: str) -> None:
        self.attempt = attempt
        if reason is FinishReason.TIME_UP:
            await self.send(p.TimeUp(at=to_wire(self.deps.clock.now())))
        elif reason is FinishReason.TERMINATED:
            await self.send(p.Terminated(reason=note or "the exam was ended by the proctors"))
        await self.send(result_message(attempt, reason))

    async def notify(self, message: p.ProctorWarning | p.Notice) -> None:
        if isinstance(message, p.ProctorWarning) and message.count is not None:
            self.attempt.warnings_used = message.count
        await self.send(message)

    async def deadline_moved(self, attempt: AttemptRecord) -> None:
        """Extra time: writes are checked against the new deadline from now on."""
        self.attempt.ends_at = attempt.ends_at
        await self.send(p.Deadline(ends_at=to_wire(attempt.ends_at)))

    async def identity_accepted(self, attempt: AttemptRecord) -> None:
        """A proctor accepted the identity photo: the answer to the candidate's latest photo
        becomes "accepted", then the paper follows once the exam has started."""
        self.attempt = attempt
        photos = await self.deps.store.photos(attempt.id, "identity_photo")
        latest = max(photos, key=lambda photo: photo.received_at, default=None)
        if latest is not None:
            await self.send(p.IdentityResult(id=latest.client_id, accepted=True, reasons=[]))
        await self.release_paper()

    async def replaced(self) -> None:
        """A newer connection took over this attempt: close this one."""
        await self._close(CloseCode.REPLACED, "replaced by a newer connection")

    async def revoked(self) -> None:
        """Its ticket was revoked: `bad_ticket`, then close 4401 (entering again is refused)."""
        message = "this admission ticket was revoked"
        try:
            await self.send(p.Error(code=ErrorCode.BAD_TICKET.value, message=message))
        finally:
            await self._close(CloseCode.BAD_TOKEN, message)
