"""The proctor channel: every message on /ws/proctor, declared once, encoded and decoded here.

Text frames only, JSON objects tagged by ``type``. The server sends the exam's `snapshot`, then
one event per thing that happens to an attempt; every such event carries `exam`, `at`,
`attempt` and `candidate`. The proctor sends commands (`warn`, `terminate`, ...), each with a
client `id` that the answer (`ack`, or `error` with `ref`) names.

Untrusted input is decoded by msgspec against these declarations; anything malformed becomes
one :class:`ProtocolError`. Events are encoded to bytes once and the same bytes go to every
proctor who follows the exam (send them as a text frame).
"""

from __future__ import annotations

import operator
from enum import StrEnum
from itertools import repeat
from typing import Annotated, Any, Union, get_args

import msgspec

from shared.errors import ProtocolError
from shared.protocol import Ack, Error, decode_frame
from shared.states import AttemptState
from shared.vocabulary import (
    EventKind,
    FinishReason,
    Mode,
    Source,
    ViolationKind,
    WarningLimitAction,
    WarningSource,
)

MAX_COMMAND_FRAME = 64 * 1024  # bytes; a session description (SDP) is the largest command
MAX_FEED_FRAME = 16 * 1024 * 1024  # bytes; the snapshot of a large exam is the largest
MAX_PROTOCOL_ERRORS = 50  # malformed messages on one connection before it is closed (1008)

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Sdp = Annotated[str, msgspec.Meta(max_length=MAX_COMMAND_FRAME)]


class _Msg(msgspec.Struct, tag_field="type", forbid_unknown_fields=False, kw_only=True):
    pass


class _AttemptEvent(_Msg):
    """What every event about one attempt carries."""

    exam: str
    at: str  # server time, wire format
    attempt: str
    candidate: str  # the candidate code the snapshot shows


# ---------------------------------------------------------------- server -> proctor


class ExamSummary(msgspec.Struct, kw_only=True):
    id: str
    title: str
    starts_at: str
    ends_at: str


class SeatState(StrEnum):
    """A ticket's place in the grid: not entered yet (an absentee), or its attempt's state."""

    NOT_ENTERED = "not_entered"
    WAITING = AttemptState.WAITING.value
    VERIFIED = AttemptState.VERIFIED.value
    IN_PROGRESS = AttemptState.IN_PROGRESS.value
    SUBMITTED = AttemptState.SUBMITTED.value
    TIMED_OUT = AttemptState.TIMED_OUT.value
    TERMINATED = AttemptState.TERMINATED.value


class MediaStatus(StrEnum):
    LIVE = "live"
    NO_LIVE_VIDEO = "no_live_video"


class AttemptSummary(msgspec.Struct, kw_only=True, array_like=True, omit_defaults=True):
    """One ticket of the exam: its exam attempt, or an absentee (`attempt` is "", `state`
    is not_entered). A trial attempt is listed too while there is no exam attempt.

    On the wire a row is a JSON array in this field order (`Snapshot.fields` names them),
    and the trailing values equal to their defaults are left out: an absentee is
    `["C00042", "Name", "not_entered"]`."""

    candidate: str
    name: str  # the real name: proctors may see it (the watermark masks it)
    state: SeatState
    attempt: str = ""
    mode: Mode = Mode.EXAM
    connected: bool = False
    ends_at: str | None = None  # this attempt's own deadline (extra time moves it)
    warnings: int = 0
    violations: int = 0
    risk: float = 0.0  # 0-100, higher is more suspicious
    risk_reasons: list[str] = []
    # connection quality: the candidate socket's round trip (keepalive ping to pong, in
    # milliseconds; None before the first pong or while offline), how many times the attempt
    # came back on a new connection, and its live media (None: no stream offered yet)
    rtt_ms: int | None = None
    reconnects: int = 0
    media: MediaStatus | None = None
    media_reason: str | None = None
    admitted: bool = False  # a proctor admitted this candidate after the entry window
    verdict: str | None = None  # the staff's verdict on a finished attempt
    score: int | None = None
    max_score: int | None = None
    passed: bool | None = None


