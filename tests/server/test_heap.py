"""The server's garbage-collection policy (`proctor_server.heap`): survivors frozen so that
collections skip them, a full reclaim that frees what became garbage among them, timed, and
not while the server says it is busy; everything back as it was after close."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from proctor_server.heap import YOUNG_THRESHOLDS, HeapKeeper


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> Node:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_survivors_are_frozen_and_a_reclaim_frees_their_cycles(restored: None) -> None:
    keeper = HeapKeeper(freeze_s=3600)
    keeper.start()
    try:
        assert gc.get_threshold() == YOUNG_THRESHOLDS
        frozen = gc.get_freeze_count()
        assert frozen > 0
        held: Node | None = cycle()  # a cycle alive at a freeze, garbage afterwards
        ref = weakref.ref(held)
        keeper.settle()
        assert gc.get_freeze_count() > frozen
        held = None
        gc.collect()
        assert held is None and ref() is not None  # frozen: collections do not see it
        freed, spent = keeper.reclaim()
        assert ref() is None and freed >= 2 and spent >= 0  # the reclaim does
        assert keeper.reclaims == [(freed, spent)]
    finally:
        await keeper.close()


async def test_no_reclaim_while_busy_then_one_when_calm(restored: None) -> None:
    busy = True
    keeper = HeapKeeper(lambda: busy, reclaim_s=0.0, freeze_s=0.01)
    keeper.start()
    try:
        await asyncio.sleep(0.1)
        assert keeper.reclaims == []
        busy = False
        for _ in range(100):
            if keeper.reclaims:
                break
            await asyncio.sleep(0.01)
        assert keeper.reclaims
    finally:
        await keeper.close()


async def test_close_puts_the_collector_back(restored: None) -> None:
    before = gc.get_threshold()
    keeper = HeapKeeper()
    keeper.start()
    await keeper.close()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
