"""The server stops in the middle of an exam and comes back on the same database and port:
the candidate's app waits offline, keeps what is done meanwhile, and resumes the attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from proctor_client.core.state import Phase
from proctor_server.app import ServerConfig, run_server
from tests.support.exam_env import Env, correct_texts

ADDRESS = ("张三丰", "13800000000", "1 Chang'an Avenue, Beijing", "100000")
KEY = correct_texts()


async def test_the_app_rides_out_a_server_restart(
    tmp_path: Path, photo: Callable[[], bytes]
) -> None:
    config = ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=60.0)
    async with run_server(config) as first_server:
        env = Env(first_server, tmp_path)
        _, ticket = await env.exam(starts_in=-1)
        port = first_server.port
        runtime = env.runtime(ticket, photos=False)
        runtime.start()
        async with asyncio.timeout(10):
            await runtime.wait_phase(Phase.IDENTITY)
            runtime.send_identity_photo(photo())
            await runtime.wait_phase(Phase.PROFILE)
            runtime.send_profile(*ADDRESS)
            state = await runtime.wait_phase(Phase.EXAM)
        texts = [q.text for q in state.questions]
        q = state.questions[0]
        runtime.answer(q.id, [o.id for o in q.options if o.text in KEY[q.text]])
        async with asyncio.timeout(10):
            await runtime.wait_for(lambda s: s.questions[0].saved and s.pending == 0)
    # The server is gone.
    try:
        async with asyncio.timeout(10):
            state = await runtime.wait_for(lambda s: s.offline)
        assert state.phase is Phase.EXAM
        for q in state.questions[1:]:
            runtime.answer(q.id, [o.id for o in q.options if o.text in KEY[q.text]])
        assert runtime.state.unsaved_count == 3

        config.port = port
        async with run_server(config) as second_server:
            async with asyncio.timeout(20):
                state = await runtime.wait_for(
                    lambda s: s.connected and s.unsaved_count == 0 and s.pending == 0
                )
            assert state.resumed and [q.text for q in state.questions] == texts
            assert await second_server.store.answers(state.session or "") == {
                0: [2],
                1: [0, 2],
                2: [1],
                3: [0],
            }
            runtime.submit()
            async with asyncio.timeout(10):
                state = await runtime.wait_phase(Phase.RESULT)
            assert state.result is not None and state.result.score == 5
    finally:
        await runtime.close()
