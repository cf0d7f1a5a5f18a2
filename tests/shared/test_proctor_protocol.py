"""The proctor channel's declarations: every command decodes to its type, every event survives
a round trip, and anything malformed is one ProtocolError."""

from __future__ import annotations

from typing import Any

import pytest

from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ProtocolError
from shared.states import AttemptState
from shared.vocabulary import EventKind, FinishReason, Mode, Source, ViolationKind

COMMANDS: list[tuple[str, pp.Command, str | None]] = [
    ('{"type":"hello","token":"T"}', pp.Hello(token="T"), None),
    (
        '{"type":"warn","id":"1","attempt":"A","text":"Face the camera."}',
        pp.Warn(id="1", attempt="A", text="Face the camera."),
        "1",
    ),
    (
        '{"type":"extend","id":"2","attempt":"A","minutes":10,"reason":"outage"}',
        pp.Extend(id="2", attempt="A", minutes=10, reason="outage"),
        "2",
    ),
    (
        '{"type":"review","id":"3","violation":9,"verdict":"confirmed"}',
        pp.Review(id="3", violation=9, verdict=pp.Verdict.CONFIRMED),
        "3",
    ),
    (
        '{"type":"admit","id":"4","candidate":"C00042","reason":"late train","extra":1}',
        pp.Admit(id="4", candidate="C00042", reason="late train"),
        "4",
    ),
    (
        '{"type":"rtc_ice","attempt":"A","candidate":"c","sdp_mid":"0","sdp_mline_index":0}',
        pp.RtcIce(attempt="A", candidate="c", sdp_mid="0", sdp_mline_index=0),
        None,
    ),
]


@pytest.mark.parametrize(
    ("raw", "expected", "ref"), COMMANDS, ids=[c[1].__class__.__name__ for c in COMMANDS]
)
def test_commands_decode_to_their_type(raw: str, expected: pp.Command, ref: str | None) -> None:
    command = pp.decode_command(raw)
    assert command == expected
    assert pp.command_id(command) == ref


MALFORMED = [
    "",
    "{",
    "[]",
    '{"id":"1"}',  # no type
    '{"type":"snapshot"}',  # a server message, not a command
    '{"type":"warn","id":"","attempt":"A","text":"t"}',  # empty id
    '{"type":"warn","id":"1","attempt":"A"}',  # no text
    '{"type":"extend","id":"1","attempt":"A","minutes":-5,"reason":"r"}',
    '{"type":"extend","id":"1","attempt":"A","minutes":"10","reason":"r"}',
    '{"type":"review","id":"1","violation":"V","verdict":"confirmed"}',
    '{"type":"review","id":"1","violation":1,"verdict":"perhaps"}',
    '{"type":"terminate","id":"1","attempt":"A","reason":"' + "r" * 2001 + '"}',
    " " * (pp.MAX_COMMAND_FRAME + 1),
    '{"type":"warn","id":"1","attempt":"A","text":"t","extra":' + "[" * 5000 + "]" * 5000 + "}",
]


@pytest.mark.parametrize("raw", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_commands_are_protocol_errors(raw: str) -> None:
    with pytest.raises(ProtocolError):
        pp.decode_command(raw)


AT = "2026-07-25T06:00:00.000Z"
ABOUT: dict[str, Any] = {"exam": "E", "at": AT, "attempt": "A", "candidate": "C1"}
MESSAGES: list[pp.FeedMessage] = [
    pp.Snapshot(
        server_time=AT,
        exam=pp.ExamSummary(id="E", title="Cloud", starts_at=AT, ends_at=AT),
        attempts=[
            pp.AttemptSummary(
                attempt="A",
                candidate="C1",
                name="A**",
                mode=Mode.EXAM,
                state=pp.SeatState.IN_PROGRESS,
                connected=True,
                score=None,
                max_score=None,
                passed=None,
                warnings=1,
                violations=2,
                risk=12.5,
                risk_reasons=["left the exam screen: 2 times"],
            )
        ],
    ),
    pp.Joined(**ABOUT, name="A**", mode=Mode.TRIAL, state=AttemptState.WAITING, resumed=False),
    pp.Left(**ABOUT),
    pp.Started(**ABOUT),
    pp.ClientEvent(**ABOUT, kind=EventKind.FOCUS_LOST, violation=ViolationKind.LEFT_EXAM_WINDOW),
    pp.Flag(**ABOUT, kind=ViolationKind.FACE_ABSENT, confidence=0.8, snapshot="s1"),
    pp.ViolationEnded(
        **ABOUT,
        violation=3,
        kind=ViolationKind.FACE_ABSENT,
        source=Source.SERVER,
        started_at=AT,
        ended_at=AT,
        duration_s=0.0,
    ),
    pp.Identity(**ABOUT, accepted=False, photo="p1", reasons=["too dark"]),
    pp.AttemptFinished(
        **ABOUT,
        state=AttemptState.TIMED_OUT,
        reason=FinishReason.TIME_UP,
        score=5,
        max_score=20,
        passed=False,
    ),
    p.Error(code="not_allowed", message="no", ref="1"),
    p.Ack(id="1"),
    pp.RtcOffer(attempt="A", sdp="v=0"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=[type(m).__name__ for m in MESSAGES])
def test_feed_messages_survive_a_round_trip(message: pp.FeedMessage) -> None:
    assert pp.decode_feed(pp.encode(message)) == message


def test_an_event_of_an_unknown_kind_is_refused() -> None:
    frame = pp.encode(pp.Left(**ABOUT)).replace(b'"left"', b'"vanished"')
    with pytest.raises(ProtocolError):
        pp.decode_feed(frame)
