"""Owned background tasks: nothing is fired and forgotten. A failure is logged; `close()`
cancels what is still running and waits for it.

`Lane`: requests carried out one after another by a task of their own, so that whoever queues
them never waits for the work (a connection's live-media requests beside its other messages)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)


class TaskSet:
    def __init__(self, owner: str):
        self.owner = owner
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task %s failed", self.owner, task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


T = TypeVar("T")


class Lane(Generic[T]):
    """Requests in the order they came, each handled by `handle` in the lane's own task (a
    failure is logged and the next one goes on). At most `size` wait; one that finds the lane
    full is answered by `refuse` instead."""

    __slots__ = ("_handle", "_queue", "_refuse", "_task")

    def __init__(
        self,
        handle: Callable[[T], Awaitable[None]],
        refuse: Callable[[T], Awaitable[None]],
        size: int,
        name: str,
    ) -> None:
        self._handle, self._refuse = handle, refuse
        self._queue: asyncio.Queue[T] = asyncio.Queue(size)
        self._task = asyncio.create_task(self._run(), name=name)

    async def put(self, request: T) -> None:
        try:
            self._queue.put_nowait(request)
        except asyncio.QueueFull:
            await self._refuse(request)

    async def _run(self) -> None:
        while True:
            request = await self._queue.get()
            try:
                await self._handle(request)
            except Exception:
                log.exception("%s: %s failed", self._task.get_name(), type(request).__name__)

    async def close(self) -> None:
        """Drop what is waiting and stop."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
