"""The channel between the exam server and its media process (`proctor-server media`): a
Unix socket pair carrying msgspec messages (MessagePack), each prefixed by its length (4 bytes,
big-endian).

Requests that want an answer carry `req` (a number unique per sender); the answer is a `Reply`
with the same number. Everything else is one-way. An unreadable message is dropped and
reported (`Problem` back to the sender): the length prefix keeps the next one readable. A length
beyond `MAX_MESSAGE` means the stream is out of step: the channel closes, and the server
restarts the media process.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

MAX_MESSAGE = 1 << 30  # a whole-session recording travels as one message
_LENGTH = struct.Struct(">I")


class _Msg(msgspec.Struct, tag_field="t", omit_defaults=True):
    pass


# ------------------------------------------------------------ server -> media process


class Configure(_Msg, tag="configure"):
    """The first message: what the media process runs."""

    ice_servers: list[dict[str, Any]] = []
    speech: bool = True
    live_interval_s: float = 0.0  # 0: no live frames for analysis
    clip_before_s: float = 0.0
    clip_after_s: float = 0.0
    record_sessions: bool = False
    blobs_root: str = "."  # where whole-session recordings are spooled
    skip_exams: list[str] = []
    nice: int = 10  # the media process yields the cores to the exam server (acks first)
    idle: bool = False  # or: it runs only when the exam server leaves a core idle (Linux)
    cpus: list[int] = []  # and runs on these CPUs only, when given (`serve --media-cpus`)


class Publish(_Msg, tag="publish"):
    req: int
    exam: str
    attempt: str
    sdp: str
    stream: int  # the server's number for this offer: statuses name it


class AddIce(_Msg, tag="add_ice"):
    req: int
    attempt: str
    candidate: str | None
    sdp_mid: str | None
    index: int | None


class End(_Msg, tag="end"):
    req: int
    attempt: str
    reason: str


class Finish(_Msg, tag="finish"):
    req: int
    attempt: str


class Watch(_Msg, tag="watch"):
    req: int
    watcher: str
    exam: str
    attempt: str


class WatcherAnswer(_Msg, tag="watcher_answer"):
    req: int
    watcher: str
    attempt: str
    sdp: str


class WatcherIce(_Msg, tag="watcher_ice"):
    req: int
    watcher: str
    attempt: str
    candidate: str | None
    sdp_mid: str | None
    index: int | None


class Unwatch(_Msg, tag="unwatch"):
    req: int
    watcher: str
    attempt: str | None  # None: every attempt


class ClipMark(_Msg, tag="clip_mark"):
    """A violation opened for an attempt: the clip around it is due."""

    exam: str
    attempt: str
    kind: str
    at: str  # wire time


class Tap(_Msg, tag="tap"):
    """Send every decoded frame too (`Frame`): for hooks added in the server (tests); the
    gateway then decodes video again."""


class Close(_Msg, tag="close"):
    req: int


# ------------------------------------------------------------ media process -> server


class Ready(_Msg, tag="ready"):
    pid: int


class Status(_Msg, tag="status"):
    attempt: str
    stream: int
    status: str
    reason: str | None


class StreamFigures(msgspec.Struct, array_like=True):
    attempt: str
    video_frames: int
    audio_frames: int
    width: int
    height: int
    state: str
    watchers: int


class Figures(_Msg, tag="figures"):
    """Every stream's figures now (the server answers `stats` from the latest), and the hooks'
    counters."""

    streams: list[StreamFigures]
    sampled: int = 0
    dropped: int = 0
    clip_peak_bytes: int = 0
    clip_skipped: int = 0


class SendOffer(_Msg, tag="send_offer"):
    req: int  # the reply's `value`: the proctor is still connected
    watcher: str
    attempt: str
    sdp: str


class LiveFrame(_Msg, tag="live_frame"):
    exam: str
    attempt: str
    frame_id: str
    jpeg: bytes
    at: datetime


class AddViolation(_Msg, tag="add_violation"):
    req: int  # the reply's `value`: the violation's id
    attempt: str
    kind: str
    source: str
    at: datetime
    confidence: float
    evidence: dict[str, Any] | None = None


class EndViolation(_Msg, tag="end_violation"):
    violation: int
    at: datetime
    evidence: dict[str, Any] | None = None


class Raise(_Msg, tag="raise"):
    """A violation opened by live analysis (speech): the proctors get a `flag`."""

    exam: str
    attempt: str
    kind: str
    at: str
    confidence: float


class Violations(_Msg, tag="violations"):
    req: int  # the reply's `value`: [[id, kind, server_at], ...]
    attempt: str


class SaveClip(_Msg, tag="save_clip"):
    req: int
    id: str
    attempt: str
    kind: str
    started_at: datetime
    ended_at: datetime
    path: str
    sha256: str
    size: int
    created_at: datetime
    violations: list[int]
    data: bytes


class ClipPending(_Msg, tag="clip_pending"):
    """A clip is being gathered for these violations (`marks`: [kind, at in seconds]); sent
    again when a later violation extends it, and with no marks when it is settled (handed to
    the store, or nothing to write). What the server knows is lost if the process dies."""

    attempt: str
    number: int
    marks: list[tuple[str, float]]


class Frame(_Msg, tag="frame"):
    """A decoded frame, when the server taps them (`Tap`)."""

    exam: str
    attempt: str
    kind: str  # video | audio
    format: str
    layout: str
    rate: int
    shape: list[int]
    data: bytes


# ------------------------------------------------------------ both ways


class Reply(_Msg, tag="reply"):
    req: int
    error: str | None = None
    sdp: str | None = None
    value: Any = None
    streams: list[StreamFigures] | None = None  # the media process's streams after the request


class Problem(_Msg, tag="problem"):
    """The sender got a message it could not read (it was dropped)."""

    text: str


Message = (
    Configure
    | Publish
    | AddIce
    | End
    | Finish
    | Watch
    | WatcherAnswer
    | WatcherIce
    | Unwatch
    | ClipMark
    | Tap
    | Close
    | Ready
    | Status
    | Figures
    | SendOffer
    | LiveFrame
    | AddViolation
    | EndViolation
    | Raise
    | Violations
    | SaveClip
    | ClipPending
    | Frame
    | Reply
    | Problem
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Not a message: what `receive` returns for a frame it could not decode (dropped)."""

    text: str


