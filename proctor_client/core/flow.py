"""The candidate's exam flow: `step(state, input, now)` -> new state and commands.

Pure: no sockets, disks, clocks or randomness. The runtime feeds it what happened (a server
message, a connection change, something the candidate did), with the monotonic `now` and the
ids it generated, and carries out the commands it returns (send, keep in the outbox, forget,
replay the outbox, stop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from proctor_client.core import conduct
from proctor_client.core.conduct import COUNTED_EVENTS
from proctor_client.core.io import (
    Accept,
    Choose,
    Close,
    Command,
    Connected,
    ConnectFailed,
    Disconnected,
    Enqueue,
    Forget,
    GiveProfile,
    HandIn,
    Input,
    Received,
    Replay,
    Report,
    Restore,
    RetryLater,
    Send,
    SendImage,
    Snap,
    Step,
    Stop,
    TakePhoto,
)
from proctor_client.core.state import (
    ClientState,
    ErrorView,
    ExamInfoView,
    OptionView,
    Phase,
    QuestionView,
    ResultView,
)
from shared import protocol as p
from shared.errors import ErrorCode, ProctorError
from shared.timeutil import from_wire
from shared.vocabulary import CloseCode, EventKind, Mode

# Refusals after which retrying the same ticket cannot help: the runtime stops.
FATAL_CODES: frozenset[str] = frozenset(
    {
        ErrorCode.BAD_TICKET,
        ErrorCode.ENTRY_NOT_OPEN,
        ErrorCode.ENTRY_CLOSED,
        ErrorCode.EXAM_OVER,
        ErrorCode.TRIAL_UNAVAILABLE,
        ErrorCode.UNSUPPORTED_PROTOCOL,
    }
)
# Refusals of one message that a later try may pass: nothing was stored, the message stays in
# the outbox (sent again after a back-off, and with the rest on the next connection) and stays
# unsaved on screen until its ack.
TRANSIENT_CODES: frozenset[str] = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.INTERNAL_ERROR}
)
REPLACED = "replaced"  # client code: the same ticket connected elsewhere (CloseCode.REPLACED)
__all__ = [
    "COUNTED_EVENTS",
    "FATAL_CODES",
    "REPLACED",
    "Accept",
    "Choose",
    "Close",
    "Command",
    "ConnectFailed",
    "Connected",
    "Disconnected",
    "Enqueue",
    "Forget",
    "GiveProfile",
    "HandIn",
    "Input",
    "InvalidAction",
    "Received",
    "Replay",
    "Report",
    "Restore",
    "RetryLater",
    "Send",
    "SendImage",
    "Snap",
    "Step",
    "Stop",
    "TakePhoto",
    "step",
]
#  # one warning each (core/conduct.py decides what a leave is)
# Events about the devices, sent whenever the attempt is open (the others only on the paper).
DEVICE_EVENTS: frozenset[EventKind] = frozenset({EventKind.DEVICE_SIGNAL})
OPEN_PHASES: frozenset[Phase] = frozenset(
    {Phase.IDENTITY, Phase.PROFILE, Phase.WAITING_ROOM, Phase.EXAM}
)


class InvalidAction(ProctorError):
    """Something the candidate (or a script) asked for that the current state refuses."""

    code = ErrorCode.NOT_ALLOWED


# ---------------------------------------------------------------- the step function


def step(state: ClientState, event: Input, now: float) -> Step:
    """Apply one input. Raises InvalidAction (state unchanged) for a refused candidate action."""
    match event:
        case Received(message):
            return _on_message(state, message, now)
        case Connected(ticket, client):
            if state.finished:
                return state, [Stop("finished")]
            hello = p.Hello(
                protocol=p.PROTOCOL_VERSION, ticket=ticket, mode=state.mode, client=dict(client)
            )
            return state, [Send(p.encode(hello))]
        case ConnectFailed():
            return replace(
                state, connected=False, offline=True, connect_failures=state.connect_failures + 1
            ), []
        case Disconnected(code):
            state = replace(state, connected=False, offline=not state.finished)
            if not state.welcomed:  # dropped before any welcome: the server is not reachable
                state = replace(state, connect_failures=state.connect_failures + 1)
            if code == CloseCode.REPLACED and not state.finished:
                text = "The exam was opened on another device or window; this one stopped."
                state = replace(state, offline=False, error=ErrorView(REPLACED, text, True))
                return state, [Stop(REPLACED)]
            # A photo in flight is lost with the connection; the candidate takes it again.
            return replace(state, identity_pending=None), []
        case TakePhoto():
            return _take_photo(state, event)
        case GiveProfile():
            return _give_profile(state, event)
        case Choose():
            return _choose(state, event)
        case Report():
            return _report(state, event)
        case Accept(mid, version):
            return _accept(state, mid, version)
        case HandIn(mid):
            _require(state, Phase.EXAM, "submit")
            return replace(state, submit_id=mid, submit_saved=False), [
                Enqueue(mid, "submit", p.encode(p.Submit(id=mid)))
            ]
        case Snap(mid, at, jpeg):
            if state.phase is not Phase.EXAM or not jpeg:
                return state, []
            header = p.ImageHeader(type="snapshot", id=mid, at=at)
            return state, [Enqueue(mid, "snapshot", p.encode_image(header, jpeg))]
        case Restore(messages):
            return _restore(state, messages), []
        case Close():
            if state.closed:
                return state, []
            return replace(state, closed=True, connected=False, offline=False), [Stop("closed")]
    raise AssertionError(f"unhandled input {event!r}")  # pragma: no cover


# ---------------------------------------------------------------- server messages


def _on_message(state: ClientState, message: p.ServerMessage, now: float) -> Step:
    match message:
        case p.Welcome():
            return _welcome(state, message, now)
        case p.Error(code, text, ref):
            return _error(state, code, text, ref)
        case p.Ack(mid):
            return _ack(state, mid), [Forget(mid)]
        case p.IdentityResult(mid, accepted, reasons, codes):
            if state.identity_pending not in (None, mid):
                return state, []  # the answer to an older photo
            return replace(
                state,
                identity_pending=None,
                identity_accepted=state.identity_accepted or accepted,
                identity_reasons=() if accepted else tuple(reasons),
                identity_codes=() if accepted else tuple(codes),
            ), []
        case p.Paper():
            return _paper(state, message, now), []
        case p.Result(score, max_score, passed, reason, counts):
            result = ResultView(score, max_score, passed, reason, counts)
            return replace(state, result=result, offline=False), [Stop("result")]
        case p.ProctorWarning():
            return conduct.on_warning(state, message), []
        case p.Notice():
            return conduct.on_notice(state, message), []
        case p.Deadline():
            return conduct.on_deadline(state, message), []
        case p.Terminated(reason):
            return replace(state, terminated_reason=reason), []
        case p.TimeUp():
            return replace(state, time_up=True), []
        case p.Watermark(text, nonce):
            return replace(state, watermark_text=text, watermark_nonce=nonce), []
        case p.HeartbeatAck(server_time):
            return _anchor(state, server_time, now), []
        case p.RtcAnswer():
            return state, []
    raise AssertionError(f"unhandled message {message!r}")  # pragma: no cover


def _welcome(state: ClientState, w: p.Welcome, now: float) -> Step:
    state = replace(
        state,
        mode=w.mode,
        connected=True,
        offline=False,
        connect_failures=0,
        welcomed=True,
        resumed=w.resumed,
        session=w.session,
        exam=ExamInfoView(w.exam.id, w.exam.title, w.exam.starts_at, w.exam.ends_at),
        candidate_code=w.candidate.code,
        candidate_name=w.candidate.name,
        snapshot_interval_s=w.snapshot_interval_s,
        identity_accepted=state.identity_accepted or w.identity_accepted,
        identity_pending=None,
        profile_given=state.profile_given or w.profile_saved,
        profile_saved=state.profile_saved or w.profile_saved,
        watermark_text=w.watermark.text,
        watermark_nonce=w.watermark.nonce,
        warning_limit=w.warning_limit,
        warning_limit_action=w.warning_limit_action,
        warnings_used=max(w.warnings_used, 0),
        error=None,
    )
    return _anchor(state, w.server_time, now), [Replay()]


def _error(state: ClientState, code: str, text: str, ref: str | None) -> Step:
    if ref is None:
        fatal = code in FATAL_CODES
        state = replace(state, error=ErrorView(code, text, fatal))
        if fatal:
            return replace(state, connected=False, offline=False), [Stop(code)]
        return state, []
    state = replace(state, error=ErrorView(code, text, False))
    if code in TRANSIENT_CODES and ref != state.identity_pending:
        return state, [RetryLater(ref)]  # kept: it is sent again, and "saved" waits for its ack
    # (an identity photo refused for now is retaken instead: the candidate is not left waiting)
    # A refusal of one message: it will never be accepted, so it leaves the outbox.
    if ref == state.identity_pending:
        state = replace(
            state, identity_pending=None, identity_reasons=(text,), identity_codes=(code,)
        )
    elif ref == state.submit_id:
        state = replace(state, submit_id=None)
    elif ref == state.profile_id:
        state = replace(state, profile_id=None, profile_given=state.profile_saved)
    elif ref == state.consent_id:
        state = replace(state, consent_id=None, consent_saved=False)
    else:
        state = replace(
            state,
            questions=tuple(
                replace(q, answer_id=None) if q.answer_id == ref else q for q in state.questions
            ),
        )
    return state, [Forget(ref)]


def _ack(state: ClientState, mid: str) -> ClientState:
    if mid == state.profile_id:
        state = replace(state, profile_saved=True, profile_given=True)
    if mid == state.submit_id:
        state = replace(state, submit_saved=True)
    if mid == state.consent_id:
        state = replace(state, consent_saved=True)
    if any(q.answer_id == mid for q in state.questions):
        state = replace(
            state,
            questions=tuple(
                replace(q, answer_id=None, saved=True) if q.answer_id == mid else q
                for q in state.questions
            ),
        )
    return state


def _paper(state: ClientState, paper: p.Paper, now: float) -> ClientState:
    # What the candidate chose and the server has not acknowledged yet wins over `saved`.
    unsent: dict[str, tuple[str, tuple[str, ...]]] = {
        qid: (mid, choice) for qid, mid, choice in state.restored_answers
    }
    for q in state.questions:
        if q.answer_id is not None:
            unsent[q.id] = (q.answer_id, q.chosen)
    questions = []
    for pq in paper.questions:
        view = QuestionView(
            id=pq.id,
            text=pq.text,
            multiple=pq.multiple,
            options=tuple(OptionView(o.id, o.text) for o in pq.options),
            points=pq.points,
        )
        if pq.id in unsent:
            mid, choice = unsent[pq.id]
            view = replace(view, chosen=choice, saved=False, answer_id=mid)
        elif pq.id in paper.saved:
            view = replace(view, chosen=tuple(paper.saved[pq.id]), saved=True)
        questions.append(view)
    exam = state.exam
    if exam is not None:
        exam = replace(exam, ends_at=paper.ends_at)
    else:
        exam = ExamInfoView("", "", "", paper.ends_at)
    state = replace(
        state, questions=tuple(questions), has_paper=True, restored_answers=(), exam=exam
    )
    return _anchor(state, paper.server_time, now)


def _anchor(state: ClientState, server_time: str, now: float) -> ClientState:
    """Place the start and the deadline on the monotonic clock, from the server's time now."""
    try:
        server_now = from_wire(server_time)
        starts = _mono(state.exam.starts_at, server_now, now) if state.exam else None
        ends = _mono(state.exam.ends_at, server_now, now) if state.exam else None
    except ProctorError:
        return state
    origin = server_now - timedelta(seconds=now)
    return replace(state, starts_at_mono=starts, ends_at_mono=ends, server_origin=origin)


