"""The event bus that feeds proctors' live views. In-process today; a Redis or PostgreSQL
LISTEN/NOTIFY bus implements the same methods when several server processes share exams.

It carries typed events (`shared.proctor_protocol.AttemptEvent`). Each event is encoded once,
when it is published, and every subscriber gets the same bytes to send."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass

from shared import proctor_protocol as pp

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000  # a proctor view that falls this far behind is dropped, not the server


@dataclass(frozen=True, slots=True)
class Published:
    event: pp.AttemptEvent
    frame: bytes  # the event's text frame, encoded once for every subscriber


class Subscription:
    def __init__(self, bus: EventBus, exam_id: str):
        self.exam_id = exam_id
        self.queue: asyncio.Queue[Published | None] = asyncio.Queue(QUEUE_LIMIT)
        self._bus = bus

    async def get(self) -> Published | None:
        """The next event, or None once the subscription was dropped or closed."""
        return await self.queue.get()

    def close(self) -> None:
        self._bus._unsubscribe(self)


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self.encoded = 0  # events encoded (once each, whatever the number of subscribers)

    def subscribe(self, exam_id: str) -> Subscription:
        sub = Subscription(self, exam_id)
        self._subs[exam_id].add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.exam_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.exam_id]

    def watched(self, exam_id: str) -> bool:
        """Whether anyone follows this exam (so that events nobody reads are not built)."""
        return bool(self._subs.get(exam_id))

    def publish(self, exam_id: str, event: pp.AttemptEvent) -> None:
        subs = self._subs.get(exam_id)
        if not subs:
            return  # nobody follows this exam: not even encoded
        published = Published(event, pp.encode(event))
        self.encoded += 1
        for sub in list(subs):
            try:
                sub.queue.put_nowait(published)
            except asyncio.QueueFull:
                log.warning("proctor view of %s fell behind; dropping it", exam_id)
                self._unsubscribe(sub)
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    def close(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                try:
                    sub.queue.put_nowait(None)
                except asyncio.QueueFull:
                    pass
        self._subs.clear()
