"""A watcher's track: the latest frame the gateway's consumer handed on, never a queue; ended
with its source; out of the stream's readers once stopped."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from proctor_server.media.watcher_track import WatcherTrack


def _frame(pts: int) -> VideoFrame:
    frame = VideoFrame(width=16, height=16, format="yuv420p")
    frame.pts = pts
    return frame


async def test_a_slow_watcher_gets_the_latest_frame_and_skips_the_rest() -> None:
    readers: set[WatcherTrack] = set()
    track = WatcherTrack("video", readers)
    assert readers == {track}
    for pts in (1, 2, 3):
        track.put(_frame(pts))
    assert (await track.recv()).pts == 3
    waiting = asyncio.create_task(track.recv())
    await asyncio.sleep(0)
    assert not waiting.done()  # nothing new: it waits, it does not hand the same frame twice
    track.put(_frame(4))
    async with asyncio.timeout(1):
        assert (await waiting).pts == 4


async def test_the_source_ending_ends_the_watcher() -> None:
    readers: set[WatcherTrack] = set()
    track = WatcherTrack("audio", readers)
    waiting = asyncio.create_task(track.recv())
    await asyncio.sleep(0)
    track.end()
    with pytest.raises(MediaStreamError):
        async with asyncio.timeout(1):
            await waiting
    assert track.readyState == "ended"
    assert readers == set()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_a_frame_put_before_the_end_is_not_handed_after_it() -> None:
    readers: set[WatcherTrack] = set()
    track = WatcherTrack("video", readers)
    track.put(_frame(1))
    track.end()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_a_watcher_who_stops_leaves_the_readers() -> None:
    readers: set[WatcherTrack] = set()
    first, second = WatcherTrack("video", readers), WatcherTrack("video", readers)
    first.stop()
    assert readers == {second}
    with pytest.raises(MediaStreamError):
        await first.recv()