def _mono(wire: str, server_now: datetime, now: float) -> float | None:
    if not wire:
        return None
    return now + (from_wire(wire) - server_now).total_seconds()


# ---------------------------------------------------------------- candidate actions


def _require(state: ClientState, phase: Phase, what: str) -> None:
    if state.phase is not phase:
        raise InvalidAction(f"cannot {what} now (the app is at {state.phase.value})")


def _take_photo(state: ClientState, event: TakePhoto) -> Step:
    _require(state, Phase.IDENTITY, "send the identity photo")
    if not event.jpeg.startswith(b"\xff\xd8"):
        raise InvalidAction("the identity photo must be a JPEG image")
    if len(event.jpeg) > p.MAX_IMAGE_BYTES:
        raise InvalidAction(f"the identity photo is larger than {p.MAX_IMAGE_BYTES} bytes")
    if not state.connected:
        raise InvalidAction("offline: the photo can be sent once the connection is back")
    header = p.ImageHeader(type="identity_photo", id=event.id)
    state = replace(state, identity_pending=event.id, identity_reasons=())
    return state, [SendImage(p.encode_image(header, event.jpeg))]


def _give_profile(state: ClientState, event: GiveProfile) -> Step:
    if state.mode != Mode.EXAM:
        raise InvalidAction("a trial has no postal address")
    if not state.identity_accepted or state.phase not in (
        Phase.PROFILE,
        Phase.WAITING_ROOM,
        Phase.EXAM,
    ):
        raise InvalidAction(f"cannot give the postal address now ({state.phase.value})")
    fields = {
        "name": event.name,
        "phone": event.phone,
        "address": event.address,
        "postcode": event.postcode,
    }
    missing = [k for k, v in fields.items() if not v.strip()]
    if missing:
        raise InvalidAction(f"the postal address needs: {', '.join(missing)}")
    mail_to = p.MailTo(**{k: v.strip() for k, v in fields.items()})
    state = replace(state, profile_given=True, profile_saved=False, profile_id=event.id)
    return state, [Enqueue(event.id, "profile", p.encode(p.Profile(id=event.id, mail_to=mail_to)))]


