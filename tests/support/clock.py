"""A clock that tests move by hand: sleepers wake when `advance` passes their moment, so a
deadline an hour away is reached at once, and a test decides exactly when it is."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime):
        self._now = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._slept = asyncio.Event()  # set whenever a task starts to sleep

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, moment: datetime) -> None:
        if moment <= self._now:
            await asyncio.sleep(0)  # still a suspension point, like the real clock
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (moment, next(self._order), future))
        self._slept.set()
        await future

    async def next_wake(self, after: datetime | None = None) -> datetime:
        """The earliest moment a task sleeps until that is later than `after` (default: now),
        waiting for a task to go to sleep if none has yet: timers are observed, not guessed."""
        after = self._now if after is None else after
        while True:
            live = [m for m, _, f in self._sleepers if not f.done() and m > after]
            if live:
                return min(live)
            self._slept.clear()
            await self._slept.wait()

    async def run_until(self, moment: datetime) -> None:
        """Move to `moment` once some task sleeps until then or later (a timer being set)."""
        await self.next_wake(moment - timedelta(microseconds=1))
        self.set(moment)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def set(self, moment: datetime) -> None:
        """Move to `moment` (never backwards) and wake everyone whose time has come."""
        self._now = max(self._now, moment)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
