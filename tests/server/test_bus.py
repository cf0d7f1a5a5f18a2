"""The event bus: an event is encoded once for all its subscribers, nothing is encoded for an
exam nobody follows, and a subscriber that falls behind is dropped, not the server."""

from __future__ import annotations

from proctor_server.bus import QUEUE_LIMIT, EventBus
from shared import proctor_protocol as pp


def left(attempt: str = "a-1") -> pp.Left:
    return pp.Left(exam="e-1", at="2026-07-25T06:00:00.000Z", attempt=attempt, candidate="C1")


async def test_one_event_is_encoded_once_and_the_same_bytes_reach_every_subscriber() -> None:
    bus = EventBus()
    first, second = bus.subscribe("e-1"), bus.subscribe("e-1")
    other = bus.subscribe("e-2")
    event = left()
    bus.publish("e-1", event)
    a, b = await first.get(), await second.get()
    assert a is not None and b is not None
    assert a.frame is b.frame and a.event is event
    assert pp.decode_feed(a.frame) == event
    assert bus.encoded == 1 and other.queue.empty()


async def test_an_exam_nobody_follows_costs_no_encoding() -> None:
    bus = EventBus()
    bus.publish("e-1", left())
    sub = bus.subscribe("e-1")
    sub.close()
    bus.publish("e-1", left())
    assert bus.encoded == 0 and not bus.watched("e-1")


async def test_a_subscriber_that_falls_behind_is_dropped() -> None:
    bus = EventBus()
    slow, keeping_up = bus.subscribe("e-1"), bus.subscribe("e-1")
    for n in range(QUEUE_LIMIT):
        bus.publish("e-1", left(f"a-{n}"))
        assert await keeping_up.get() is not None
    bus.publish("e-1", left("one too many"))
    assert await slow.get() is None  # its backlog is dropped with it
    published = await keeping_up.get()
    assert published is not None and published.event.attempt == "one too many"


async def test_closing_the_bus_ends_every_subscription() -> None:
    bus = EventBus()
    subs = [bus.subscribe("e-1"), bus.subscribe("e-2")]
    bus.close()
    assert [await s.get() for s in subs] == [None, None]
    assert not bus.watched("e-1")
