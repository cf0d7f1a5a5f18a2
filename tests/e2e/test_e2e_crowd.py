"""Many candidates in one process, as the load generator runs them: each runtime with its own
in-memory outbox and a fixed photo, driven by `drive` to the result."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from proctor_client.core.state import Phase, QuestionView
from proctor_client.runtime.backoff import Backoff
from proctor_client.runtime.command import drive
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.runtime.snapshots import StaticPhotos
from proctor_server import admin
from tests.support.exam_env import QUESTIONS, Env, synthetic_photo

CROWD = 20
KEY = {q.text: [q.options[i] for i in q.answer] for q in QUESTIONS}


def right(q: QuestionView) -> list[str]:
    return [o.id for o in q.options if o.text in KEY[q.text]]


async def test_a_crowd_takes_the_exam_concurrently(env: Env) -> None:
    exam_id, _ = await env.exam(starts_in=1.0)
    photos = StaticPhotos(synthetic_photo()())
    runtimes = []
    for n in range(CROWD):
        ticket = await admin.issue_ticket(env.server.store, exam_id, name=f"Candidate {n}")
        runtime = ExamRuntime(
            env.server.ws_url,
            ticket.token,
            outbox_path=Path(":memory:"),
            photos=photos,
            backoff=Backoff(base=0.05, cap=1.0),
        )
        env.runtimes.append(runtime)
        runtimes.append(runtime)
    started = time.perf_counter()
    for runtime in runtimes:
        runtime.start()
    async with asyncio.timeout(60):
        finals = await asyncio.gather(*(drive(r, plan=right) for r in runtimes))
    elapsed = time.perf_counter() - started
    assert all(s.phase is Phase.RESULT for s in finals)
    assert {(s.result.score, s.result.max_score) for s in finals if s.result} == {(5, 5)}
    assert len({s.session for s in finals}) == CROWD
    for state in finals:
        assert len(await env.server.store.answers(state.session or "")) == len(QUESTIONS)
    print(f"{CROWD} candidates from connect to result in {elapsed:.2f} s (start after 1 s)")
