"""Two processes' clusters on one real PostgreSQL database (here two `PostgresCluster`s in one
event loop, each with its own connections, as two processes would have): events and signals
cross, a process does not hear itself, a reply comes back, a long payload travels by row, a
duty is led by one at a time and taken over when its leader's connection ends, and each process
knows which attempts are connected to the others (a late one too), not counting a dead one's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from proctor_server.cluster import postgres as postgres_cluster
from proctor_server.cluster import signals as s
from proctor_server.cluster.postgres import PostgresCluster
from shared.vocabulary import FinishReason
from tests.media.peers import poll
from tests.support.postgres import Cluster

T = TypeVar("T")
Pair = tuple[PostgresCluster, "Recorder", PostgresCluster, "Recorder"]


@dataclass
class Recorder:
    """A process's side: what reached it; attempts in `holds` are "connected here"."""

    holds: set[str] = field(default_factory=set)
    events: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    signals: asyncio.Queue[s.AttemptSignal] = field(default_factory=asyncio.Queue)

    def on_event(self, exam: str, frame: str) -> None:
        self.events.put_nowait((exam, frame))

    async def on_signal(self, signal: s.AttemptSignal) -> bool:
        self.signals.put_nowait(signal)
        return signal.attempt in self.holds

    def present(self) -> list[str]:
        return sorted(self.holds)


@pytest.fixture
async def pair(
    postgres: Cluster,
) -> AsyncIterator[tuple[PostgresCluster, Recorder, PostgresCluster, Recorder]]:
    dsn = postgres.create("cluster")
    a, b = PostgresCluster(dsn), PostgresCluster(dsn)
    ra, rb = Recorder(), Recorder()
    await a.start(ra)
    await b.start(rb)
    try:
        yield a, ra, b, rb
    finally:
        await a.close()
        await b.close()


async def _next(queue: asyncio.Queue[T]) -> T:
    return await asyncio.wait_for(queue.get(), 10)


async def test_events_and_signals_reach_the_other_process_only(pair: Pair) -> None:
    a, ra, b, rb = pair
    a.publish("e1", b'{"type":"joined"}')
    a.tell(s.Finished(origin="", exam="e1", attempt="x", reason=FinishReason.TIME_UP))
    assert await _next(rb.events) == ("e1", '{"type":"joined"}')
    finished = await _next(rb.signals)
    assert isinstance(finished, s.Finished) and finished.origin == a.origin
    # and back the other way; A heard nothing of its own
    b.publish("e2", b'{"type":"left"}')
    assert await _next(ra.events) == ("e2", '{"type":"left"}')
    assert ra.signals.empty()


async def test_events_keep_their_order(pair: Pair) -> None:
    a, _, _, rb = pair
    for i in range(300):
        a.publish("e1", f'{{"i":{i}}}'.encode())
    assert [(await _next(rb.events))[1] for _ in range(300)] == [f'{{"i":{i}}}' for i in range(300)]


async def test_a_payload_too_long_for_notify_travels_by_row(pair: Pair) -> None:
    a, _, _, rb = pair
    frame = '{"text":"' + "考" * 4000 + '"}'  # 12 KB of UTF-8
    a.publish("e1", frame.encode())
    assert await _next(rb.events) == ("e1", frame)


async def test_a_message_is_delivered_by_the_process_holding_the_attempt(pair: Pair) -> None:
    a, _, _, rb = pair
    rb.holds.add("x")
    assert await a.deliver("e1", "x", '{"type":"notice","text":"hello"}') is True
    delivered = await _next(rb.signals)
    assert isinstance(delivered, s.Deliver) and delivered.attempt == "x"


async def test_a_message_nobody_holds_is_not_delivered(pair: Pair) -> None:
    a, _, _, rb = pair
    assert await a.deliver("e1", "nobody", '{"type":"notice","text":"hello"}') is False
    asked = await _next(rb.signals)
    assert isinstance(asked, s.Deliver)  # it was asked, and did not hold it


async def test_watching_is_known_to_the_others_and_forgotten(pair: Pair) -> None:
    a, _, b, rb = pair
    a.watching(["e1"])
    a.tell(s.Entered(origin="", exam="e1", attempt="mark"))  # sent after the list, in order
    await _next(rb.signals)
    assert b.remote_watched("e1") and not b.remote_watched("e2")
    a.watching([])
    a.tell(s.Entered(origin="", exam="e1", attempt="mark"))
    await _next(rb.signals)
    assert not b.remote_watched("e1")