def _choose(state: ClientState, event: Choose) -> Step:
    _require(state, Phase.EXAM, "answer")
    question = state.question(event.question)
    if question is None:
        raise InvalidAction(f"no question {event.question!r} in this paper")
    known = {o.id for o in question.options}
    unknown = [o for o in event.choice if o not in known]
    if unknown:
        raise InvalidAction(f"question {event.question!r} has no option {unknown[0]!r}")
    if len(set(event.choice)) != len(event.choice):
        raise InvalidAction("an option is chosen twice")
    if not question.multiple and len(event.choice) > 1:
        raise InvalidAction(f"question {event.question!r} takes a single option")
    # Keep the paper's option order so equal choices compare equal.
    choice = tuple(o.id for o in question.options if o.id in event.choice)
    updated = replace(question, chosen=choice, saved=False, answer_id=event.id)
    questions = tuple(updated if q.id == question.id else q for q in state.questions)
    answer = p.Answer(id=event.id, question=question.id, choice=list(choice))
    enqueue = Enqueue(event.id, "answer", p.encode(answer))
    if question.answer_id is None:
        return replace(state, questions=questions), [enqueue]
    # The earlier choice, not yet acknowledged, is superseded: it leaves the outbox, so no resend
    # of it (after a refusal for now, or a reconnect) can land after the new one and undo it.
    return replace(state, questions=questions), [Forget(question.answer_id), enqueue]


