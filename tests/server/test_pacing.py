"""The pacer that spreads a herd of CPU work (the paper release) over event-loop turns, so the
loop serves its sockets between every few papers."""

from __future__ import annotations

import asyncio

from proctor_server.pacing import Pacer


async def test_a_herd_goes_a_few_per_turn_and_other_work_runs_between() -> None:
    pacer = Pacer(per_turn=4)
    turn = 0
    seen: list[int] = []  # the loop turn in which each caller got through

    async def ticker() -> None:  # stands for the loop's other work: one step per turn
        nonlocal turn
        while True:
            await asyncio.sleep(0)
            turn += 1

    async def caller() -> None:
        await pacer.turn()
        seen.append(turn)

    tick = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(caller() for _ in range(17)))
    finally:
        tick.cancel()
    assert len(seen) == 17
    per_turn = [seen.count(t) for t in sorted(set(seen))]
    assert max(per_turn) <= 4
    assert len(per_turn) >= 4  # 1 at once, then 16 more over at least 4 turns


async def test_a_lone_caller_goes_at_once_and_a_caller_that_gave_up_is_skipped() -> None:
    pacer = Pacer(per_turn=1)
    await asyncio.wait_for(pacer.turn(), 1)  # nobody waits: no delay
    first = asyncio.create_task(pacer.turn())
    gave_up = asyncio.create_task(pacer.turn())
    last = asyncio.create_task(pacer.turn())
    await asyncio.sleep(0)
    gave_up.cancel()
    await asyncio.wait_for(asyncio.gather(first, last), 1)
    assert gave_up.cancelled()
