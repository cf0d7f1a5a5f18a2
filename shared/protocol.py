"""The wire protocol: every message on /ws/candidate, declared once, encoded and decoded here.

Text frames are JSON objects tagged by ``type``. Binary frames carry images: a 4-byte
big-endian header length N, N bytes of UTF-8 JSON header, then the JPEG bytes.
Untrusted input is decoded by msgspec against these declarations; anything malformed
becomes one :class:`ProtocolError`. No other module parses wire data.
"""

from __future__ import annotations

import struct
from typing import Annotated, Any, Literal

import msgspec

from shared.errors import ErrorCode, ProtocolError
from shared.vocabulary import EventKind, FinishReason, Mode
from shared.vocabulary import WarningLimitAction as WarningLimitAction
from shared.vocabulary import WarningSource as WarningSource

PROTOCOL_VERSION = 1
MAX_TEXT_FRAME = 64 * 1024  # bytes; a hello or an answer is far smaller
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # one JPEG
MAX_HEADER_BYTES = 4096
MAX_FRAME = MAX_IMAGE_BYTES + MAX_HEADER_BYTES + 4  # the socket's max_size


class _Msg(msgspec.Struct, tag_field="type", forbid_unknown_fields=False, omit_defaults=False):
    pass


# ---------------------------------------------------------------- candidate -> server


class Hello(_Msg, tag="hello"):
    protocol: int
    ticket: str
    mode: Mode = Mode.EXAM
    client: dict[str, Any] = {}
    exam: str | None = None  # the exam the client expects; a ticket for another is refused


class MailTo(msgspec.Struct):
    name: str
    phone: str
    address: str
    postcode: str


class Profile(_Msg, tag="profile"):
    id: str
    mail_to: MailTo


class Answer(_Msg, tag="answer"):
    id: str
    question: str
    choice: list[str]


class Event(_Msg, tag="event"):
    id: str
    kind: EventKind
    at: str | None = None  # the client's claimed time, kept as evidence only
    detail: dict[str, Any] = {}


class Heartbeat(_Msg, tag="heartbeat"):
    pass


class Submit(_Msg, tag="submit"):
    id: str


class Consent(_Msg, tag="consent"):
    """The candidate accepted the rules of conduct and the recording notice (R16)."""

    id: str
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class RtcOffer(_Msg, tag="rtc_offer"):
    sdp: str


class RtcIce(_Msg, tag="rtc_ice"):
    candidate: str | None = None
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


ClientMessage = Hello | Profile | Answer | Event | Heartbeat | Submit | Consent | RtcOffer | RtcIce

# ---------------------------------------------------------------- server -> candidate


class ExamInfo(msgspec.Struct):
    id: str
    title: str
    starts_at: str
    entry_opens_at: str
    entry_closes_at: str
    ends_at: str


class WatermarkInfo(msgspec.Struct):
    text: str
    nonce: str


class IceServer(msgspec.Struct, omit_defaults=True):
    """A STUN or TURN server for live media, as the browser's RTCIceServer spells it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class CandidateInfo(msgspec.Struct):
    code: str
    name: str  # masked


class Welcome(_Msg, tag="welcome"):
    session: str
    mode: Mode
    exam: ExamInfo
    server_time: str
    snapshot_interval_s: int
    watermark: WatermarkInfo
    candidate: CandidateInfo
    state: str
    identity_accepted: bool = False
    profile_saved: bool = False
    consent_version: str | None = None  # the rules of conduct this attempt accepted, if any
    warning_limit: int | None = None
    warnings_used: int = 0
    resumed: bool = False
    # what reaching `warning_limit` does: "alert" (the proctors are told, the exam goes on) or
    # "terminate" (the attempt ends); None when there is no limit
    warning_limit_action: WarningLimitAction | None = None
    media: bool = False  # the server takes live audio and video (`rtc_offer`) on this socket
    ice_servers: list[IceServer] = []  # STUN/TURN servers for that live media


class Error(_Msg, tag="error"):
    code: str
    message: str
    ref: str | None = None


class Ack(_Msg, tag="ack"):
    id: str


class IdentityResult(_Msg, tag="identity_result"):
    id: str
    accepted: bool
    reasons: list[str] = []  # in English, for people
    codes: list[str] = []  # stable codes of the same reasons, for translations


class PaperOption(msgspec.Struct):
    id: str
    text: str


class PaperQuestion(msgspec.Struct):
    id: str
    text: str
    multiple: bool
    options: list[PaperOption]
    points: int = 1


class Paper(_Msg, tag="paper"):
    questions: list[PaperQuestion]
    ends_at: str
    server_time: str
    saved: dict[str, list[str]] = {}  # answers already stored for this attempt (on resume)


class Result(_Msg, tag="result"):
    score: int
    max_score: int
    passed: bool
    reason: FinishReason = FinishReason.SUBMITTED
    counts: bool = True  # False for a trial


class ProctorWarning(_Msg, tag="warning"):
    text: str
    count: int | None = None
    limit: int | None = None
    source: WarningSource = WarningSource.SYSTEM  # "proctor": a person warned the candidate


class Notice(_Msg, tag="notice"):
    """A proctor's message to the candidate; it is not a warning and counts toward nothing."""

    text: str


