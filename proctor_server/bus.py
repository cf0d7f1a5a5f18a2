"""The event bus that feeds proctors' live views.

It carries typed events (`shared.proctor_protocol.AttemptEvent`). Each event is encoded once,
when it is published, and every subscriber gets the same bytes to send. When several server
processes share exams (`proctor_server.cluster`), every event is also handed to the cluster,
and the events of the other processes arrive through `deliver` for this process's proctors.
Every event, not only those of exams known to be followed elsewhere: a proctor who has just
opened an exam on another process could otherwise miss an event published before that process
heard of them, after their snapshot was read. The one exception is the periodic round-trip
sample (`Connection`), superseded by the next: it goes out only while proctors follow the exam
(`followed`)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from proctor_server.cluster.base import LOCAL, Cluster
from shared import proctor_protocol as pp

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000  # a proctor view that falls this far behind is dropped, not the server


@dataclass(frozen=True, slots=True)
class Published:
    event: pp.AttemptEvent
    frame: bytes  # the event's text frame, encoded once for every subscriber


class Journal(Protocol):
    """Where the events of an exam are kept for proctors who open it later
    (`proctor_server.console.grid_cache`)."""

    def recording(self, exam_id: str) -> bool: ...

    def record(self, exam_id: str, event: pp.AttemptEvent, frame: bytes) -> None: ...


class _NoJournal:
    def recording(self, exam_id: str) -> bool:
        return False

    def record(self, exam_id: str, event: pp.AttemptEvent, frame: bytes) -> None:
        return None


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
    def __init__(self, cluster: Cluster = LOCAL, journal: Journal | None = None) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._cluster = cluster
        self.journal: Journal = journal or _NoJournal()
        self.encoded = 0  # events encoded (once each, whatever the number of subscribers)

    def subscribe(self, exam_id: str) -> Subscription:
        sub = Subscription(self, exam_id)
        first = exam_id not in self._subs
        self._subs[exam_id].add(sub)
        if first:
            self._cluster.watching(list(self._subs))
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.exam_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.exam_id]
                self._cluster.watching(list(self._subs))

    def watched(self, exam_id: str) -> bool:
        """Whether anyone may follow this exam: a proctor here, another process, or a proctor
        who opens it later from the journal (so that events nobody reads are not built)."""
        return (
            bool(self._subs.get(exam_id))
            or not self._cluster.alone
            or self.journal.recording(exam_id)
        )

    def followed(self, exam_id: str) -> bool:
        """Whether a proctor follows this exam now, here or on another process (for periodic
        samples, which nobody misses if one is not sent)."""
        return bool(self._subs.get(exam_id)) or self._cluster.remote_watched(exam_id)

    def publish(self, exam_id: str, event: pp.AttemptEvent) -> None:
        subs = self._subs.get(exam_id)
        if isinstance(event, pp.Connection):
            remote = self._cluster.remote_watched(exam_id)
        else:
            remote = not self._cluster.alone
        journalled = self.journal.recording(exam_id)
        if not subs and not remote and not journalled:
            return  # nobody follows this exam: not even encoded
        published = Published(event, pp.encode(event))
        self.encoded += 1
        if journalled:
            self.journal.record(exam_id, event, published.frame)
        if remote:
            self._cluster.publish(exam_id, published.frame)
        if subs:
            self._fan_out(exam_id, subs, published)

    def deliver(self, exam_id: str, frame: str) -> None:
        """An event another process published, for the proctors connected here."""
        subs = self._subs.get(exam_id)
        journalled = self.journal.recording(exam_id)
        if not subs and not journalled:
            return
        event = pp.decode_feed(frame)
        if not isinstance(event, pp.AttemptEvent):
            log.error("the cluster carried a message that is not an event: %.80s", frame)
            return
        published = Published(event, frame.encode())
        if journalled:
            self.journal.record(exam_id, event, published.frame)
        if subs:
            self._fan_out(exam_id, subs, published)

    def _fan_out(self, exam_id: str, subs: set[Subscription], published: Published) -> None:
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
