"""How an exam ends or is taken away, seen by the runtime: time up, termination by the
proctors, the same ticket opened elsewhere; and the rotating watermark."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from proctor_client.core.state import ClientState, Phase
from proctor_client.runtime.runtime import ExamRuntime
from proctor_server.app import ServerConfig, run_server
from shared.states import Trigger
from shared.vocabulary import FinishReason
from tests.support.exam_env import Env

ADDRESS = ("张三丰", "13800000000", "1 Chang'an Avenue, Beijing", "100000")


async def into_exam(runtime: ExamRuntime, photo: Callable[[], bytes]) -> ClientState:
    runtime.start()
    async with asyncio.timeout(10):
        await runtime.wait_phase(Phase.IDENTITY)
        runtime.send_identity_photo(photo())
        await runtime.wait_phase(Phase.PROFILE)
        runtime.send_profile(*ADDRESS)
        return await runtime.wait_phase(Phase.EXAM)


async def test_time_up_ends_with_the_result_of_what_was_saved(
    env: Env, photo: Callable[[], bytes]
) -> None:
    _, ticket = await env.exam(starts_in=-1, minutes=3 / 60)  # two seconds are left
    runtime = env.runtime(ticket, photos=False)
    state = await into_exam(runtime, photo)
    left = state.seconds_left(runtime.clock())
    assert left is not None and 0 < left <= 2.5
    q = next(q for q in state.questions if q.text == "2 + 2")
    runtime.answer(q.id, [o.id for o in q.options if o.text == "4"])
    async with asyncio.timeout(15):
        state = await runtime.wait_phase(Phase.RESULT)
    assert state.time_up
    assert state.result is not None and state.result.reason == "time_up"
    assert (state.result.score, state.result.max_score) == (1, 5)


async def test_a_terminated_attempt_shows_termination_then_the_result(
    env: Env, photo: Callable[[], bytes]
) -> None:
    exam_id, ticket = await env.exam()
    runtime = env.runtime(ticket, photos=False)
    seen: list[Phase] = []
    runtime.subscribe(lambda s: seen.append(s.phase))
    state = await into_exam(runtime, photo)
    attempt = await env.server.store.get_attempt(state.session or "")
    assert attempt is not None
    await env.server.runtimes[exam_id].finalize(
        attempt, Trigger.TERMINATE, FinishReason.TERMINATED, "phone in view"
    )
    async with asyncio.timeout(10):
        state = await runtime.wait_phase(Phase.RESULT)
    assert Phase.TERMINATED in seen
    assert state.terminated_reason == "phone in view"
    assert state.result is not None and state.result.reason == "terminated"


async def test_the_same_ticket_elsewhere_replaces_this_app(
    env: Env, photo: Callable[[], bytes], tmp_path: Path
) -> None:
    _, ticket = await env.exam(starts_in=60)
    first = env.runtime(ticket, photos=False, outbox=tmp_path / "one.sqlite3")
    first.start()
    async with asyncio.timeout(10):
        await first.wait_phase(Phase.IDENTITY)
    second = env.runtime(ticket, photos=False, outbox=tmp_path / "two.sqlite3")
    second.start()
    async with asyncio.timeout(10):
        state = await first.wait_phase(Phase.ERROR)
        await second.wait_phase(Phase.IDENTITY)
    assert state.error is not None and state.error.code == "replaced"
    assert first.connections == 1  # it does not fight back
    assert second.state.phase is Phase.IDENTITY


async def test_the_watermark_nonce_rotates(tmp_path: Path, photo: Callable[[], bytes]) -> None:
    config = ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=0.2)
    async with run_server(config) as server:
        env = Env(server, tmp_path)
        _, ticket = await env.exam(starts_in=60)
        runtime = env.runtime(ticket, photos=False)
        try:
            runtime.start()
            async with asyncio.timeout(10):
                first = await runtime.wait_phase(Phase.IDENTITY)
                later = await runtime.wait_for(
                    lambda s: s.watermark_nonce not in ("", first.watermark_nonce)
                )
        finally:
            await runtime.close()
    assert later.watermark_text == first.watermark_text
    assert "C00001" in later.watermark_text and "张*丰" in later.watermark_text
