"""What the candidate's app knows at one moment: a frozen snapshot, replaced on every change.

The UI shows these values and nothing else. Times to come are kept as points on the client's
monotonic clock (derived from the server's deadline and the offset measured from the server's
`server_time`), so a countdown never depends on the wall clock of the candidate's machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.vocabulary import EventKind, FinishReason, Mode


class Phase(StrEnum):
    """The screen the candidate should see; derived from the state, never stored."""

    CONNECTING = "connecting"  # first connection in progress
    OFFLINE = "offline"  # never reached the server yet; retrying (the server cannot be reached)
    IDENTITY = "identity"  # take the identity photo (again, after a refusal)
    PROFILE = "profile"  # the postal address for the paper certificate (R14), exam only
    WAITING_ROOM = "waiting_room"  # entry done; countdown to the start in server time
    EXAM = "exam"  # the paper is on screen
    SUBMITTED = "submitted"  # submitted or time is up; waiting for the result
    TERMINATED = "terminated"  # the proctors ended the attempt
    RESULT = "result"  # the score is known (R17)
    ERROR = "error"  # a fatal refusal (bad ticket, entry closed...); see `error`
    CLOSED = "closed"  # the runtime was closed


@dataclass(frozen=True, slots=True)
class OptionView:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class QuestionView:
    """One question of the paper in the candidate's order, with the candidate's choice.

    `saved` is True only when the server acknowledged the latest choice (or reported it as
    already stored on resume); a choice still in the outbox is `chosen` but not `saved`.
    """

    id: str
    text: str
    multiple: bool
    options: tuple[OptionView, ...]
    points: int = 1
    chosen: tuple[str, ...] = ()
    saved: bool = False
    answer_id: str | None = None  # id of the latest answer message not yet acknowledged

    @property
    def answered(self) -> bool:
        return bool(self.chosen)


class MessageSource(StrEnum):
    """Who a message to the candidate comes from."""

    SYSTEM = "system"  # recorded automatically from what the app reported
    PROCTOR = "proctor"  # a person wrote it


@dataclass(frozen=True, slots=True)
class WarningView:
    """A warning (one of the limit used) or, with `notice`, a message that uses none.

    An automatic warning (`source` SYSTEM) is worded by the app from `kind`, the event the
    app itself reported, and from `count` / `limit`; the server's English `text` is kept as
    evidence only. A proctor's words (`source` PROCTOR) are shown as written.
    """

    text: str
    count: int | None = None
    limit: int | None = None
    source: MessageSource = MessageSource.SYSTEM
    kind: EventKind | None = None
    notice: bool = False


@dataclass(frozen=True, slots=True)
class ResultView:
    score: int
    max_score: int
    passed: bool
    reason: FinishReason = FinishReason.SUBMITTED
    counts: bool = True  # False for a trial (R12)


@dataclass(frozen=True, slots=True)
class ErrorView:
    code: str  # a shared.errors.ErrorCode value, or a client code: unreachable, replaced...
    message: str
    fatal: bool = False  # True: the runtime stopped; the phase is ERROR


@dataclass(frozen=True, slots=True)
class ExamInfoView:
    id: str
    title: str
    starts_at: str  # wire times (UTC, Z), for display only
    ends_at: str


@dataclass(frozen=True, slots=True)
class ClientState:
    """The whole observable state of the candidate's app."""

    mode: Mode = Mode.EXAM
    # connection
    connected: bool = False  # the socket is open and `welcome` was received
    offline: bool = False  # the connection dropped (or never came up); retrying
    connect_failures: int = 0  # consecutive failed attempts since the last welcome
    resumed: bool = False  # the server resumed an attempt that already existed
    media: str = ""  # live audio and video: "", "connecting", "live", "no live video: <reason>"
    # entry
    welcomed: bool = False  # at least one `welcome` was received
    session: str | None = None
    exam: ExamInfoView | None = None
    candidate_code: str = ""
    candidate_name: str = ""  # masked by the server
    snapshot_interval_s: int = 0
    identity_accepted: bool = False
    identity_pending: str | None = None  # id of the photo waiting for its identity_result
    identity_reasons: tuple[str, ...] = ()  # why the last photo was refused (retake)
    identity_codes: tuple[str, ...] = ()  # the same reasons as stable codes (translations)
    consent_version: str | None = None  # the rules of conduct the candidate accepted
    consent_id: str | None = None
    consent_saved: bool = False
    profile_given: bool = False  # the address is in the outbox or stored
    profile_saved: bool = False  # the server acknowledged the address
    profile_id: str | None = None
    # clocks: points on the client's monotonic clock, in seconds
    starts_at_mono: float | None = None
    ends_at_mono: float | None = None
    server_origin: datetime | None = None  # the server's time at monotonic zero
    # the paper
    questions: tuple[QuestionView, ...] = ()
    has_paper: bool = False
    watermark_text: str = ""
    watermark_nonce: str = ""
    # proctoring
    warnings: tuple[WarningView, ...] = ()
    warnings_used: int = 0
    warning_limit: int | None = None
    warning_limit_action: str | None = None  # "alert", "terminate", or None: not said
    # One leave of the exam screen (R16): the leaving event that opened it (None: on the
    # exam screen) and every leaving signal the system sent during it.
    away: EventKind | None = None
    away_signals: tuple[EventKind, ...] = ()
    last_counted: EventKind | None = None  # the latest event sent that uses a warning
    # the end
    submit_id: str | None = None  # set when the candidate submitted
    submit_saved: bool = False
    time_up: bool = False
    terminated_reason: str | None = None
    result: ResultView | None = None
    error: ErrorView | None = None  # the last error (fatal or not)
    closed: bool = False
    pending: int = 0  # messages in the outbox waiting for an acknowledgement
    # answers found in the outbox at start-up, (question, message id, choice), until the paper
    restored_answers: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    # ------------------------------------------------------------ derived values

    @property
    def phase(self) -> Phase:
        if self.result is not None:
            return Phase.RESULT
        if self.terminated_reason is not None:
            return Phase.TERMINATED
        if self.error is not None and self.error.fatal:
            return Phase.ERROR
        if self.closed:
            return Phase.CLOSED
        if self.submit_id is not None or self.time_up:
            return Phase.SUBMITTED
        if not self.welcomed:
            return Phase.OFFLINE if self.connect_failures else Phase.CONNECTING
        if not self.identity_accepted:
            return Phase.IDENTITY
        if self.mode == Mode.EXAM and not self.profile_given:
            return Phase.PROFILE
        if self.has_paper:
            return Phase.EXAM
        return Phase.WAITING_ROOM

    @property
    def finished(self) -> bool:
        """Nothing more will happen: a result, a fatal error, or closed."""
        return (
            self.result is not None or self.closed or (self.error is not None and self.error.fatal)
        )

    @property
    def warnings_left(self) -> int | None:
        """How many more warnings the exam tolerates; None when it sets no limit."""
        if self.warning_limit is None:
            return None
        return max(self.warning_limit - self.warnings_used, 0)

    @property
    def answered_count(self) -> int:
        return sum(1 for q in self.questions if q.answered)

    @property
    def unsaved_count(self) -> int:
        """Answers chosen but not yet acknowledged (kept in the outbox while offline)."""
        return sum(1 for q in self.questions if q.answered and not q.saved)

    def seconds_to_start(self, now: float) -> float | None:
        """Seconds until the exam starts, from the client's monotonic `now`; None if unknown."""
        if self.starts_at_mono is None:
            return None
        return max(self.starts_at_mono - now, 0.0)

    def seconds_left(self, now: float) -> float | None:
        """Seconds until the deadline, from the client's monotonic `now`; None if unknown."""
        if self.ends_at_mono is None:
            return None
        return max(self.ends_at_mono - now, 0.0)

    def question(self, qid: str) -> QuestionView | None:
        for q in self.questions:
            if q.id == qid:
                return q
        return None