SNAPSHOT_FIELDS: list[str] = list(AttemptSummary.__struct_fields__)


class Snapshot(_Msg, tag="snapshot", kw_only=True):
    """The exam as it stands, sent once after sign-in; one row per ticket, in candidate-code
    order (the page sorts). This is the typed form `decode_feed` gives; the wire carries it
    by columns (`SnapshotFrame`)."""

    server_time: str
    exam: ExamSummary
    fields: list[str] = msgspec.field(default_factory=lambda: list(SNAPSHOT_FIELDS))
    attempts: list[AttemptSummary]


ROW_DEFAULTS: dict[str, Any] = {
    f.name: f.default_factory() if f.default_factory is not msgspec.NODEFAULT else f.default
    for f in msgspec.structs.fields(AttemptSummary)
    if not f.required
}


def trim_column(values: list[Any], default: Any) -> list[Any]:
    """A column as the wire carries it: its trailing values equal to `default` removed (in
    place; a column of nothing but defaults is `[]`). The values are compared from the end in
    C (`map`, `index`), not a Python loop: a snapshot's columns are a thousand values long,
    mostly defaults."""
    if values and values[-1] == default:
        equal = list(map(operator.eq, reversed(values), repeat(default)))
        try:
            del values[len(values) - equal.index(False) :]
        except ValueError:  # nothing but defaults
            values.clear()
    return values


class SnapshotFrame(_Msg, tag="snapshot", kw_only=True):
    """The `snapshot` on the wire: by columns. `columns[i]` holds the values of `fields[i]`,
    one per row in row order; the first (`candidate`) has every row, any other column may be
    shorter, its missing values being that field's default (`ROW_DEFAULTS`; a column of
    defaults is `[]`). A column may be a `msgspec.Raw` JSON array, as the store wrote it."""

    server_time: str
    exam: ExamSummary
    fields: list[str] = msgspec.field(default_factory=lambda: list(SNAPSHOT_FIELDS))
    columns: list[Any]


def snapshot_frame(snapshot: Snapshot) -> SnapshotFrame:
    """A typed snapshot as the server sends it (by columns, trimmed)."""
    rows = snapshot.attempts
    columns = [
        trim_column([getattr(a, f) for a in rows], ROW_DEFAULTS.get(f, msgspec.NODEFAULT))
        for f in SNAPSHOT_FIELDS
    ]
    return SnapshotFrame(
        server_time=snapshot.server_time, exam=snapshot.exam, fields=list(SNAPSHOT_FIELDS),
        columns=columns,
    )  # fmt: skip


def typed_snapshot(frame: SnapshotFrame) -> Snapshot:
    """The rows of a snapshot received by columns, as `AttemptSummary` structs (fields the
    frame does not name take their defaults; fields this code does not know are dropped).
    ProtocolError when the columns do not fit the fields or the rows' types."""
    if len(frame.columns) != len(frame.fields) or not frame.columns:
        raise ProtocolError("a snapshot has one column per field")
    by_name = dict(zip(frame.fields, frame.columns, strict=True))
    rows = len(by_name.get("candidate", []))
    full: list[list[Any]] = []
    for name in SNAPSHOT_FIELDS:
        column = by_name.get(name, [])
        if not isinstance(column, list) or len(column) > rows:
            raise ProtocolError(f"the snapshot's column {name} is not a list of its rows")
        default = ROW_DEFAULTS.get(name)
        pad = [list(default) if isinstance(default, list) else default] * (rows - len(column))
        full.append(column + pad)
    try:
        attempts = msgspec.convert(list(zip(*full, strict=True)), list[AttemptSummary])
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid snapshot row: {exc}") from None
    return Snapshot(
        server_time=frame.server_time, exam=frame.exam, fields=list(SNAPSHOT_FIELDS),
        attempts=attempts,
    )  # fmt: skip


class Joined(_AttemptEvent, tag="joined"):
    name: str  # masked (events reach every proctor of the exam; the snapshot has real names)
    mode: Mode
    state: AttemptState
    resumed: bool
    reconnects: int = 0  # how many times this attempt came back on a new connection