async def test_one_process_leads_a_duty_and_another_takes_over_when_it_dies(
    postgres: Cluster,
) -> None:
    dsn = postgres.create("lead")
    a, b = PostgresCluster(dsn), PostgresCluster(dsn)
    await a.start(Recorder())
    await b.start(Recorder())
    try:
        entered = asyncio.Event()
        async with a.leading("exam-timers:e1"):
            assert not await b._try_lock("pg_try_advisory_lock", "exam-timers:e1")
            assert await b._try_lock("pg_try_advisory_lock", "exam-timers:e2")  # another duty

            async def follow() -> None:
                async with b.leading("exam-timers:e1"):
                    entered.set()
                    await asyncio.Event().wait()

            waiting = asyncio.create_task(follow())
            await a.close()  # its connections end as a killed process's would
            await asyncio.wait_for(entered.wait(), 10)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
    finally:
        await a.close()
        await b.close()


async def _mark(sender: PostgresCluster, receiver: Recorder) -> None:
    """A signal sent after the ones before it, and taken by the other process: those before it
    have been taken too (one channel, in order)."""
    sender.tell(s.Entered(origin="", exam="e1", attempt="mark"))
    while (await _next(receiver.signals)).attempt != "mark":
        pass


async def test_each_process_knows_which_attempts_are_connected_to_the_others(pair: Pair) -> None:
    a, ra, b, rb = pair  # (each answers the other's roll call with what it holds then)
    ra.holds.add("x")
    a.tell(s.Entered(origin="", exam="e1", attempt="x"))
    await _mark(a, rb)
    assert b.present_elsewhere("x") and not a.present_elsewhere("x")
    assert not b.present_elsewhere("y")
    # x comes back through B; A's old connection ends after that: x stays connected, to B
    rb.holds.add("x")
    b.tell(s.Entered(origin="", exam="e1", attempt="x"))
    await _mark(b, ra)
    ra.holds.discard("x")
    a.tell(s.Gone(origin="", exam="e1", attempt="x"))
    await _mark(a, rb)
    assert a.present_elsewhere("x") and not b.present_elsewhere("x")
    rb.holds.discard("x")
    b.tell(s.Gone(origin="", exam="e1", attempt="x"))
    await _mark(b, ra)
    assert not a.present_elsewhere("x")


async def test_a_process_that_starts_learns_who_is_connected_to_the_others(
    postgres: Cluster,
) -> None:
    dsn = postgres.create("roster")
    a, late = PostgresCluster(dsn), PostgresCluster(dsn)
    held, heard = Recorder(holds={"x", "y"}), Recorder()
    await a.start(held)
    try:
        await late.start(heard)  # asks the others who is connected to them
        async with asyncio.timeout(10):  # A answers with its roster
            await poll(lambda: late.present_elsewhere("x") and late.present_elsewhere("y"))
        assert not late.present_elsewhere("z")
    finally:
        await a.close()
        await late.close()


async def test_a_process_not_heard_from_holds_nobody(
    postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed process sends no `Gone`: its attempts stop counting as connected once it has
    not been heard from for `WATCH_EXPIRES_S` (every live process is heard every
    `WATCH_EVERY_S`, even with no proctor to follow anything)."""
    monkeypatch.setattr(postgres_cluster, "WATCH_EVERY_S", 0.05)
    monkeypatch.setattr(postgres_cluster, "WATCH_EXPIRES_S", 0.5)
    dsn = postgres.create("alive")
    a, b = PostgresCluster(dsn), PostgresCluster(dsn)
    rb = Recorder()
    await a.start(Recorder(holds={"x"}))
    await b.start(rb)
    try:
        a.tell(s.Entered(origin="", exam="e1", attempt="x"))
        await _mark(a, rb)
        heard = b.received
        async with asyncio.timeout(10):
            await poll(lambda: b.received >= heard + 20)  # a second of A's repeats: alive
            assert b.present_elsewhere("x")
            await a.close()  # as a killed process: no Gone
            await poll(lambda: not b.present_elsewhere("x"))
    finally:
        await a.close()
        await b.close()
