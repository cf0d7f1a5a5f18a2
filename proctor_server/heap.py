"""Garbage collection for a server holding thousands of connections: no full collection
during a sitting, a measured one at a moment the operator can afford.

CPython's full (generation-2) collection walks every tracked object: with thousands of
candidates connected that is hundreds of thousands of objects and a pause of 100 ms or more in
which no candidate gets an acknowledgement. `HeapKeeper` keeps the objects that have survived
out of every collection instead: each second it collects the young generations (a few
milliseconds: only what was allocated since) and freezes the survivors (`gc.freeze()`, which
moves them to the permanent generation that collections skip). Full collections then only
walk the objects of the last second.

The cost: a reference cycle among frozen objects that becomes garbage later (a connection that
closed, say) is not freed until the next reclaim, which unfreezes everything and runs one full
collection, timed and logged. Reclaims run every `reclaim_s` seconds (default 10 minutes) but
never while `busy()` says the server is in a sensitive moment (the entry and the first minutes
of a sitting); memory between two reclaims grows by the cyclic garbage of that period only,
about the size of the connections that closed in it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import traceback
from collections.abc import Callable

log = logging.getLogger(__name__)

FREEZE_EVERY_S = 1.0
RECLAIM_EVERY_S = 600.0
# Young generations: larger than the default 700 so that a burst of joins does not run
# hundreds of tiny collections, small enough that one stays a few milliseconds.
YOUNG_THRESHOLDS = (5_000, 10, 10)


class HeapKeeper:
    def __init__(
        self,
        busy: Callable[[], bool] = lambda: False,
        *,
        reclaim_s: float = RECLAIM_EVERY_S,
        freeze_s: float = FREEZE_EVERY_S,
    ):
        self._busy = busy
        self.reclaim_s = reclaim_s
        self.freeze_s = freeze_s
        self._task: asyncio.Task[None] | None = None
        self._last_reclaim = time.monotonic()
        self._thresholds = gc.get_threshold()
        self.reclaims: list[tuple[int, float]] = []  # (objects freed, seconds) per reclaim

    def start(self) -> None:
        """After start-up: everything built so far is long-lived; collect once and freeze it."""
        gc.set_threshold(*YOUNG_THRESHOLDS)
        gc.collect()
        gc.freeze()
        self._task = asyncio.create_task(self._keep(), name="heap-keeper")

    def settle(self) -> None:
        """Right after a burst of long-lived allocations (the paper release): collect the young
        generations and freeze what survived."""
        gc.collect(1)
        gc.freeze()

    def reclaim(self) -> tuple[int, float]:
        """One full collection over everything, frozen objects included; timed and logged."""
        started = time.perf_counter()
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        spent = time.perf_counter() - started
        self._last_reclaim = time.monotonic()
        self.reclaims.append((freed, spent))
        log.info(
            "memory: full collection freed %d objects in %.0f ms; %d objects kept",
            freed,
            spent * 1000,
            gc.get_freeze_count(),
        )
        return freed, spent

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.freeze_s)
            if time.monotonic() - self._last_reclaim >= self.reclaim_s and not self._busy():
                self.reclaim()
            else:
                self.settle()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        gc.unfreeze()
        gc.set_threshold(*self._thresholds)


def release_frames(error: BaseException) -> None:
    """Let go of what the frames behind a closed connection's exception still hold. A message
    cut half-way leaves its received fragments in a local of the reader's finished frame, which
    the exception's traceback keeps, in a reference cycle with the connection; the keeper has
    frozen that cycle, so without this the megabytes would stay until the next reclaim, minutes
    later: memory anyone could pile up by cutting uploads. Call it where a connection's
    handler catches its `ConnectionClosed`."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if e.__traceback__ is not None:
            traceback.clear_frames(e.__traceback__)
        pending += [e.__cause__, e.__context__]