class Left(_AttemptEvent, tag="left"):
    pass


class Started(_AttemptEvent, tag="started"):
    """The paper reached this attempt."""


class ClientEvent(_AttemptEvent, tag="event"):
    """An event the candidate's app reported, and the violation it recorded, if any."""

    kind: EventKind
    client_at: str | None = None
    violation: ViolationKind | None = None


class Flag(_AttemptEvent, tag="flag"):
    """A violation raised by the server's analysis (snapshots, device figures)."""

    kind: ViolationKind
    confidence: float
    snapshot: str | None = None  # the photo that raised it, for snapshot analysis


class ViolationEnded(_AttemptEvent, tag="violation_ended"):
    """A lasting violation closed: its condition cleared, or the attempt finished."""

    violation: int  # the violation's id
    kind: ViolationKind
    source: Source
    started_at: str
    ended_at: str
    duration_s: float


class Identity(_AttemptEvent, tag="identity"):
    accepted: bool
    photo: str
    reasons: list[str] = []


class AttemptFinished(_AttemptEvent, tag="attempt_finished"):
    state: AttemptState
    reason: FinishReason
    score: int | None
    max_score: int | None
    passed: bool | None
    note: str | None = None  # the words given for a termination


class Warned(_AttemptEvent, tag="warned"):
    """A warning counted toward the limit: given by the rules (`system`) or by a proctor."""

    text: str
    count: int
    limit: int | None
    source: WarningSource
    by: str  # "system" or "proctor:NAME"


class WarningLimitReached(_AttemptEvent, tag="warning_limit_reached"):
    """The attempt reached its warning limit; `action` says what the exam does about it."""

    count: int
    limit: int
    action: WarningLimitAction


class Messaged(_AttemptEvent, tag="messaged"):
    text: str
    by: str
    delivered: bool  # False: the candidate was not connected


class Extended(_AttemptEvent, tag="extended"):
    minutes: int
    ends_at: str  # the attempt's new deadline
    reason: str
    by: str


class Admitted(_AttemptEvent, tag="admitted"):
    """A late candidate may enter after the entry window (R15); `attempt` is "" (none yet)."""

    reason: str
    by: str


class Reviewed(_AttemptEvent, tag="reviewed"):
    violation: int
    verdict: Verdict
    note: str
    by: str


class IdentityOverridden(_AttemptEvent, tag="identity_overridden"):
    """A proctor accepted the identity photo the automatic check refused."""

    reason: str
    by: str


class Judged(_AttemptEvent, tag="judged"):
    """The staff's verdict on a finished attempt."""

    verdict: AttemptVerdict
    note: str
    by: str


class Media(_AttemptEvent, tag="media"):
    """The attempt's live audio and video: arriving (`live`), or not, and why (`reason`)."""

    status: MediaStatus
    reason: str | None = None


class RtcOffer(_Msg, tag="rtc_offer"):
    """A candidate's live video and audio for a proctor who asked to `watch`."""

    attempt: str
    sdp: Sdp


class RtcIce(_Msg, tag="rtc_ice"):
    """A trickled ICE candidate, either way; `attempt` names the candidate's stream."""

    attempt: Id
    candidate: str | None = None
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


class Connection(_AttemptEvent, tag="connection"):
    """The candidate socket's round trip changed noticeably (keepalive ping to pong)."""

    rtt_ms: int
    reconnects: int


# What the event bus carries: one attempt's events, published to every proctor of its exam.
AttemptEvent = (
    Joined
    | Left
    | Started
    | ClientEvent
    | Flag
    | ViolationEnded
    | Identity
    | AttemptFinished
    | Warned
    | WarningLimitReached
    | Messaged
    | Extended
    | Admitted
    | Reviewed
    | IdentityOverridden
    | Judged
    | Media
    | Connection
)
FeedMessage = (
    Snapshot
    | Joined
    | Left
    | Started
    | ClientEvent
    | Flag
    | ViolationEnded
    | Identity
    | AttemptFinished
    | Warned
    | WarningLimitReached
    | Messaged
    | Extended
    | Admitted
    | Reviewed
    | IdentityOverridden
    | Judged
    | Media
    | Connection
    | Error
    | Ack
    | RtcOffer
    | RtcIce
)