class Deadline(_Msg, tag="deadline"):
    """This attempt's deadline moved (a proctor gave extra time): answers count until then."""

    ends_at: str


class Terminated(_Msg, tag="terminated"):
    reason: str


class TimeUp(_Msg, tag="time_up"):
    at: str


class Watermark(_Msg, tag="watermark"):
    text: str
    nonce: str


class HeartbeatAck(_Msg, tag="heartbeat_ack"):
    server_time: str


class RtcAnswer(_Msg, tag="rtc_answer"):
    sdp: str


class MediaReport(_Msg, tag="media_report"):
    """What the server received of a live-media probe so far (/ws/media-probe, once a second)."""

    video_frames: int
    audio_frames: int
    width: int = 0
    height: int = 0
    state: str = ""  # the server's peer connection state (new, connecting, connected, failed)
    ice_servers: list[IceServer] = []  # in the first report, sent before the offer


ServerMessage = (
    Welcome
    | Error
    | Ack
    | IdentityResult
    | Paper
    | Result
    | ProctorWarning
    | Notice
    | Deadline
    | Terminated
    | TimeUp
    | Watermark
    | HeartbeatAck
    | RtcAnswer
    | Notice
    | Deadline
    | MediaReport
)

# ---------------------------------------------------------------- binary frames

ImageKind = Literal["identity_photo", "snapshot"]


class ImageHeader(msgspec.Struct, forbid_unknown_fields=False):
    type: ImageKind
    id: str
    at: str | None = None


# ---------------------------------------------------------------- the speed test (/ws/bandwidth)


class BandwidthDownload(_Msg, tag="download"):
    """Ask for `bytes` bytes in binary messages, then `download_done` (the download test)."""

    bytes: Annotated[int, msgspec.Meta(ge=1)]


# ---------------------------------------------------------------- encode / decode

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(ClientMessage)
_server_decoder = msgspec.json.Decoder(ServerMessage)
_header_decoder = msgspec.json.Decoder(ImageHeader)
_bandwidth_decoder = msgspec.json.Decoder(BandwidthDownload)


def encode(message: _Msg) -> str:
    """Encode any message as a JSON text frame."""
    return _encoder.encode(message).decode()


def encode_bytes(message: _Msg) -> bytes:
    """Encode any message as a JSON text frame's UTF-8 bytes, for a sender that takes them."""
    return _encoder.encode(message)


def decode_frame(
    decoder: msgspec.json.Decoder[Any], data: str | bytes, limit: int = MAX_TEXT_FRAME
) -> Any:
    """One text frame through a schema's decoder: anything malformed, oversized or nested
    too deeply becomes one ProtocolError (the proctor channel decodes through this too)."""
    if len(data) > limit:
        raise ProtocolError(f"text frame of {len(data)} bytes exceeds {limit}")
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid message: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc}") from None
    except RecursionError:  # thousands of nested brackets: refused like any malformed frame
        raise ProtocolError("the message is nested too deeply") from None


def decode_client(data: str | bytes) -> ClientMessage:
    """Decode a text frame sent by a candidate; ProtocolError when it is malformed."""
    message: ClientMessage = decode_frame(_client_decoder, data)
    return message


def decode_bandwidth(data: str | bytes) -> BandwidthDownload:
    """Decode a text frame on /ws/bandwidth; ProtocolError when it is malformed."""
    request: BandwidthDownload = decode_frame(_bandwidth_decoder, data)
    return request


def decode_server(data: str | bytes) -> ServerMessage:
    """Decode a text frame sent by the server (the client's side)."""
    message: ServerMessage = decode_frame(_server_decoder, data)
    return message


_LEN = struct.Struct(">I")


def encode_image(header: ImageHeader, jpeg: bytes) -> bytes:
    """Build a binary frame: header length, JSON header, image bytes."""
    head = _encoder.encode(header)
    return _LEN.pack(len(head)) + head + jpeg


def decode_image(frame: bytes) -> tuple[ImageHeader, bytes]:
    """Split a binary frame; ProtocolError on a bad length, header or empty image."""
    if len(frame) < _LEN.size:
        raise ProtocolError("binary frame shorter than its 4-byte header length")
    (length,) = _LEN.unpack_from(frame)
    if length == 0 or length > MAX_HEADER_BYTES or _LEN.size + length > len(frame):
        raise ProtocolError(f"binary frame header length {length} is out of range")
    try:
        header = _header_decoder.decode(frame[_LEN.size : _LEN.size + length])
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ProtocolError(f"invalid binary frame header: {exc}") from None
    body = frame[_LEN.size + length :]
    if not body:
        raise ProtocolError("binary frame carries no image")
    if len(body) > MAX_IMAGE_BYTES:
        raise ProtocolError(f"image of {len(body)} bytes exceeds {MAX_IMAGE_BYTES}")
    return header, bytes(body)


MEDIA_REF = "rtc_offer"  # the `ref` of an error about live media: never about the exam itself


def error(code: ErrorCode, message: str, ref: str | None = None) -> Error:
    return Error(code=code.value, message=message, ref=ref)
