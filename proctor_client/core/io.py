"""What the candidate's exam flow takes in and gives out: the inputs (what happened) and the
commands (what the runtime must do). `proctor_client.core.flow.step` maps one to the other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from proctor_client.core.state import ClientState
from shared import protocol as p
from shared.vocabulary import EventKind

# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Connected:
    """The socket is open; the hello goes out first."""

    ticket: str
    client: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    reason: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    code: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Received:
    message: p.ServerMessage


@dataclass(frozen=True, slots=True)
class TakePhoto:
    id: str
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class GiveProfile:
    id: str
    name: str
    phone: str
    address: str
    postcode: str


@dataclass(frozen=True, slots=True)
class Choose:
    id: str
    question: str
    choice: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    id: str
    kind: EventKind | str  # anything else than an EventKind is refused
    at: str  # the client's claimed time (wire format), evidence only
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Accept:
    """The candidate accepted the rules of conduct and the recording notice (R16)."""

    id: str
    version: str


@dataclass(frozen=True, slots=True)
class HandIn:
    id: str


@dataclass(frozen=True, slots=True)
class Snap:
    id: str
    at: str
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class Restore:
    """Messages found in the outbox when the app starts again (oldest first)."""

    messages: Sequence[p.ClientMessage]


@dataclass(frozen=True, slots=True)
class Close:
    pass


Input = (
    Connected
    | ConnectFailed
    | Disconnected
    | Received
    | TakePhoto
    | GiveProfile
    | Choose
    | Report
    | Accept
    | HandIn
    | Snap
    | Restore
    | Close
)

# ---------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Send:
    """Send a text frame now; not kept (hello, heartbeat)."""

    text: str


@dataclass(frozen=True, slots=True)
class SendImage:
    """Send a binary frame now; not kept (the identity photo: retaken if lost)."""

    frame: bytes


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Keep in the outbox until acknowledged, and send it when connected (in order)."""

    id: str
    kind: str  # answer | event | profile | consent | submit | snapshot
    data: str | bytes  # a text frame or a binary frame


@dataclass(frozen=True, slots=True)
class Forget:
    """The server stored (or refused) this message: drop it from the outbox."""

    id: str


@dataclass(frozen=True, slots=True)
class Replay:
    """A new session began: send the whole outbox again, oldest first."""


@dataclass(frozen=True, slots=True)
class RetryLater:
    """The server refused a message for now (`rate_limited`, `storage_unavailable`): it stays in
    the outbox; send the outbox again after a back-off, on this connection."""

    ref: str


@dataclass(frozen=True, slots=True)
class Stop:
    """Close the connection and do not reconnect."""

    reason: str


Command = Send | SendImage | Enqueue | Forget | Replay | RetryLater | Stop
Step = tuple[ClientState, list[Command]]