def _report(state: ClientState, event: Report) -> Step:
    try:
        kind = EventKind(event.kind)
    except ValueError:
        expected = ", ".join(sorted(EventKind))
        raise InvalidAction(
            f"unknown event kind {str(event.kind)!r}; expected one of {expected}"
        ) from None
    if kind in DEVICE_EVENTS:
        if state.phase not in OPEN_PHASES:
            return state, []  # device figures go with an open attempt (hello carries the first)
    elif state.phase is not Phase.EXAM:
        return state, []  # off-screen events matter only while the paper is open (R16)
    else:  # one leave of the exam screen is one event that uses a warning
        state, decision = conduct.off_screen(state, kind)
        if not decision.send:
            return state, []
        detail = {**event.detail, **decision.detail}
        message = p.Event(id=event.id, kind=kind, at=event.at, detail=detail)
        return state, [Enqueue(event.id, "event", p.encode(message))]
    message = p.Event(id=event.id, kind=kind, at=event.at, detail=dict(event.detail))
    return state, [Enqueue(event.id, "event", p.encode(message))]


def _accept(state: ClientState, mid: str, version: str) -> Step:
    if not version.strip():
        raise InvalidAction("the rules of conduct have no version")
    if state.finished:
        raise InvalidAction("the attempt is over")
    if state.consent_version == version:
        return state, []  # accepted already
    state = replace(state, consent_version=version, consent_id=mid, consent_saved=False)
    return state, [Enqueue(mid, "consent", p.encode(p.Consent(id=mid, version=version)))]


def _restore(state: ClientState, messages: Sequence[p.ClientMessage]) -> ClientState:
    answers: dict[str, tuple[str, tuple[str, ...]]] = {}
    for message in messages:
        match message:
            case p.Answer(mid, qid, choice):
                answers[qid] = (mid, tuple(choice))
            case p.Profile(mid):
                state = replace(state, profile_given=True, profile_id=mid)
            case p.Submit(mid):
                state = replace(state, submit_id=mid)
            case p.Consent(mid, version):
                state = replace(state, consent_id=mid, consent_version=version)
            case _:
                pass
    restored = tuple((qid, mid, choice) for qid, (mid, choice) in answers.items())
    return replace(state, restored_answers=restored)
