"""The wire schema: every message round-trips; malformed input is one ProtocolError."""

from __future__ import annotations

import struct

import pytest

from shared import protocol as p
from shared.errors import ErrorCode, ProtocolError
from shared.vocabulary import EventKind, Mode

CLIENT_MESSAGES: list[p.ClientMessage] = [
    p.Hello(protocol=1, ticket="T", mode=Mode.TRIAL, client={"os": "Windows 10"}),
    p.Profile(
        id="1", mail_to=p.MailTo(name="张三", phone="138", address="北京", postcode="100000")
    ),
    p.Answer(id="2", question="qabc", choice=["o1", "o2"]),
    p.Event(id="3", kind=EventKind.FOCUS_LOST, at="2026-07-25T06:00:00.000Z", detail={"x": 1}),
    p.Heartbeat(),
    p.Submit(id="4"),
]


@pytest.mark.parametrize("message", CLIENT_MESSAGES, ids=lambda m: type(m).__name__)
def test_client_messages_round_trip(message: p.ClientMessage) -> None:
    assert p.decode_client(p.encode(message)) == message


def test_the_tag_is_the_wire_type() -> None:
    assert p.encode(p.Heartbeat()) == '{"type":"heartbeat"}'
    assert '"type":"warning"' in p.encode(p.ProctorWarning(text="x"))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("not json", "malformed JSON"),
        ("[1, 2]", "invalid message"),
        ('{"no": "type"}', "invalid message"),
        ('{"type": "launch_missiles"}', "invalid message"),
        ('{"type": "answer", "id": "1", "question": "q"}', "choice"),
        ('{"type": "answer", "id": 7, "question": "q", "choice": []}', "id"),
        ('{"type": "hello", "protocol": "one", "ticket": "T"}', "protocol"),
        ('{"type": "hello", "protocol": 1, "ticket": "T", "mode": "party"}', "mode"),
        ("x" * (p.MAX_TEXT_FRAME + 1), "exceeds"),
        (
            '{"type": "event", "id": "e", "kind": "focus_lost", "detail": {"a": '
            + "[" * 3000
            + "]" * 3000
            + "}}",
            "nested too deeply",
        ),
    ],
)
def test_malformed_text_is_a_protocol_error(raw: str, fragment: str) -> None:
    with pytest.raises(ProtocolError) as info:
        p.decode_client(raw)
    assert info.value.code is ErrorCode.PROTOCOL_ERROR
    assert fragment in info.value.message


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    m = p.decode_client('{"type": "heartbeat", "future": true}')
    assert isinstance(m, p.Heartbeat)


def test_image_frames_round_trip() -> None:
    header = p.ImageHeader(type="snapshot", id="s1", at="2026-07-25T06:00:00.000Z")
    frame = p.encode_image(header, b"\xff\xd8jpeg")
    assert p.decode_image(frame) == (header, b"\xff\xd8jpeg")


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (b"\x00\x00", "shorter"),
        (struct.pack(">I", 0) + b"{}", "out of range"),
        (struct.pack(">I", 500) + b"{}", "out of range"),
        (struct.pack(">I", 99999) + b"x" * 10, "out of range"),
        (struct.pack(">I", 2) + b"{}jpeg", "header"),
        (struct.pack(">I", 3) + b"{x}jpeg", "header"),
        (b"", "shorter"),
    ],
)
def test_bad_image_frames_are_protocol_errors(frame: bytes, fragment: str) -> None:
    with pytest.raises(ProtocolError) as info:
        p.decode_image(frame)
    assert fragment in info.value.message


def test_an_image_frame_without_image_bytes_is_refused() -> None:
    head = b'{"type":"snapshot","id":"1"}'
    with pytest.raises(ProtocolError, match="no image"):
        p.decode_image(struct.pack(">I", len(head)) + head)


def test_an_unknown_image_type_is_refused() -> None:
    head = b'{"type":"selfie","id":"1"}'
    with pytest.raises(ProtocolError, match="header"):
        p.decode_image(struct.pack(">I", len(head)) + head + b"\xff\xd8")
