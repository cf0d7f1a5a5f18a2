"""Property tests of the wire: whatever bytes arrive, decoding either yields a well-typed
message or raises the one `ProtocolError`; every message survives a round trip; the binary
image frame splits back into what was framed. Budgets are bounded so the suite stays quick."""

from __future__ import annotations

import json
import struct
from typing import Any, get_args

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ProtocolError
from shared.vocabulary import EventKind, Mode

BUDGET = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(max_size=40)
ids = st.text(min_size=1, max_size=36)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=8,
)

client_messages = st.one_of(
    st.builds(
        p.Hello,
        protocol=st.integers(0, 3),
        ticket=text,
        mode=st.sampled_from(Mode),
        client=st.dictionaries(text, json_values, max_size=3),
        exam=st.none() | text,
    ),
    st.builds(p.Answer, id=ids, question=text, choice=st.lists(text, max_size=5)),
    st.builds(
        p.Event,
        id=ids,
        kind=st.sampled_from(EventKind),
        at=st.none() | text,
        detail=st.dictionaries(text, json_values, max_size=3),
    ),
    st.builds(p.Submit, id=ids),
    st.builds(p.Heartbeat),
    st.builds(
        p.Profile,
        id=ids,
        mail_to=st.builds(p.MailTo, name=text, phone=text, address=text, postcode=text),
    ),
)


@BUDGET
@given(client_messages)
def test_every_client_message_survives_a_round_trip(message: p.ClientMessage) -> None:
    assert p.decode_client(p.encode(message)) == message


@BUDGET
@given(st.binary(max_size=512) | st.text(max_size=512))
def test_any_text_frame_decodes_or_is_one_protocol_error(data: bytes | str) -> None:
    try:
        message = p.decode_client(data)
    except ProtocolError:
        return
    assert isinstance(message, p.ClientMessage)


CLIENT_TYPES: list[type[p._Msg]] = [p.Hello, p.Profile, p.Answer, p.Event, p.Heartbeat, p.Submit]


@SMALL
@given(
    st.dictionaries(st.text(max_size=12), json_values, max_size=4), st.sampled_from(CLIENT_TYPES)
)
def test_json_objects_with_any_fields_decode_or_are_refused(
    fields: dict[str, Any], kind: type[p._Msg]
) -> None:
    tag = kind.__struct_config__.tag
    raw = json.dumps({**fields, "type": tag})
    try:
        message = p.decode_client(raw)
    except ProtocolError:
        return
    assert type(message) is kind


@BUDGET
@given(
    st.sampled_from(["identity_photo", "snapshot"]),
    ids,
    st.none() | text,
    st.binary(min_size=1, max_size=2048),
)
def test_image_frames_split_back_into_what_was_framed(
    kind: p.ImageKind, ident: str, at: str | None, body: bytes
) -> None:
    header = p.ImageHeader(type=kind, id=ident, at=at)
    assert p.decode_image(p.encode_image(header, body)) == (header, body)


@BUDGET
@given(st.binary(max_size=600))
def test_any_binary_frame_decodes_or_is_one_protocol_error(frame: bytes) -> None:
    try:
        header, body = p.decode_image(frame)
    except ProtocolError:
        return
    assert isinstance(header, p.ImageHeader) and body


@BUDGET
@given(st.integers(0, 2**32 - 1), st.binary(max_size=64))
def test_a_lying_header_length_is_refused(length: int, rest: bytes) -> None:
    frame = struct.pack(">I", length) + rest
    try:
        p.decode_image(frame)
    except ProtocolError:
        return
    assert 0 < length <= len(rest)


@BUDGET
@given(st.binary(max_size=512) | st.text(max_size=512))
def test_any_proctor_frame_decodes_or_is_one_protocol_error(data: bytes | str) -> None:
    try:
        command = pp.decode_command(data)
    except ProtocolError:
        return
    assert isinstance(command, get_args(pp.Command))


commands = st.one_of(
    st.builds(pp.Warn, id=ids, attempt=ids, text=st.text(min_size=1, max_size=100)),
    st.builds(pp.Message, id=ids, attempt=ids, text=st.text(min_size=1, max_size=100)),
    st.builds(pp.Terminate, id=ids, attempt=ids, reason=st.text(min_size=1, max_size=100)),
    st.builds(
        pp.Extend,
        id=ids,
        attempt=ids,
        minutes=st.integers(1, 24 * 60),
        reason=st.text(min_size=1, max_size=100),
    ),
    st.builds(pp.Watch, id=ids, attempt=ids),
    st.builds(pp.Unwatch, id=ids, attempt=ids),
)


@BUDGET
@given(commands)
def test_proctor_commands_survive_a_round_trip(command: pp.Command) -> None:
    assert pp.decode_command(msgspec.json.encode(command)) == command
