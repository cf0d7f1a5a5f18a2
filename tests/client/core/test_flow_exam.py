"""The pure flow during the exam: answers and their saved marks, events, snapshots, the end,
and what a restart or a reconnection restores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from flow_messages import paper, welcome

from proctor_client.core import flow as f
from proctor_client.core.state import ClientState, Phase
from shared import protocol as p
from shared.vocabulary import EventKind, FinishReason, Mode

NOW = 1000.0


def run(
    state: ClientState, *events: f.Input, now: float = NOW
) -> tuple[ClientState, list[f.Command]]:
    commands: list[f.Command] = []
    for event in events:
        state, more = f.step(state, event, now)
        commands.extend(more)
    return state, commands


def in_exam(**welcome_kwargs: object) -> ClientState:
    kwargs = {"identity_accepted": True, "profile_saved": True, **welcome_kwargs}
    state, _ = run(ClientState(), f.Received(welcome(**kwargs)), f.Received(paper()))
    assert state.phase is Phase.EXAM
    return state


def test_paper_keeps_the_servers_order_and_sets_the_deadline() -> None:
    state = in_exam()
    assert [q.id for q in state.questions] == ["qa", "qb"]
    assert [o.id for o in state.questions[1].options] == ["c1", "c2", "c3"]
    assert state.questions[1].multiple and state.questions[1].points == 2
    assert state.seconds_left(NOW) == 3600.0  # server said 14:00, the deadline is 15:00
    assert state.answered_count == 0


def test_an_answer_is_kept_then_saved_only_by_its_ack() -> None:
    state, commands = run(in_exam(), f.Choose("m1", "qb", ("c3", "c1")))
    q = state.question("qb")
    assert q is not None and q.chosen == ("c1", "c3") and not q.saved and q.answer_id == "m1"
    assert commands == [
        f.Enqueue("m1", "answer", p.encode(p.Answer(id="m1", question="qb", choice=["c1", "c3"])))
    ]
    assert state.unsaved_count == 1
    state, commands = run(state, f.Received(p.Ack("m1")))
    q = state.question("qb")
    assert q is not None and q.saved and q.answer_id is None and commands == [f.Forget("m1")]
    assert state.unsaved_count == 0


def test_only_the_ack_of_the_latest_answer_marks_it_saved() -> None:
    state, _ = run(in_exam(), f.Choose("m1", "qa", ("o1",)), f.Choose("m2", "qa", ("o2",)))
    state, commands = run(state, f.Received(p.Ack("m1")))
    q = state.question("qa")
    assert q is not None and not q.saved and q.chosen == ("o2",)
    assert commands == [f.Forget("m1")]
    state, _ = run(state, f.Received(p.Ack("m2")))
    q = state.question("qa")
    assert q is not None and q.saved


def test_an_empty_choice_clears_the_answer() -> None:
    state, _ = run(in_exam(), f.Choose("m1", "qa", ("o1",)), f.Choose("m2", "qa", ()))
    q = state.question("qa")
    assert q is not None and not q.answered and q.answer_id == "m2"


def test_a_refused_answer_is_dropped_from_the_outbox_and_stays_unsaved() -> None:
    state, _ = run(in_exam(), f.Choose("m1", "qa", ("o1",)))
    state, commands = run(state, f.Received(p.Error("deadline_passed", "too late", ref="m1")))
    q = state.question("qa")
    assert q is not None and not q.saved and q.answer_id is None
    assert state.error is not None and state.error.code == "deadline_passed"
    assert not state.error.fatal and state.phase is Phase.EXAM
    assert commands == [f.Forget("m1")]


@pytest.mark.parametrize("code", ["rate_limited", "storage_unavailable", "internal_error"])
def test_an_answer_refused_for_now_stays_in_the_outbox_unsaved(code: str) -> None:
    state, _ = run(in_exam(), f.Choose("m1", "qa", ("o1",)))
    state, commands = run(state, f.Received(p.Error(code, "not now", ref="m1")))
    q = state.question("qa")
    assert q is not None and not q.saved and q.answer_id == "m1"  # still pending
    assert commands == [f.RetryLater("m1")]  # not forgotten: sent again with the outbox
    state, commands = run(state, f.Received(p.Ack("m1")))
    q = state.question("qa")
    assert q is not None and q.saved and commands == [f.Forget("m1")]


def test_a_new_choice_supersedes_the_unacknowledged_one_in_the_outbox() -> None:
    state, _ = run(in_exam(), f.Choose("m1", "qa", ("o1",)))
    state, commands = run(state, f.Choose("m2", "qa", ("o2",)))
    assert commands[0] == f.Forget("m1")  # a resend of m1 can never land after m2
    assert isinstance(commands[1], f.Enqueue) and commands[1].id == "m2"
    state, commands = run(state, f.Received(p.Ack("m1")))  # m1 was in flight: stored, then m2
    q = state.question("qa")
    assert q is not None and not q.saved and q.answer_id == "m2"
    state, _ = run(state, f.Received(p.Ack("m2")))
    q = state.question("qa")
    assert q is not None and q.saved and q.chosen == ("o2",)


@pytest.mark.parametrize(
    ("question", "choice", "match"),
    [
        ("nope", ("o1",), "no question 'nope'"),
        ("qa", ("c1",), "has no option 'c1'"),
        ("qa", ("o1", "o2"), "takes a single option"),
        ("qb", ("c1", "c1"), "chosen twice"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(
    question: str, choice: tuple[str, ...], match: str
) -> None:
    state = in_exam()
    with pytest.raises(f.InvalidAction, match=match):
        f.step(state, f.Choose("m", question, choice), NOW)


@pytest.mark.parametrize(
    "state",
    [
        ClientState(),
        run(ClientState(), f.Received(welcome(identity_accepted=True, profile_saved=True)))[0],
        run(in_exam(), f.HandIn("s1"))[0],
        run(in_exam(), f.Received(p.TimeUp("2026-07-25T15:00:00Z")))[0],
    ],
    ids=["connecting", "waiting_room", "submitted", "time_up"],
)
def test_answers_outside_the_exam_phase_are_refused(state: ClientState) -> None:
    with pytest.raises(f.InvalidAction, match="cannot answer now"):
        f.step(state, f.Choose("m", "qa", ("o1",)), NOW)


def test_answers_while_offline_are_kept_for_later() -> None:
    state, _ = run(in_exam(), f.Disconnected(1006))
    assert state.offline and state.phase is Phase.EXAM
    state, commands = run(state, f.Choose("m1", "qa", ("o2",)))
    assert [type(c) for c in commands] == [f.Enqueue]


def test_focus_loss_counts_a_warning_and_the_server_count_wins() -> None:
    state = in_exam(warning_limit=3, warnings_used=1)
    assert state.warnings_left == 2
    state, commands = run(state, f.Report("e1", EventKind.FOCUS_LOST, "2026-07-25T14:10:00Z"))
    assert state.warnings_left == 1
    (enqueue,) = commands
    assert isinstance(enqueue, f.Enqueue)
    event = p.decode_client(enqueue.data)
    assert isinstance(event, p.Event) and (event.id, event.kind) == ("e1", "focus_lost")
    state, _ = run(state, f.Received(p.ProctorWarning("You left the exam", count=2, limit=3)))
    assert state.warnings_used == 2 and state.warnings[-1].text == "You left the exam"


def test_returning_does_not_count_and_no_limit_means_none_left() -> None:
    state, _ = run(in_exam(warning_limit=3), f.Report("e1", EventKind.FOCUS_BACK, "t"))
    assert state.warnings_used == 0
    state, _ = run(in_exam(), f.Report("e1", EventKind.FOCUS_LOST, "t"))
    assert state.warnings_left is None


def test_events_outside_the_exam_are_not_sent_and_unknown_kinds_are_refused() -> None:
    waiting, _ = run(ClientState(), f.Received(welcome(identity_accepted=True, mode=Mode.TRIAL)))
    assert run(waiting, f.Report("e", EventKind.FOCUS_LOST, "t")) == (waiting, [])
    with pytest.raises(f.InvalidAction, match="unknown event kind 'peek'"):
        f.step(in_exam(), f.Report("e", "peek", "t"), NOW)


SIGNALS = {"cameras": ["Integrated Camera", "OBS Virtual Camera"], "camera_in_use": "OBS"}


def _waiting_room() -> ClientState:
    state, _ = run(ClientState(), f.Received(welcome(identity_accepted=True, profile_saved=True)))
    assert state.phase is Phase.WAITING_ROOM
    return state


def _identity() -> ClientState:
    state, _ = run(ClientState(), f.Received(welcome()))
    assert state.phase is Phase.IDENTITY
    return state


@pytest.mark.parametrize(
    ("state", "kind", "sent", "counted"),
    [
        (in_exam, EventKind.FOCUS_LOST, True, True),
        (in_exam, EventKind.WINDOW_MINIMIZED, True, True),
        (in_exam, EventKind.APP_INACTIVE, True, True),
        (in_exam, EventKind.SCREEN_ADDED, True, True),
        (in_exam, EventKind.FOCUS_BACK, False, False),  # no leave to close
        (in_exam, EventKind.WINDOW_RESTORED, False, False),  # no leave to close
        (in_exam, EventKind.APP_ACTIVE, False, False),  # no leave to close
        (in_exam, EventKind.SCREEN_REMOVED, True, False),
        (in_exam, EventKind.DEVICE_SIGNAL, True, False),
        (_waiting_room, EventKind.FOCUS_LOST, False, False),
        (_waiting_room, EventKind.DEVICE_SIGNAL, True, False),
        (_identity, EventKind.DEVICE_SIGNAL, True, False),
        (ClientState, EventKind.DEVICE_SIGNAL, False, False),
        (lambda: run(in_exam(), f.HandIn("s"))[0], EventKind.DEVICE_SIGNAL, False, False),
    ],
)
def test_which_events_are_sent_and_which_count_a_warning(
    state: Callable[[], ClientState], kind: EventKind, sent: bool, counted: bool
) -> None:
    before = replace(state(), warning_limit=3)
    after, commands = run(before, f.Report("e1", kind, "t", SIGNALS))
    assert after.warnings_used - before.warnings_used == (1 if counted else 0)
    assert len(commands) == (1 if sent else 0)
    if sent:
        assert isinstance(commands[0], f.Enqueue)
        event = p.decode_client(commands[0].data)
        assert isinstance(event, p.Event)
        assert (event.id, event.kind, event.detail) == ("e1", kind, SIGNALS)


def test_a_plain_string_of_a_known_kind_is_accepted() -> None:
    _, commands = run(in_exam(), f.Report("e1", "device_signal", "t", SIGNALS))
    assert len(commands) == 1


def test_snapshots_are_kept_only_during_the_exam() -> None:
    _, commands = run(in_exam(), f.Snap("s1", "2026-07-25T14:01:00Z", b"\xff\xd8jpeg"))
    (enqueue,) = commands
    assert isinstance(enqueue, f.Enqueue) and enqueue.kind == "snapshot"
    assert isinstance(enqueue.data, bytes)  # an image goes out as a binary frame
    header, body = p.decode_image(enqueue.data)
    assert (header.type, header.id, header.at, body) == (
        "snapshot",
        "s1",
        "2026-07-25T14:01:00Z",
        b"\xff\xd8jpeg",
    )
    waiting, _ = run(ClientState(), f.Received(welcome(identity_accepted=True, mode=Mode.TRIAL)))
    assert run(waiting, f.Snap("s2", "t", b"\xff\xd8"))[1] == []


def test_submit_then_result() -> None:
    state, commands = run(in_exam(), f.HandIn("sub"))
    assert state.phase is Phase.SUBMITTED
    assert commands == [f.Enqueue("sub", "submit", p.encode(p.Submit(id="sub")))]
    state, commands = run(state, f.Received(p.Ack("sub")), f.Received(p.Result(8, 10, True)))
    assert state.phase is Phase.RESULT and state.finished
    assert state.result is not None and (state.result.score, state.result.passed) == (8, True)
    assert commands == [f.Forget("sub"), f.Stop("result")]


def test_time_up_then_result_and_a_trial_result_does_not_count() -> None:
    state, _ = run(in_exam(mode=Mode.TRIAL), f.Received(p.TimeUp("2026-07-25T15:00:00Z")))
    assert state.phase is Phase.SUBMITTED and state.time_up
    state, _ = run(
        state, f.Received(p.Result(1, 3, False, reason=FinishReason.TIME_UP, counts=False))
    )
    assert state.result is not None and not state.result.counts


def test_terminated_shows_until_the_result_and_then_the_result() -> None:
    state, _ = run(in_exam(), f.Received(p.Terminated("cheating")))
    assert state.phase is Phase.TERMINATED and state.terminated_reason == "cheating"
    state, _ = run(state, f.Received(p.Result(0, 10, False, reason=FinishReason.TERMINATED)))
    assert state.phase is Phase.RESULT


def test_watermark_rotates() -> None:
    state, _ = run(in_exam(), f.Received(p.Watermark("C001 · 张* · Cloud", "n2")))
    assert (state.watermark_text, state.watermark_nonce) == ("C001 · 张* · Cloud", "n2")


def test_a_resumed_paper_shows_saved_answers_but_unsent_ones_win() -> None:
    state, _ = run(in_exam(), f.Choose("m1", "qa", ("o1",)), f.Disconnected(1006))
    state, commands = run(
        state,
        f.Received(welcome(identity_accepted=True, profile_saved=True, resumed=True)),
        f.Received(paper(saved={"qa": ["o2"], "qb": ["c1", "c3"]})),
    )
    assert state.resumed and not state.offline and f.Replay() in commands
    qa, qb = state.questions
    assert (qa.chosen, qa.saved, qa.answer_id) == (("o1",), False, "m1")
    assert (qb.chosen, qb.saved) == (("c1", "c3"), True)


def test_a_restarted_app_restores_unsent_work_from_the_outbox() -> None:
    kept: list[p.ClientMessage] = [
        p.Profile(id="pr", mail_to=p.MailTo("n", "1", "a", "1")),
        p.Answer(id="m1", question="qa", choice=["o1"]),
        p.Event(id="e1", kind=EventKind.FOCUS_LOST),
        p.Answer(id="m2", question="qa", choice=["o2"]),
    ]
    state, _ = run(ClientState(), f.Restore(kept))
    assert state.profile_given and state.profile_id == "pr"
    state, _ = run(
        state,
        f.Received(welcome(identity_accepted=True, resumed=True)),
        f.Received(paper(saved={"qa": ["o1"]})),
    )
    assert state.phase is Phase.EXAM
    qa = state.question("qa")
    assert qa is not None and (qa.chosen, qa.saved, qa.answer_id) == (("o2",), False, "m2")
    state, _ = run(state, f.Received(p.Ack("pr")), f.Received(p.Ack("m2")))
    qa = state.question("qa")
    assert state.profile_saved and qa is not None and qa.saved
    assert state.restored_answers == ()


def test_a_restored_submission_waits_for_the_result() -> None:
    state, _ = run(ClientState(), f.Restore([p.Submit(id="sub")]))
    state, _ = run(state, f.Received(welcome(identity_accepted=True, profile_saved=True)))
    assert state.phase is Phase.SUBMITTED and state.submit_id == "sub"


def test_an_exam_over_refusal_after_submitting_is_fatal() -> None:
    state, _ = run(in_exam(), f.HandIn("sub"), f.Disconnected(1006))
    state, commands = run(state, f.Received(p.Error("exam_over", "finished")))
    assert state.phase is Phase.ERROR and commands == [f.Stop("exam_over")]


def test_reconnecting_offline_then_welcome_clears_offline() -> None:
    state, _ = run(in_exam(), f.Disconnected(1006), f.ConnectFailed("refused"))
    assert state.offline and state.phase is Phase.EXAM and state.connect_failures == 1
    state, _ = run(state, f.Received(welcome(identity_accepted=True, profile_saved=True)))
    assert not state.offline and state.connect_failures == 0 and state.has_paper
