"""Spreading a herd of CPU work over event-loop turns.

When the store hands back a group of hundreds of writes at once (the paper release: every
waiting candidate's transition commits in one or two transactions), every waiting task wakes
in the same turn of the event loop and builds and sends its paper before the loop looks at its
sockets again: a second or more in which no candidate gets a heartbeat answered or an answer
acknowledged. A `Pacer` lets a few callers through per turn, so the loop polls its sockets
between every few papers: the last paper goes out as late as before, and everyone else's
traffic is served in between.
"""

from __future__ import annotations

import asyncio
from collections import deque

PER_TURN = 16  # papers built per event-loop turn (one is about 1-2 ms)


class Pacer:
    def __init__(self, per_turn: int = PER_TURN):
        self.per_turn = per_turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False

    async def turn(self) -> None:
        """Wait for this caller's turn (at once when nobody else waits)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing carries over
            self._loop, self._waiting, self._scheduled = loop, deque(), False
        if not self._waiting and not self._scheduled:
            self._scheduled = True  # this caller goes now; the next ones wait a turn
            loop.call_soon(self._next)
            return
        fut: asyncio.Future[None] = loop.create_future()
        self._waiting.append(fut)
        await fut

    def _next(self) -> None:
        """Let the next few through; come back next turn while others wait."""
        let = 0
        while self._waiting and let < self.per_turn:
            fut = self._waiting.popleft()
            if not fut.done():  # a caller that gave up is skipped
                fut.set_result(None)
                let += 1
        if self._waiting:
            assert self._loop is not None
            self._loop.call_soon(self._next)
        else:
            self._scheduled = False