# ---------------------------------------------------------------- proctor -> server


class Verdict(StrEnum):
    """A proctor's review of one violation."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class AttemptVerdict(StrEnum):
    """The staff's verdict on a finished attempt; result publishing respects it (an
    invalidated attempt is not a pass)."""

    CLEAN = "clean"
    SUSPICIOUS = "suspicious"
    INVALIDATED = "invalidated"


class Hello(_Msg, tag="hello"):
    """Sign-in by message, for a client that cannot put the token in the address."""

    token: str


class Warn(_Msg, tag="warn"):
    id: Id
    attempt: Id
    text: Text


class Message(_Msg, tag="message"):
    id: Id
    attempt: Id
    text: Text


class Terminate(_Msg, tag="terminate"):
    id: Id
    attempt: Id
    reason: Text


class Extend(_Msg, tag="extend"):
    id: Id
    attempt: Id
    minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]
    reason: Text


class Admit(_Msg, tag="admit"):
    """Let a late candidate's first entry through (R15); `candidate` is a candidate code."""

    id: Id
    candidate: Id
    reason: Text


class Review(_Msg, tag="review"):
    id: Id
    violation: int
    verdict: Verdict
    note: Text = ""


class AcceptIdentity(_Msg, tag="accept_identity"):
    """Accept the identity photo the automatic check refused: the attempt becomes verified
    and its paper is released."""

    id: Id
    attempt: Id
    reason: Text


class Judge(_Msg, tag="verdict"):
    """The verdict on a finished attempt: clean, suspicious or invalidated."""

    id: Id
    attempt: Id
    verdict: AttemptVerdict
    note: Text = ""


class Watch(_Msg, tag="watch"):
    id: Id
    attempt: Id


class Unwatch(_Msg, tag="unwatch"):
    id: Id
    attempt: Id


class RtcAnswer(_Msg, tag="rtc_answer"):
    attempt: Id
    sdp: Sdp


Command = (
    Hello
    | Warn
    | Message
    | Terminate
    | Extend
    | Admit
    | Review
    | AcceptIdentity
    | Judge
    | Watch
    | Unwatch
    | RtcAnswer
    | RtcIce
)


def command_id(command: Command) -> str | None:
    """The client id a command's answer refers to (None for those that carry none)."""
    ref = getattr(command, "id", None)
    return ref if isinstance(ref, str) else None


# ---------------------------------------------------------------- encode / decode

_encoder = msgspec.json.Encoder()
_command_decoder = msgspec.json.Decoder(Command)
# the feed as it travels: the snapshot by columns (`decode_feed` gives it typed)
_feed_decoder = msgspec.json.Decoder(
    Union[tuple(SnapshotFrame if t is Snapshot else t for t in get_args(FeedMessage))]  # noqa: UP007
)


def encode(message: _Msg | Error | Ack) -> bytes:
    """Encode any message as the UTF-8 JSON of one text frame (`ws.send(frame, text=True)`);
    a `Snapshot` by columns (`snapshot_frame`)."""
    if isinstance(message, Snapshot):
        message = snapshot_frame(message)
    return _encoder.encode(message)


def decode_command(data: str | bytes) -> Command:
    """Decode a text frame sent by a proctor; ProtocolError when it is malformed."""
    command: Command = decode_frame(_command_decoder, data, MAX_COMMAND_FRAME)
    return command


def decode_feed(data: str | bytes) -> FeedMessage:
    """Decode a text frame sent by the server to a proctor (a console's or a test's side)."""
    message = decode_frame(_feed_decoder, data, MAX_FEED_FRAME)
    if isinstance(message, SnapshotFrame):
        return typed_snapshot(message)
    feed: FeedMessage = message
    return feed
