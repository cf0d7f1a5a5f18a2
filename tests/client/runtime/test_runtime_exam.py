"""The runtime against the real server on loopback: a whole exam, the waiting room, the trial,
warnings, snapshots and refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from proctor_client.core.flow import InvalidAction
from proctor_client.core.state import ClientState, Phase, QuestionView
from proctor_client.runtime.runtime import ExamRuntime
from shared.vocabulary import EventKind
from tests.support.exam_env import QUESTIONS, Env, correct_texts

ADDRESS = ("张三丰", "13800000000", "1 Chang'an Avenue, Beijing", "100000")


async def enter(runtime: ExamRuntime, photo: Callable[[], bytes]) -> ClientState:
    async with asyncio.timeout(10):
        await runtime.wait_phase(Phase.IDENTITY)
        runtime.send_identity_photo(photo())
        state = await runtime.wait_phase(Phase.PROFILE, Phase.WAITING_ROOM, Phase.EXAM)
        if state.phase is Phase.PROFILE:
            runtime.send_profile(*ADDRESS)
        return await runtime.wait_phase(Phase.WAITING_ROOM, Phase.EXAM)


def answer_all(runtime: ExamRuntime, key: dict[str, list[str]]) -> None:
    for q in runtime.state.questions:
        wanted = key[q.text]
        runtime.answer(q.id, [o.id for o in q.options if o.text in wanted])


def pending_changed(before: int) -> Callable[[ClientState], bool]:
    """A state predicate: the outbox no longer holds `before` messages."""
    return lambda s: s.pending != before


async def test_a_whole_exam_from_the_waiting_room_to_the_score(
    env: Env, photo: Callable[[], bytes]
) -> None:
    _, ticket = await env.exam(starts_in=1.5, snapshot_interval_s=1)
    runtime = env.runtime(ticket)
    seen: list[Phase] = []
    runtime.subscribe(lambda s: seen.append(s.phase) if s.phase not in seen else None)
    runtime.start()
    state = await enter(runtime, photo)
    assert state.phase is Phase.WAITING_ROOM
    assert state.profile_given and state.identity_accepted
    assert state.watermark_text.startswith("C00001") and state.watermark_nonce
    to_start = state.seconds_to_start(runtime.clock())
    assert to_start is not None and 0 < to_start <= 1.5

    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.EXAM)
    assert [q.text for q in state.questions] != []
    assert {q.text for q in state.questions} == {q.text for q in QUESTIONS}
    left = state.seconds_left(runtime.clock())
    assert left is not None and 280 < left <= 300
    answer_all(runtime, correct_texts())
    assert runtime.state.answered_count == 4 and runtime.state.unsaved_count > 0

    async with asyncio.timeout(10):
        state = await runtime.wait_for(
            lambda s: all(q.saved for q in s.questions) and s.profile_saved
        )
        # at least one snapshot reaches the server while the exam is open
        attempt = state.session
        assert attempt is not None
        while not await env.server.store.photos(attempt, "snapshot"):
            await runtime.wait_for(pending_changed(state.pending))
            state = runtime.state
    stored = await env.server.store.answers(attempt)
    assert stored == {0: [2], 1: [0, 2], 2: [1], 3: [0]}

    runtime.submit()
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.RESULT)
    assert state.result is not None
    assert (state.result.score, state.result.max_score, state.result.passed) == (5, 5, True)
    assert state.result.counts
    assert seen[:5] == [
        Phase.CONNECTING,
        Phase.IDENTITY,
        Phase.PROFILE,
        Phase.WAITING_ROOM,
        Phase.EXAM,
    ]
    assert seen[-2:] == [Phase.SUBMITTED, Phase.RESULT]
    assert runtime.outbox.count() == 0
    record = runtime.outbox.session()
    assert record is not None and record.finished


async def test_a_refused_identity_photo_is_taken_again(
    env: Env, photo: Callable[[], bytes]
) -> None:
    import cv2
    import numpy as np

    _, ticket = await env.exam()
    runtime = env.runtime(ticket, photos=False)
    runtime.start()
    async with asyncio.timeout(10):
        await runtime.wait_phase(Phase.IDENTITY)
        ok, tiny = cv2.imencode(".jpg", np.zeros((100, 100, 3), np.uint8))
        assert ok
        runtime.send_identity_photo(tiny.tobytes())
        state = await runtime.wait_for(lambda s: bool(s.identity_reasons))
        assert state.phase is Phase.IDENTITY and "too small" in state.identity_reasons[0]
        runtime.send_identity_photo(photo())
        state = await runtime.wait_phase(Phase.PROFILE)
    assert state.identity_reasons == ()


async def test_the_trial_counts_nothing(env: Env, photo: Callable[[], bytes]) -> None:
    _, ticket = await env.exam(starts_in=3600)
    runtime = env.runtime(ticket, mode="trial")
    runtime.start()
    state = await enter(runtime, photo)
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.EXAM)
    assert state.mode == "trial" and len(state.questions) == 3
    assert state.warning_limit is None
    first = state.questions[0]
    runtime.answer(first.id, [first.options[0].id])
    assert runtime.report_event("focus_lost") is None
    async with asyncio.timeout(10):
        await runtime.wait_for(lambda s: s.questions[0].saved and bool(s.warnings))
    runtime.submit()
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.RESULT)
    assert state.result is not None and not state.result.counts


async def test_leaving_the_screen_uses_warnings(env: Env, photo: Callable[[], bytes]) -> None:
    _, ticket = await env.exam(warning_limit=3)
    runtime = env.runtime(ticket, photos=False)
    runtime.start()
    await enter(runtime, photo)
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.EXAM)
    assert state.warnings_left == 3
    assert runtime.report_event("focus_lost", {"window": "browser"}) == 2
    assert runtime.report_event("focus_back") == 2
    async with asyncio.timeout(10):
        state = await runtime.wait_for(lambda s: bool(s.warnings) and s.pending == 0)
    assert (state.warnings[0].count, state.warnings[0].limit) == (1, 3)
    assert "1 of 3" in state.warnings[0].text
    events = await env.server.store.events(state.session or "")
    assert [e["kind"] for e in events] == ["focus_lost", "focus_back"]


@pytest.mark.parametrize(
    ("starts_in", "code"), [(3 * 3600, "entry_not_open"), (-45 * 60, "entry_closed")]
)
async def test_entry_window_refusals_are_final(env: Env, starts_in: float, code: str) -> None:
    _, ticket = await env.exam(starts_in=starts_in, minutes=120)
    runtime = env.runtime(ticket)
    runtime.start()
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.ERROR)
    assert state.error is not None and state.error.code == code and state.error.message
    assert runtime.connections == 1


async def test_a_bad_ticket_is_final(env: Env) -> None:
    runtime = env.runtime("not-a-ticket")
    runtime.start()
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.ERROR)
    assert state.error is not None and state.error.code == "bad_ticket"


async def test_a_server_that_cannot_be_reached_is_shown_as_offline(env: Env) -> None:
    import socket

    with socket.socket() as sock:  # a port on which nobody listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    runtime = env.runtime("T", url=f"ws://127.0.0.1:{port}")
    runtime.start()
    async with asyncio.timeout(10):
        state = await runtime.wait_for(lambda s: s.connect_failures >= 3)
    assert state.phase is Phase.OFFLINE and state.offline


async def test_actions_the_phase_does_not_allow_are_refused(
    env: Env, photo: Callable[[], bytes]
) -> None:
    _, ticket = await env.exam(starts_in=60)
    runtime = env.runtime(ticket, photos=False)
    runtime.start()
    async with asyncio.timeout(10):
        await runtime.wait_phase(Phase.IDENTITY)
        await runtime.wait_for(lambda s: s.consent_saved)  # the rules' consent acknowledged
    with pytest.raises(InvalidAction, match="cannot answer now"):
        runtime.answer("q", ["o"])
    with pytest.raises(InvalidAction, match="cannot submit now"):
        runtime.submit()
    with pytest.raises(InvalidAction, match="postal address now"):
        runtime.send_profile(*ADDRESS)
    with pytest.raises(InvalidAction, match="must be a JPEG"):
        runtime.send_identity_photo(b"not a photo")
    with pytest.raises(InvalidAction, match="unknown event kind"):
        runtime.report_event("teleported")
    assert runtime.state.phase is Phase.IDENTITY and runtime.outbox.count() == 0


async def test_an_outbox_that_fails_refuses_the_answer_and_keeps_the_state(
    env: Env, photo: Callable[[], bytes]
) -> None:
    from proctor_client.outbox import OutboxError

    _, ticket = await env.exam()
    runtime = env.runtime(ticket, photos=False)
    runtime.start()
    await enter(runtime, photo)
    async with asyncio.timeout(10):
        state = await runtime.wait_for(lambda s: s.has_paper and s.pending == 0)
    runtime.outbox.close()  # the disk went away under the app
    q = state.questions[0]
    with pytest.raises(OutboxError, match="closed"):
        runtime.answer(q.id, [q.options[0].id])
    assert runtime.state is state and not runtime.state.questions[0].answered


async def test_device_signals_reach_the_server_which_judges_them(
    env: Env, photo: Callable[[], bytes]
) -> None:
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, photos=False)
    runtime.start()
    await enter(runtime, photo)
    async with asyncio.timeout(10):
        state = await runtime.wait_for(lambda s: s.has_paper and s.pending == 0)
    detail = {"vm_signals": [{"signal": "dmi.sys_vendor", "value": "VMware, Inc."}]}
    assert runtime.report_event(EventKind.DEVICE_SIGNAL, detail) == state.warnings_left
    assert runtime.state.warnings_used == state.warnings_used  # a device signal warns nobody
    async with asyncio.timeout(10):
        await runtime.wait_for(lambda s: s.pending == 0)  # the server acknowledged it
    assert state.session is not None
    violations = await env.server.store.violations(state.session)
    assert [(v.kind, v.source) for v in violations] == [("virtual_machine", "server")]


async def test_an_answer_refused_for_now_is_sent_again_on_the_same_connection(
    env: Env, photo: Callable[[], bytes]
) -> None:
    """Past the server's burst of answers (`rate_limited`), the refused answer stays unsaved on
    screen, then goes again after a back-off and is stored: no reconnect, nothing lost."""
    _, ticket = await env.exam()
    runtime = env.runtime(ticket)
    runtime.start()
    await enter(runtime, photo)
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.EXAM)
    question = state.questions[0]
    options = [o.id for o in question.options]

    def mine(s: ClientState) -> QuestionView:
        q = s.question(question.id)
        assert q is not None
        return q

    def settled(s: ClientState) -> bool:
        return mine(s).saved or (s.error is not None and s.error.code == "rate_limited")

    chosen: list[str] = []
    async with asyncio.timeout(60):
        for i in range(1000):  # the server takes a burst of 400, then 4 a second
            chosen = [options[i % len(options)]]
            runtime.answer(question.id, chosen)
            state = await runtime.wait_for(settled)
            if not mine(state).saved:
                break
        assert not mine(state).saved, "the server never refused an answer for now"
        state = await runtime.wait_for(lambda s: mine(s).saved and s.pending == 0)
    assert runtime.connections == 1  # sent again on the same connection
    assert mine(state).chosen == tuple(chosen)
    assert state.session is not None
    stored = await env.server.store.answers(state.session)  # by the bank's own numbering
    number, original = next((i, q) for i, q in enumerate(QUESTIONS) if q.text == question.text)
    texts = {o.id: o.text for o in question.options}
    assert stored[number] == [original.options.index(texts[o]) for o in chosen]
