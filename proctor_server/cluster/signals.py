"""What one exam-server process tells the others (pure: the messages and their encoding).

`Event`: a proctors' event, encoded once by the process where it happened; every other process
hands the same bytes to its own proctors. `Watching`: the exams whose events a process's proctors
follow (sent when that changes and every few seconds, so that nobody builds events nobody reads).
The rest concern one attempt and are acted on by the process holding its candidate's connection:
`Entered` (a newer connection elsewhere replaces it), `Finished`, `IdentityAccepted`,
`DeadlineMoved` (read the attempt again from the store), `Deliver` (a proctor's warning or
notice for the candidate; answered with `Delivered` by the process that sent it).

Who is connected where: every process keeps which attempts the others hold a connection of
(their proctors' grids show those candidates connected too). `Entered` says the sender holds
the attempt's connection now, `Gone` that its connection there ended with no newer one; a
process that starts sends `RollCall`, answered by each other process's `Roster`, every attempt
connected to it."""

from __future__ import annotations

import msgspec

from shared.vocabulary import FinishReason

# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; what is longer travels by a row.
MAX_PAYLOAD = 7900


class _Signal(msgspec.Struct, tag_field="t", frozen=True, kw_only=True):
    origin: str  # the sending process's id
    # the sender's count: PostgreSQL folds identical payloads sent in one transaction into one
    n: int = 0


class Event(_Signal, tag="event", frozen=True, kw_only=True):
    exam: str
    frame: str  # the event as proctors receive it (JSON text)


class Watching(_Signal, tag="watching", frozen=True, kw_only=True):
    exams: list[str]


class _AttemptSignal(_Signal, frozen=True, kw_only=True):
    exam: str
    attempt: str


class Entered(_AttemptSignal, tag="entered", frozen=True, kw_only=True):
    pass


class Finished(_AttemptSignal, tag="finished", frozen=True, kw_only=True):
    reason: FinishReason
    note: str = ""


class IdentityAccepted(_AttemptSignal, tag="identity_accepted", frozen=True, kw_only=True):
    pass


class DeadlineMoved(_AttemptSignal, tag="deadline_moved", frozen=True, kw_only=True):
    pass


class Deliver(_AttemptSignal, tag="deliver", frozen=True, kw_only=True):
    ref: str  # answered by `Delivered` with the same ref
    message: str  # the candidate's message (shared.protocol's JSON text)


class Delivered(_Signal, tag="delivered", frozen=True, kw_only=True):
    ref: str


class Gone(_AttemptSignal, tag="gone", frozen=True, kw_only=True):
    pass


class RollCall(_Signal, tag="roll_call", frozen=True, kw_only=True):
    pass


class Roster(_Signal, tag="roster", frozen=True, kw_only=True):
    attempts: list[str]  # every attempt with a connection to the sender, now


AttemptSignal = Entered | Finished | IdentityAccepted | DeadlineMoved | Deliver | Gone
Signal = Event | Watching | Delivered | RollCall | Roster | AttemptSignal

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Signal)
_many = msgspec.json.Decoder(list[Signal])


def encode(signal: Signal) -> str:
    return _encoder.encode(signal).decode()


def decode(payload: str | bytes) -> Signal:
    """A signal from another process (msgspec.ValidationError / DecodeError when malformed)."""
    signal: Signal = _decoder.decode(payload)
    return signal


def decode_many(payload: str | bytes) -> list[Signal]:
    """Signals sent together (a JSON array, in the order sent)."""
    signals: list[Signal] = _many.decode(payload)
    return signals
