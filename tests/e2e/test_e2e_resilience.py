"""Server and runtime together over loopback, through a proxy that can be cut: a dropped
connection in the middle of the exam, acknowledgements lost on the way, and an app that is
stopped and started again. No answer may be lost, and "saved" only follows the server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from loopback_proxy import loopback_proxy

from proctor_client.core.state import ClientState, Phase
from proctor_client.outbox import Outbox, scope_of
from proctor_client.runtime.runtime import ExamRuntime
from tests.support.exam_env import Env, correct_texts

ADDRESS = ("张三丰", "13800000000", "1 Chang'an Avenue, Beijing", "100000")
KEY = correct_texts()
ALL_CORRECT = {0: [2], 1: [0, 2], 2: [1], 3: [0]}


async def enter_exam(runtime: ExamRuntime, photo: Callable[[], bytes]) -> ClientState:
    async with asyncio.timeout(15):
        await runtime.wait_phase(Phase.IDENTITY)
        runtime.send_identity_photo(photo())
        await runtime.wait_phase(Phase.PROFILE)
        runtime.send_profile(*ADDRESS)
        return await runtime.wait_phase(Phase.EXAM)


def answer(runtime: ExamRuntime, text: str) -> str:
    q = next(q for q in runtime.state.questions if q.text == text)
    return runtime.answer(q.id, [o.id for o in q.options if o.text in KEY[text]])


def all_saved(state: ClientState) -> bool:
    return state.unsaved_count == 0 and state.pending == 0


async def test_a_dropped_connection_loses_no_answer(env: Env, photo: Callable[[], bytes]) -> None:
    _, ticket = await env.exam(starts_in=-1)
    async with loopback_proxy("127.0.0.1", env.server.port) as proxy:
        runtime = env.runtime(ticket, url=proxy.url)
        runtime.start()
        state = await enter_exam(runtime, photo)
        texts = [q.text for q in state.questions]
        answer(runtime, texts[0])
        answer(runtime, texts[1])
        async with asyncio.timeout(10):
            await runtime.wait_for(lambda s: s.questions[0].saved and s.questions[1].saved)

        # The network goes away: the app says so and keeps what the candidate does.
        proxy.block()
        proxy.cut()
        async with asyncio.timeout(10):
            state = await runtime.wait_for(lambda s: s.offline)
        assert state.phase is Phase.EXAM and not state.connected
        answer(runtime, texts[2])
        answer(runtime, texts[3])
        assert runtime.report_event("focus_lost") == 2
        state = runtime.state
        assert state.unsaved_count == 2 and state.pending == 3
        assert [q.saved for q in state.questions] == [True, True, False, False]
        async with asyncio.timeout(10):
            state = await runtime.wait_for(lambda s: s.connect_failures >= 2)
        assert state.phase is Phase.EXAM and state.offline  # still on the paper

        # The network comes back: same attempt, the outbox is replayed in order.
        proxy.unblock()
        async with asyncio.timeout(15):
            state = await runtime.wait_for(lambda s: s.connected and all_saved(s))
        assert state.resumed and not state.offline
        assert await env.server.store.answers(state.session or "") == ALL_CORRECT
        events = await env.server.store.events(state.session or "")
        assert [e["kind"] for e in events] == ["focus_lost"]

        runtime.submit()
        async with asyncio.timeout(10):
            state = await runtime.wait_phase(Phase.RESULT)
        assert state.result is not None and state.result.score == 5
        assert runtime.connections >= 2


async def test_acks_lost_on_the_way_are_resent_and_change_nothing(
    env: Env, photo: Callable[[], bytes]
) -> None:
    _, ticket = await env.exam(starts_in=-1)
    async with loopback_proxy("127.0.0.1", env.server.port) as proxy:
        runtime = env.runtime(ticket, url=proxy.url, photos=False)
        runtime.start()
        await enter_exam(runtime, photo)
        async with asyncio.timeout(10):
            state = await runtime.wait_for(lambda s: s.profile_saved and s.pending == 0)
        attempt = state.session or ""
        first = state.questions[0]
        proxy.mute_downstream()  # the server stores, but its acks never arrive
        answer(runtime, first.text)
        async with asyncio.timeout(10):
            await proxy.dropped.wait()  # the server answered: it stored the answer, then acked
        assert len(await env.server.store.answers(attempt)) == 1
        assert not runtime.state.questions[0].saved  # stored, but no ack yet: not "saved"
        proxy.cut()
        async with asyncio.timeout(15):
            state = await runtime.wait_for(lambda s: s.connected and all_saved(s))
        assert state.questions[0].saved
        stored = await env.server.store.answers(attempt)
        assert len(stored) == 1


async def test_a_restarted_app_resumes_without_the_entry_gate(
    env: Env, photo: Callable[[], bytes], tmp_path: Path
) -> None:
    _, ticket = await env.exam(starts_in=-1)
    box = tmp_path / "candidate" / "outbox.sqlite3"
    async with loopback_proxy("127.0.0.1", env.server.port) as proxy:
        first = env.runtime(ticket, url=proxy.url, outbox=box)
        first.start()
        state = await enter_exam(first, photo)
        texts = [q.text for q in state.questions]
        answer(first, texts[0])
        async with asyncio.timeout(10):
            await first.wait_for(lambda s: s.questions[0].saved)
        proxy.block()
        proxy.cut()
        async with asyncio.timeout(10):
            await first.wait_for(lambda s: s.offline)
        answer(first, texts[1])
        answer(first, texts[2])
        await first.close()  # the app is gone; what it did is on disk

        # On disk: exactly the two unsent answers, in order, and the session.
        with Outbox(box, scope_of(first.url, ticket, "exam")) as on_disk:
            assert [item.kind for item in on_disk.items()] == ["answer", "answer"]
            record = on_disk.session()
            assert record is not None and record.ticket == ticket and not record.finished

        # A new app (new runtime, same outbox file) once the network is back.
        proxy.unblock()
        second = env.runtime(ticket, url=proxy.url, outbox=box, photos=False, rules=False)
        assert second.state.pending == 2 and len(second.state.restored_answers) == 2
        phases: list[Phase] = []
        second.subscribe(lambda s: phases.append(s.phase))
        second.start()
        async with asyncio.timeout(15):
            state = await second.wait_for(lambda s: s.has_paper and all_saved(s))
        assert Phase.IDENTITY not in phases and Phase.PROFILE not in phases
        assert state.resumed and state.phase is Phase.EXAM
        assert [q.text for q in state.questions] == texts  # the same order as before
        assert [q.saved for q in state.questions] == [True, True, True, False]
        answer(second, texts[3])
        second.submit()
        async with asyncio.timeout(10):
            state = await second.wait_phase(Phase.RESULT)
    assert await env.server.store.answers(state.session or "") == ALL_CORRECT
    assert state.result is not None and state.result.score == 5
