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

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, moment: datetime) -> None:
        if moment <= self._now:
            await asyncio.sleep(0)  # still a suspension point, like the real clock
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (moment, next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many tasks wait on this clock (a test can wait until its timers are set)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_wake(self) -> datetime | None:
        live = [m for m, _, f in self._sleepers if not f.done()]
        return min(live) if live else None

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)

    def set(self, moment: datetime) -> None:
        """Move to `moment` (never backwards) and wake everyone whose time has come."""
        self._now = max(self._now, moment)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
