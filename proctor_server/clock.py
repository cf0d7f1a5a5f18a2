"""The server's clock, passed in: entry, deadlines, releases and rotations all read `now` and
sleep through one `Clock`, so tests can move time instead of waiting for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The server time (timezone-aware UTC)."""
        ...

    async def sleep_until(self, moment: datetime) -> None:
        """Return once `now()` has reached `moment` (at once if it already has)."""
        ...


class SystemClock:
    """The machine's clock. Long sleeps wake up hourly and re-check, so a clock that was
    stepped (NTP, a suspended VM) is followed."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        while True:
            delay = (moment - self.now()).total_seconds()
            if delay <= 0:
                return
            await asyncio.sleep(min(delay, 3600))


SYSTEM_CLOCK = SystemClock()