class ChannelClosed(Exception):
    """The other end went away, or the stream is out of step."""


class Channel:
    """One end of the socket pair: `send` frames a message, `receive` reads the next one
    (`Unreadable` for a frame it cannot decode; ChannelClosed at the end)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.unreadable = 0  # frames dropped as unreadable

    @classmethod
    async def open(cls, sock: Any) -> Channel:
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=1 << 20)
        return cls(reader, writer)

    def send(self, message: Message) -> None:
        self.send_raw(_encoder.encode(message))

    def send_raw(self, data: bytes) -> None:
        if self._writer.is_closing():
            raise ChannelClosed("the media channel is closed")
        self._writer.write(_LENGTH.pack(len(data)) + data)

    async def drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ChannelClosed(str(exc)) from None

    async def receive(self) -> Message | Unreadable:
        try:
            head = await self._reader.readexactly(_LENGTH.size)
            (length,) = _LENGTH.unpack(head)
            if length > MAX_MESSAGE:
                raise ChannelClosed(f"a message of {length} bytes: the channel is out of step")
            data = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise ChannelClosed(str(exc) or "end of the channel") from None
        try:
            message: Message = _decoder.decode(data)
            return message
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.unreadable += 1
            return Unreadable(f"an unreadable message of {length} bytes was dropped: {exc}")

    def close(self) -> None:
        self._writer.close()

    async def wait_closed(self) -> None:
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
