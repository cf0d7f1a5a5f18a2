"""The pure flow from connecting to the paper: hello, welcome, identity, profile, errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flow_messages import paper, welcome

from proctor_client.core import flow as f
from proctor_client.core.state import ClientState, Phase
from shared import protocol as p
from shared.vocabulary import Mode

NOW = 1000.0


def run(
    state: ClientState, *events: f.Input, now: float = NOW
) -> tuple[ClientState, list[f.Command]]:
    commands: list[f.Command] = []
    for event in events:
        state, more = f.step(state, event, now)
        commands.extend(more)
    return state, commands


def test_connecting_sends_hello_with_ticket_mode_and_client_signals() -> None:
    state, commands = run(ClientState(mode=Mode.TRIAL), f.Connected("TICKET", {"os": "linux"}))
    assert state.phase is Phase.CONNECTING
    assert commands == [
        f.Send(
            p.encode(p.Hello(protocol=1, ticket="TICKET", mode=Mode.TRIAL, client={"os": "linux"}))
        )
    ]


def test_a_connection_dropped_before_welcome_counts_as_a_failure() -> None:
    state, _ = run(ClientState(), f.Connected("T"), f.Disconnected(1006))
    assert (state.phase, state.connect_failures) == (Phase.OFFLINE, 1)
    state, _ = run(state, f.Received(welcome()), f.Disconnected(1006))
    assert (state.phase, state.connect_failures, state.offline) == (Phase.IDENTITY, 0, True)


def test_a_server_that_cannot_be_reached_is_offline_and_counts_failures() -> None:
    state, commands = run(ClientState(), f.ConnectFailed("refused"), f.ConnectFailed("refused"))
    assert (state.phase, state.offline, state.connect_failures) == (Phase.OFFLINE, True, 2)
    assert commands == []


@pytest.mark.parametrize(
    ("welcome_kwargs", "mode", "phase"),
    [
        ({}, Mode.EXAM, Phase.IDENTITY),
        ({"identity_accepted": True}, Mode.EXAM, Phase.PROFILE),
        ({"identity_accepted": True, "profile_saved": True}, Mode.EXAM, Phase.WAITING_ROOM),
        ({"identity_accepted": True, "mode": Mode.TRIAL}, Mode.TRIAL, Phase.WAITING_ROOM),
        ({"mode": Mode.TRIAL}, Mode.TRIAL, Phase.IDENTITY),
    ],
)
def test_welcome_leads_to_the_first_step_not_yet_done(
    welcome_kwargs: dict[str, object], mode: Mode, phase: Phase
) -> None:
    state, commands = run(ClientState(mode=mode), f.Received(welcome(**welcome_kwargs)))
    assert state.phase is phase
    assert state.connected and state.welcomed and not state.offline
    assert commands == [f.Replay()]


def test_welcome_places_the_start_on_the_monotonic_clock_from_server_time() -> None:
    # server says it is 13:50:00; the start is 14:00:00, the end 15:00:00
    state, _ = run(ClientState(), f.Received(welcome(server_time="2026-07-25T13:50:00.000Z")))
    assert state.seconds_to_start(NOW) == 600.0
    assert state.seconds_to_start(NOW + 30.5) == 569.5
    assert state.seconds_left(NOW) == 4200.0
    assert state.seconds_to_start(NOW + 9999) == 0.0  # never negative


def test_heartbeat_ack_re_anchors_the_countdown() -> None:
    state, _ = run(ClientState(), f.Received(welcome(server_time="2026-07-25T13:50:00.000Z")))
    # 100 s of the client's monotonic clock later the server says only 90 s passed
    state, _ = f.step(state, f.Received(p.HeartbeatAck("2026-07-25T13:51:30.000Z")), NOW + 100)
    assert state.seconds_to_start(NOW + 100) == 510.0


def test_a_bad_server_time_keeps_the_previous_anchor() -> None:
    state, _ = run(ClientState(), f.Received(welcome(server_time="2026-07-25T13:50:00.000Z")))
    after, _ = f.step(state, f.Received(p.HeartbeatAck("yesterday")), NOW + 5)
    assert after.starts_at_mono == state.starts_at_mono


@pytest.mark.parametrize("code", ["bad_ticket", "entry_not_open", "entry_closed", "exam_over"])
def test_refusals_of_entry_are_fatal_and_stop(code: str) -> None:
    state, commands = run(ClientState(), f.Received(p.Error(code=code, message="no")))
    assert state.phase is Phase.ERROR
    assert state.error is not None and (state.error.code, state.error.fatal) == (code, True)
    assert state.finished and not state.offline
    assert commands == [f.Stop(code)]


def test_a_protocol_error_without_ref_is_shown_but_not_fatal() -> None:
    state, _ = run(ClientState(), f.Received(welcome()))
    state, commands = run(state, f.Received(p.Error(code="protocol_error", message="bad")))
    assert state.phase is Phase.IDENTITY
    assert state.error is not None and not state.error.fatal
    assert commands == []


def welcomed(**kwargs: object) -> ClientState:
    state, _ = run(ClientState(), f.Received(welcome(**kwargs)))
    return state


JPEG = b"\xff\xd8\xff\xe0" + b"0" * 100


def test_identity_photo_goes_out_as_a_binary_frame_and_a_refusal_allows_a_retake() -> None:
    state, commands = run(welcomed(), f.TakePhoto("ph1", JPEG))
    assert state.identity_pending == "ph1"
    assert isinstance(commands[0], f.SendImage)
    header, body = p.decode_image(commands[0].frame)
    assert (header.type, header.id, body) == ("identity_photo", "ph1", JPEG)
    state, _ = run(state, f.Received(p.IdentityResult("ph1", False, ["no face"])))
    assert state.phase is Phase.IDENTITY
    assert (state.identity_pending, state.identity_reasons) == (None, ("no face",))
    state, _ = run(state, f.TakePhoto("ph2", JPEG), f.Received(p.IdentityResult("ph2", True)))
    assert state.identity_accepted and state.identity_reasons == ()
    assert state.phase is Phase.PROFILE


def test_the_result_for_an_older_photo_is_ignored() -> None:
    state, _ = run(welcomed(), f.TakePhoto("ph2", JPEG))
    state, _ = run(state, f.Received(p.IdentityResult("ph1", True)))
    assert not state.identity_accepted and state.identity_pending == "ph2"


def test_an_error_about_the_photo_is_a_reason_to_retake() -> None:
    state, commands = run(welcomed(), f.TakePhoto("ph1", JPEG))
    state, commands = run(state, f.Received(p.Error("protocol_error", "too big", ref="ph1")))
    assert state.identity_pending is None and state.identity_reasons == ("too big",)
    assert commands == [f.Forget("ph1")]


@pytest.mark.parametrize(
    ("state", "jpeg", "match"),
    [
        (welcomed(), b"GIF89a", "must be a JPEG"),
        (welcomed(), b"", "must be a JPEG"),
        (welcomed(), b"\xff\xd8" + b"0" * p.MAX_IMAGE_BYTES, "larger than"),
        (replace(welcomed(), connected=False, offline=True), JPEG, "offline"),
        (welcomed(identity_accepted=True), JPEG, "cannot send the identity photo now"),
        (ClientState(), JPEG, "connecting"),
    ],
)
def test_bad_photos_are_refused_and_change_nothing(
    state: ClientState, jpeg: bytes, match: str
) -> None:
    with pytest.raises(f.InvalidAction, match=match):
        f.step(state, f.TakePhoto("x", jpeg), NOW)


def test_a_photo_in_flight_is_dropped_with_the_connection() -> None:
    state, _ = run(welcomed(), f.TakePhoto("ph1", JPEG), f.Disconnected(1006))
    assert state.identity_pending is None and state.offline and not state.connected
    assert state.phase is Phase.IDENTITY


ADDRESS = ("张三", "13800000000", "1 Road, Beijing", "100000")


def test_profile_is_kept_in_the_outbox_and_saved_on_ack() -> None:
    state, commands = run(welcomed(identity_accepted=True), f.GiveProfile("pr1", *ADDRESS))
    assert state.phase is Phase.WAITING_ROOM and state.profile_given and not state.profile_saved
    (enqueue,) = commands
    assert isinstance(enqueue, f.Enqueue) and (enqueue.id, enqueue.kind) == ("pr1", "profile")
    sent = p.decode_client(enqueue.data)
    assert isinstance(sent, p.Profile) and sent.mail_to == p.MailTo(*ADDRESS)
    state, commands = run(state, f.Received(p.Ack("pr1")))
    assert state.profile_saved and commands == [f.Forget("pr1")]


def test_a_refused_profile_asks_for_the_address_again() -> None:
    state, _ = run(welcomed(identity_accepted=True), f.GiveProfile("pr1", *ADDRESS))
    state, commands = run(state, f.Received(p.Error("protocol_error", "bad postcode", "pr1")))
    assert state.phase is Phase.PROFILE and commands == [f.Forget("pr1")]


@pytest.mark.parametrize(
    ("state", "address", "match"),
    [
        (welcomed(identity_accepted=True), ("", "1", "a", "1"), "needs: name"),
        (welcomed(identity_accepted=True), ("n", " ", "a", ""), "needs: phone, postcode"),
        (welcomed(), ADDRESS, "cannot give the postal address now"),
        (welcomed(identity_accepted=True, mode=Mode.TRIAL), ADDRESS, "trial has no postal"),
    ],
)
def test_bad_profiles_are_refused(
    state: ClientState, address: tuple[str, str, str, str], match: str
) -> None:
    with pytest.raises(f.InvalidAction, match=match):
        f.step(state, f.GiveProfile("x", *address), NOW)


def test_paper_opens_the_exam_only_after_the_entry_steps() -> None:
    ready = welcomed(identity_accepted=True)
    state, _ = run(ready, f.Received(paper()))
    assert state.has_paper and state.phase is Phase.PROFILE  # the address first (R14)
    state, _ = run(state, f.GiveProfile("pr", *ADDRESS))
    assert state.phase is Phase.EXAM


def test_replaced_by_another_connection_is_fatal() -> None:
    state, commands = run(welcomed(), f.Disconnected(4409, "replaced"))
    assert state.phase is Phase.ERROR and state.error is not None
    assert state.error.code == "replaced" and commands == [f.Stop("replaced")]


def test_close_is_idempotent_and_stops_reconnecting() -> None:
    state, commands = run(welcomed(), f.Close(), f.Close())
    assert state.phase is Phase.CLOSED and commands == [f.Stop("closed")]
    state, commands = run(state, f.Connected("T"))
    assert commands == [f.Stop("finished")]
