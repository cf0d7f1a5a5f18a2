"""One candidate connection on /ws/candidate: hello, identity, profile, paper, answers,
events, snapshots, submit. Decisions come from the pure rules and the store's transactions;
this module only moves messages."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from proctor_server.core.conduct import classify, warning_text
from proctor_server.core.paper import AttemptPaper
from proctor_server.exams import ExamRuntime, utcnow
from proctor_server.store import AttemptRecord, PhotoRecord, TicketRecord
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, ProctorError, ProtocolError, RuleError
from shared.rules import ExamWindow, check_entry, check_trial, trial_window
from shared.shuffle import new_seed, order_for
from shared.states import AttemptState, Effect, Trigger
from shared.timeutil import to_wire
from shared.vocabulary import EventKind, FinishReason, Mode, ViolationKind
from shared.watermark import mask_name, watermark_text

if TYPE_CHECKING:
    from proctor_server.app import Server

log = logging.getLogger(__name__)

CLOSE_HELLO_REFUSED = 4403  # after an error answering hello (bad ticket, entry window...)
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_REPLACED = 4409  # a newer connection took over this attempt
CLOSE_TOO_MANY_ERRORS = 1008
MAX_PROTOCOL_ERRORS = 50


class ExamNotLoaded(ProctorError):
    """The ticket's exam is not loaded in this process yet (load it, then enter again)."""

    def __init__(self, exam_id: str):
        super().__init__(f"exam {exam_id} is not loaded")
        self.exam_id = exam_id


class AttemptFinished(RuleError):
    """Entry to an attempt that is already finished."""

    code = ErrorCode.EXAM_OVER

    def __init__(self, attempt: AttemptRecord):
        super().__init__(f"this attempt is already {attempt.state.value}")
        self.attempt = attempt


FINISH_REASONS = {
    AttemptState.SUBMITTED: FinishReason.SUBMITTED,
    AttemptState.TIMED_OUT: FinishReason.TIME_UP,
    AttemptState.TERMINATED: FinishReason.TERMINATED,
}


