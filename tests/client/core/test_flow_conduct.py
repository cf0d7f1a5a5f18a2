"""One leave of the exam screen is one warning, however many signals the system sends (R16);
warnings and notices from the server; a moved deadline; the consent to the rules."""

from __future__ import annotations

import pytest
from flow_messages import paper, welcome

from proctor_client.core import flow as f
from proctor_client.core.state import ClientState, MessageSource, Phase
from shared import protocol as p
from shared.vocabulary import EventKind

NOW = 1000.0
LOST, BACK = EventKind.FOCUS_LOST, EventKind.FOCUS_BACK
INACTIVE, ACTIVE = EventKind.APP_INACTIVE, EventKind.APP_ACTIVE
MINIMIZED, RESTORED = EventKind.WINDOW_MINIMIZED, EventKind.WINDOW_RESTORED
ADDED, REMOVED = EventKind.SCREEN_ADDED, EventKind.SCREEN_REMOVED


def in_exam(**welcome_kwargs: object) -> ClientState:
    kwargs = {"identity_accepted": True, "profile_saved": True, "warning_limit": 3}
    state, _ = f.step(ClientState(), f.Received(welcome(**{**kwargs, **welcome_kwargs})), NOW)
    state, _ = f.step(state, f.Received(paper()), NOW)
    assert state.phase is Phase.EXAM
    return state


def signals(state: ClientState, kinds: list[EventKind]) -> tuple[ClientState, list[p.Event]]:
    sent: list[p.Event] = []
    for n, kind in enumerate(kinds):
        state, commands = f.step(state, f.Report(f"e{n}", kind, "t"), NOW)
        for command in commands:
            assert isinstance(command, f.Enqueue) and isinstance(command.data, str)
            event = p.decode_client(command.data)
            assert isinstance(event, p.Event)
            sent.append(event)
    return state, sent


@pytest.mark.parametrize(
    ("kinds", "sent", "used"),
    [
        # one switch to another window: the system sends two or three signals each way
        ([INACTIVE, LOST, ACTIVE, BACK], [INACTIVE, ACTIVE], 1),
        ([LOST, INACTIVE, BACK, ACTIVE], [LOST, BACK], 1),
        ([INACTIVE, LOST, MINIMIZED, RESTORED, ACTIVE, BACK], [INACTIVE, RESTORED], 1),
        ([MINIMIZED], [MINIMIZED], 1),  # still away: one warning so far
        # two leaves are two warnings
        ([LOST, BACK, LOST, BACK], [LOST, BACK, LOST, BACK], 2),
        ([INACTIVE, LOST, ACTIVE, BACK, INACTIVE, ACTIVE], [INACTIVE, ACTIVE, INACTIVE, ACTIVE], 2),
        # a return without a leave is not an event
        ([BACK, ACTIVE], [], 0),
        # a screen connected is its own warning, even during a leave
        ([ADDED, REMOVED], [ADDED, REMOVED], 1),
        ([LOST, ADDED, BACK], [LOST, ADDED, BACK], 2),
    ],
)
def test_one_leave_is_one_warning(kinds: list[EventKind], sent: list[EventKind], used: int) -> None:
    state, events = signals(in_exam(), kinds)
    assert [e.kind for e in events] == sent
    assert state.warnings_used == used
    assert state.warnings_left == 3 - used


def test_the_return_lists_every_signal_of_the_leave() -> None:
    state, events = signals(in_exam(), [INACTIVE, LOST, MINIMIZED, ACTIVE])
    assert events[-1].detail == {
        "leave_signals": ["app_inactive", "focus_lost", "window_minimized"]
    }
    assert state.away is None and state.away_signals == ()


def test_an_automatic_warning_names_the_event_the_app_sent_and_its_count_wins() -> None:
    state, _ = signals(in_exam(warnings_used=1), [LOST])
    assert state.warnings_left == 1
    warning = p.ProctorWarning("You left the exam screen...", count=2, limit=3)
    state, _ = f.step(state, f.Received(warning), NOW)
    (view,) = state.warnings
    assert (view.source, view.kind, view.count, view.limit) == (MessageSource.SYSTEM, LOST, 2, 3)
    assert state.warnings_left == 1


def test_a_proctors_warning_and_notice_are_from_the_proctor() -> None:
    state = in_exam()
    warning = p.ProctorWarning(
        "Please face the camera.", count=1, limit=3, source=p.WarningSource.PROCTOR
    )
    state, _ = f.step(state, f.Received(warning), NOW)
    state, _ = f.step(state, f.Received(p.Notice("Is someone there?")), NOW)
    first, second = state.warnings
    assert (first.source, first.kind, first.notice) == (MessageSource.PROCTOR, None, False)
    assert (second.source, second.notice, second.text) == (
        MessageSource.PROCTOR,
        True,
        "Is someone there?",
    )
    assert state.warnings_used == 1  # a notice uses no warning


@pytest.mark.parametrize("action", ["alert", "terminate", None])
def test_the_welcome_says_what_the_limit_does(action: str | None) -> None:
    assert in_exam(warning_limit_action=action).warning_limit_action == action


def test_a_deadline_moves_the_countdown() -> None:
    state = in_exam()
    assert state.seconds_left(NOW) == 3600.0
    state, _ = f.step(state, f.Received(p.Deadline("2026-07-25T15:10:00.000Z")), NOW)
    assert state.seconds_left(NOW) == 4200.0
    assert state.exam is not None and state.exam.ends_at == "2026-07-25T15:10:00.000Z"


def test_consent_is_kept_until_its_ack_and_sent_once() -> None:
    state, commands = f.step(ClientState(), f.Accept("c1", "2026-1"), NOW)
    assert commands == [f.Enqueue("c1", "consent", p.encode(p.Consent(id="c1", version="2026-1")))]
    again, commands = f.step(state, f.Accept("c2", "2026-1"), NOW)
    assert commands == [] and again == state
    state, commands = f.step(state, f.Received(p.Ack("c1")), NOW)
    assert state.consent_saved and commands == [f.Forget("c1")]
    restored = f.step(ClientState(), f.Restore([p.Consent(id="c1", version="2026-1")]), NOW)[0]
    assert restored.consent_version == "2026-1"
    with pytest.raises(f.InvalidAction):
        f.step(ClientState(), f.Accept("c3", " "), NOW)


def test_identity_refusal_keeps_the_codes() -> None:
    state, _ = f.step(ClientState(), f.Received(welcome()), NOW)
    state, _ = f.step(state, f.TakePhoto("ph", b"\xff\xd8x"), NOW)
    result = p.IdentityResult("ph", False, ["We could not find your face."], ["no_face"])
    state, _ = f.step(state, f.Received(result), NOW)
    assert state.identity_codes == ("no_face",)