class CandidateSession:
    def __init__(self, server: Server, ws: ServerConnection):
        self.server = server
        self.ws = ws
        self.peer = f"{ws.remote_address}"
        self.runtime: ExamRuntime | None = None
        self.ticket: TicketRecord | None = None
        self.attempt: AttemptRecord | None = None
        self._paper: AttemptPaper | None = None
        self.window: ExamWindow | None = None
        self.nonce = ""
        self.errors = 0
        self._release_lock = asyncio.Lock()

    @property
    def attempt_id(self) -> str:
        assert self.attempt is not None
        return self.attempt.id

    @property
    def paper(self) -> AttemptPaper:
        """This attempt's paper, built on first use (a join in the waiting room needs none)."""
        if self._paper is None:
            assert self.attempt is not None and self.runtime is not None
            questions = self.runtime.questions_for(self.attempt)
            self._paper = AttemptPaper.build(self.attempt.seed, questions, self.attempt.order)
        return self._paper

    @property
    def attempt_mode(self) -> str:
        return self.attempt.mode if self.attempt is not None else ""

    # ------------------------------------------------------------ sending

    async def send(self, message: p._Msg) -> None:
        try:
            await self.ws.send(p.encode(message))
        except ConnectionClosed:
            pass

    async def refuse(self, exc: ProctorError) -> None:
        log.info("%s: %s %s", self.peer, exc.code.value, exc.message)
        await self.send(p.error(exc.code, exc.message, exc.ref))

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        try:
            if not await self._hello():
                return
            await self._serve()
        except ConnectionClosed:
            pass
        finally:
            if self.runtime is not None and self.attempt is not None:
                self.runtime.detach(self)
                self.runtime.publish(
                    pp.Left(
                        exam=self.runtime.exam.id,
                        at=to_wire(utcnow()),
                        attempt=self.attempt.id,
                        candidate=self._code(),
                    )
                )

    async def _hello(self) -> bool:
        try:
            async with asyncio.timeout(self.server.config.hello_timeout_s):  # no extra task
                raw = await self.ws.recv()
        except TimeoutError:
            await self.refuse(ProtocolError("no hello within the time allowed"))
            await self.ws.close(CLOSE_HELLO_TIMEOUT, "hello timeout")
            return False
        try:
            if isinstance(raw, bytes):
                raise ProtocolError("the first message must be a hello text frame")
            message = p.decode_client(raw)
            if not isinstance(message, p.Hello):
                raise ProtocolError(
                    f"the first message must be hello, not {type(message).__name__}"
                )
            await self._enter(message)
        except ProctorError as exc:
            await self.refuse(exc)
            await self.ws.close(CLOSE_HELLO_REFUSED, exc.code.value)
            return False
        return True

    async def _enter(self, hello: p.Hello) -> None:
        if hello.protocol != p.PROTOCOL_VERSION:
            raise RuleError(
                f"this server speaks protocol {p.PROTOCOL_VERSION}, the client {hello.protocol}: "
                "update the app",
                code=ErrorCode.UNSUPPORTED_PROTOCOL,
            )
        store = self.server.store
        now = utcnow()
        self.nonce = self._new_nonce()

        def decide(ticket: TicketRecord | None, found: AttemptRecord | None) -> AttemptRecord:
            return self._decide(hello, ticket, found, now)

        try:
            try:  # one write transaction: read the ticket and attempt, decide, write
                ticket, attempt, resumed = await store.enter(
                    hello.ticket, hello.mode, self.nonce, now, decide
                )
            except ExamNotLoaded as missing:  # first entry to an exam created meanwhile
                if await self.server.runtime_for(missing.exam_id) is None:
                    raise RuleError(
                        "this admission ticket's exam does not exist", code=ErrorCode.BAD_TICKET
                    ) from None
                ticket, attempt, resumed = await store.enter(
                    hello.ticket, hello.mode, self.nonce, now, decide
                )
        except AttemptFinished as finished:
            # The candidate missed the result (offline at the deadline, or the link dropped
            # after submitting): show it again before refusing entry (R17).
            await self.send(self._result(finished.attempt, FINISH_REASONS[finished.attempt.state]))
            raise
        runtime = self.server.runtimes[ticket.exam_id]
        exam = runtime.exam
        if attempt.mode == "trial":
            runtime.schedule_trial_deadline(attempt)
        self.ticket, self.runtime, self.attempt = ticket, runtime, attempt
        self.window = (
            exam.window
            if attempt.mode == "exam"
            else ExamWindow(attempt.created_at, attempt.ends_at - attempt.created_at)
        )
        old = runtime.attach(self)
        if old is not None:
            log.info("attempt %s: a new connection replaces %s", attempt.id, old.peer)
            await old.ws.close(CLOSE_REPLACED, "replaced by a newer connection")
        await self._record_signals(hello.client)
        await self.send(
            p.Welcome(
                session=attempt.id,
                mode=hello.mode,
                exam=p.ExamInfo(
                    id=exam.id,
                    title=exam.title,
                    starts_at=to_wire(self.window.starts_at),
                    entry_opens_at=to_wire(self.window.entry_opens_at),
                    entry_closes_at=to_wire(self.window.entry_closes_at),
                    ends_at=to_wire(self.window.ends_at),
                ),
                server_time=to_wire(now),
                snapshot_interval_s=exam.snapshot_interval_s,
                watermark=p.WatermarkInfo(text=self._watermark_text(), nonce=self.nonce),
                candidate=p.CandidateInfo(code=ticket.candidate_code, name=mask_name(ticket.name)),
                state=attempt.state.value,
                identity_accepted=attempt.identity_accepted,
                profile_saved=attempt.profile_saved,
                warning_limit=exam.warning_limit if attempt.mode == "exam" else None,
                warnings_used=attempt.warnings_used,
                resumed=resumed,
            )
        )
        runtime.publish(
            pp.Joined(
                exam=exam.id,
                at=to_wire(now),
                attempt=attempt.id,
                candidate=ticket.candidate_code,
                name=mask_name(ticket.name),
                mode=attempt.mode,
                state=attempt.state,
                resumed=resumed,
            )
        )
        await self.release_paper()

    def _decide(
        self,
        hello: p.Hello,
        ticket: TicketRecord | None,
        found: AttemptRecord | None,
        now: datetime,
    ) -> AttemptRecord:
        """The entry decision, inside the store's transaction: the attempt to enter (the one
        found, or a new one), or a RuleError. Pure but for reading the loaded exams."""
        if ticket is None or ticket.revoked:
            raise RuleError("this admission ticket is not valid", code=ErrorCode.BAD_TICKET)
        if hello.exam is not None and hello.exam != ticket.exam_id:
            raise RuleError("this admission ticket is for another exam", code=ErrorCode.BAD_TICKET)
        runtime = self.server.runtimes.get(ticket.exam_id)
        if runtime is None:
            raise ExamNotLoaded(ticket.exam_id)
        exam = runtime.exam
        if hello.mode == "trial":
            check_trial(exam.window, now)
            if found is not None and (found.state.finished or found.ends_at <= now):
                found = None  # that practice run is over: a new one starts
        else:
            if found is not None and found.state.finished:
                raise AttemptFinished(found)
            check_entry(exam.window, now, has_attempt=found is not None, finished=False)
        return found if found is not None else self._new_attempt(runtime, ticket, hello.mode, now)

    @staticmethod
    def _new_attempt(
        runtime: ExamRuntime, ticket: TicketRecord, mode: Mode, now: datetime
    ) -> AttemptRecord:
        exam = runtime.exam
        questions = exam.trial_questions if mode == "trial" else exam.questions
        seed = new_seed()
        return AttemptRecord(
            id=("t-" if mode == "trial" else "a-") + uuid.uuid4().hex[:16],
            exam_id=exam.id,
            ticket=ticket.token,
            mode=mode,
            state=AttemptState.WAITING,
            seed=seed,
            order=order_for(seed, questions),
            created_at=now,
            ends_at=trial_window(now).ends_at if mode == "trial" else exam.window.ends_at,
        )

    def _new_nonce(self) -> str:
        return secrets.token_hex(4)

    def _code(self) -> str:
        return self.ticket.candidate_code if self.ticket else ""

    def _watermark_text(self) -> str:
        assert self.ticket is not None and self.runtime is not None
        title = self.runtime.exam.title + (" · TRIAL" if self.attempt_mode == "trial" else "")
        return watermark_text(self.ticket.candidate_code, self.ticket.name, title)

    # ------------------------------------------------------------ pushes from the exam runtime

    async def release_paper(self) -> None:
        """Send the paper once the exam has started and the identity photo was accepted."""
        async with self._release_lock:
            attempt, window, runtime = self.attempt, self.window, self.runtime
            assert attempt is not None and window is not None and runtime is not None
            now = utcnow()
            if attempt.state is AttemptState.VERIFIED and window.started(now):
                self.attempt, effects = await self.server.store.transition(
                    attempt.id,
                    Trigger.PAPER_RELEASED,
                    now,
                    "paper released",
                    questions=runtime.questions_for(attempt),
                    pass_score=runtime.pass_score_for(attempt),
                )
                runtime.publish(
                    pp.Started(
                        exam=runtime.exam.id,
                        at=to_wire(now),
                        attempt=attempt.id,
                        candidate=self._code(),
                    )
                )
                if Effect.SEND_PAPER in effects:
                    await self._send_paper(first=True)
            elif attempt.state is AttemptState.IN_PROGRESS:
                await self._send_paper(first=False)

    async def _send_paper(self, *, first: bool) -> None:
        assert self.window is not None and self.attempt is not None
        # Nothing can be saved before the first release: skip the read on the herd's path.
        saved = {} if first else await self.server.store.answers(self.attempt.id)
        await self.send(self.paper.message(self.window.ends_at, utcnow(), saved))

    async def rotate_nonce(self) -> None:
        if self.attempt is None or self.attempt.state.finished:
            return
        nonce = self._new_nonce()
        await self.server.store.add_nonce(self.attempt.id, nonce, utcnow())
        self.nonce = nonce
        await self.send(p.Watermark(text=self._watermark_text(), nonce=nonce))

    async def on_finished(self, attempt: AttemptRecord, reason: FinishReason) -> None:
        self.attempt = attempt
        if reason is FinishReason.TIME_UP:
            await self.send(p.TimeUp(at=to_wire(utcnow())))
        elif attempt.state is AttemptState.TERMINATED:
            await self.send(p.Terminated(reason=reason))
        await self.send(self._result(attempt, reason))

    def _result(self, attempt: AttemptRecord, reason: FinishReason) -> p.Result:
        return p.Result(
            score=attempt.score or 0,
            max_score=attempt.max_score or 0,
            passed=bool(attempt.passed),
            reason=reason,
            counts=attempt.mode == "exam",
        )

    # ------------------------------------------------------------ the message loop

    async def _serve(self) -> None:
        async for raw in self.ws:
            try:
                if isinstance(raw, bytes):
                    header, image = p.decode_image(raw)
                    await self._image(header, image)
                else:
                    await self._dispatch(p.decode_client(raw))
            except ProctorError as exc:
                await self.refuse(exc)
                if isinstance(exc, ProtocolError):
                    self.errors += 1
                    if self.errors >= MAX_PROTOCOL_ERRORS:
                        await self.ws.close(CLOSE_TOO_MANY_ERRORS, "too many malformed messages")
                        return
            except ConnectionClosed:
                raise
            except Exception:
                log.exception("%s: internal error", self.peer)
                await self.send(p.error(ErrorCode.INTERNAL_ERROR, "the server failed; try again"))

    async def _dispatch(self, m: p.ClientMessage) -> None:
        if isinstance(m, p.Answer):
            await self._answer(m)
        elif isinstance(m, p.Heartbeat):
            await self.send(p.HeartbeatAck(server_time=to_wire(utcnow())))
        elif isinstance(m, p.Event):
            await self._event(m)
        elif isinstance(m, p.Profile):
            await self._profile(m)
        elif isinstance(m, p.Submit):
            await self._submit(m)
        elif isinstance(m, p.Hello):
            raise RuleError("already signed in on this connection", code=ErrorCode.NOT_ALLOWED)
        else:
            raise RuleError("live media is not enabled on this server", code=ErrorCode.NOT_ALLOWED)

    def _require_writable(self, ref: str) -> None:
        assert self.window is not None and self.attempt is not None
        if self.attempt.state.finished:
            code = (
                ErrorCode.DEADLINE_PASSED
                if self.attempt.state is AttemptState.TIMED_OUT
                else ErrorCode.EXAM_OVER
            )
            raise RuleError(f"the attempt is {self.attempt.state.value}", code=code, ref=ref)
        if not self.window.accepts_write(utcnow()):
            raise RuleError("the exam time is over", code=ErrorCode.DEADLINE_PASSED, ref=ref)

    async def _answer(self, m: p.Answer) -> None:
        assert self.attempt is not None
        state = self.attempt.state
        if state is AttemptState.WAITING:
            raise RuleError(
                "the identity photo must be accepted first",
                code=ErrorCode.IDENTITY_REQUIRED,
                ref=m.id,
            )
        self._require_writable(m.id)
        if state is AttemptState.VERIFIED:
            raise RuleError("the paper is not open yet", code=ErrorCode.NOT_ALLOWED, ref=m.id)
        question, choice = self.paper.read_answer(m)
        try:
            await self.server.store.save_answer(self.attempt.id, m.id, question, choice, utcnow())
        except RuleError as exc:
            exc.ref = m.id
            raise
        await self.send(p.Ack(id=m.id))

    async def _event(self, m: p.Event) -> None:
        assert self.attempt is not None and self.runtime is not None
        self._require_writable(m.id)
        outcome = classify(m.kind)
        counts = self.attempt.mode == "exam" and self.attempt.state is AttemptState.IN_PROGRESS
        try:
            new = await self.server.store.save_event(
                self.attempt.id,
                m.id,
                m.kind,
                m.at,
                utcnow(),
                m.detail,
                outcome.violation if counts else None,
            )
        except RuleError as exc:
            exc.ref = m.id
            raise
        await self.send(p.Ack(id=m.id))
        if not new:
            return
        self.runtime.publish(
            pp.ClientEvent(
                exam=self.runtime.exam.id,
                at=to_wire(utcnow()),
                attempt=self.attempt.id,
                candidate=self._code(),
                kind=m.kind,
                client_at=m.at,
                violation=outcome.violation if counts else None,
            )
        )
        if m.kind is EventKind.DEVICE_SIGNAL:
            await self._record_signals(m.detail)
        if outcome.warn:
            limit = self.runtime.exam.warning_limit if self.attempt.mode == "exam" else None
            used = (
                await self.server.store.add_warning(self.attempt.id)
                if counts
                else self.attempt.warnings_used
            )
            self.attempt.warnings_used = used
            await self.send(
                p.ProctorWarning(text=warning_text(m.kind, used, limit), count=used, limit=limit)
            )

    async def _record_signals(self, client: dict[str, Any]) -> None:
        """Judge the device figures a client reports; store what the server finds."""
        assert self.attempt is not None and self.runtime is not None
        for draft in self.server.signals.assess(client, utcnow()):
            await self.server.store.add_violation(
                self.attempt.id,
                draft.kind,
                "server",
                draft.started_at,
                confidence=draft.confidence,
                evidence=draft.evidence,
            )
            self.runtime.publish(
                pp.Flag(
                    exam=self.runtime.exam.id,
                    at=to_wire(utcnow()),
                    attempt=self.attempt.id,
                    candidate=self._code(),
                    kind=ViolationKind(draft.kind),
                    confidence=draft.confidence,
                )
            )

    async def _profile(self, m: p.Profile) -> None:
        assert self.attempt is not None
        self._require_writable(m.id)
        mail = m.mail_to
        for field_name in ("name", "address", "postcode", "phone"):
            if not getattr(mail, field_name).strip():
                raise RuleError(
                    f"the mailing address needs a {field_name}",
                    code=ErrorCode.PROTOCOL_ERROR,
                    ref=m.id,
                )
        await self.server.store.save_profile(
            self.attempt.id,
            m.id,
            {
                "name": mail.name,
                "phone": mail.phone,
                "address": mail.address,
                "postcode": mail.postcode,
            },
            utcnow(),
        )
        self.attempt.profile_saved = True
        await self.send(p.Ack(id=m.id))

    async def _submit(self, m: p.Submit) -> None:
        assert self.attempt is not None and self.runtime is not None
        if self.attempt.state is AttemptState.SUBMITTED:  # a resend: the same result again
            await self.send(p.Ack(id=m.id))
            await self.send(self._result(self.attempt, FinishReason.SUBMITTED))
            return
        if self.attempt.state is AttemptState.WAITING:
            raise RuleError(
                "the identity photo must be accepted first",
                code=ErrorCode.IDENTITY_REQUIRED,
                ref=m.id,
            )
        self._require_writable(m.id)
        if self.attempt.state is not AttemptState.IN_PROGRESS:
            raise RuleError("the paper is not open yet", code=ErrorCode.NOT_ALLOWED, ref=m.id)
        finished = await self.runtime.finalize(self.attempt, Trigger.SUBMIT, FinishReason.SUBMITTED)
        if finished is None:  # the deadline won the race; its result was sent
            raise RuleError("the exam time is over", code=ErrorCode.DEADLINE_PASSED, ref=m.id)
        await self.send(p.Ack(id=m.id))

    # ------------------------------------------------------------ images

    async def _image(self, header: p.ImageHeader, image: bytes) -> None:
        assert self.attempt is not None and self.runtime is not None and self.ticket is not None
        self._require_writable(header.id)
        now = utcnow()
        store = self.server.store
        photo_id = store.photo_id(self.attempt.id, header.id)
        folder = "identity" if header.type == "identity_photo" else "snapshots"
        path = f"{folder}/{self.attempt.exam_id}/{self.attempt.id}/{photo_id}.jpg"
        digest = hashlib.sha256(image).hexdigest()
        if header.type == "snapshot":
            record = PhotoRecord(
                photo_id, self.attempt.id, "snapshot", header.id, path, digest, len(image), now
            )
            new = await self._save_photo(record, image, header.id)
            await self.send(p.Ack(id=header.id))
            if new:
                self.runtime.analysis.submit_snapshot(
                    self.attempt.id, self._code(), photo_id, image, now
                )
            return
        # identity photo
        if self.attempt.identity_accepted:
            await self.send(p.Ack(id=header.id))
            await self.send(p.IdentityResult(id=header.id, accepted=True, reasons=[]))
            return
        reference = None
        if self.ticket.reference_photo:
            reference = await asyncio.to_thread(store.blobs.read, self.ticket.reference_photo)
        verdict = await self.runtime.analysis.check_identity(self.attempt.id, image, reference)
        record = PhotoRecord(
            photo_id,
            self.attempt.id,
            "identity_photo",
            header.id,
            path,
            digest,
            len(image),
            now,
            accepted=verdict.accepted,
            reasons=verdict.reasons,
        )
        await self._save_photo(record, image, header.id)
        if verdict.accepted:
            self.attempt, _ = await store.transition(
                self.attempt.id,
                Trigger.IDENTITY_ACCEPTED,
                now,
                "identity photo accepted",
                questions=self.runtime.questions_for(self.attempt),
                pass_score=self.runtime.pass_score_for(self.attempt),
            )
        self.runtime.publish(
            pp.Identity(
                exam=self.runtime.exam.id,
                at=to_wire(now),
                attempt=self.attempt.id,
                candidate=self._code(),
                accepted=verdict.accepted,
                reasons=verdict.reasons,
                photo=photo_id,
            )
        )
        await self.send(p.Ack(id=header.id))
        await self.send(
            p.IdentityResult(
                id=header.id,
                accepted=verdict.accepted,
                reasons=verdict.reasons,
                codes=verdict.codes,
            )
        )
        if verdict.accepted:
            await self.release_paper()

    async def _save_photo(self, record: PhotoRecord, image: bytes, ref: str) -> bool:
        try:
            return await self.server.store.save_photo(record, image)
        except RuleError as exc:
            exc.ref = ref
            raise
