"""A watcher's tracks. Decoded (the fallback): the latest frame the gateway's consumer handed
on, never a queue; ended with its source; out of the stream's readers once stopped. Packets:
VP8 frames in order from a keyframe within a bound, Opus packets newest kept, as `av.Packet`s
timed by their RTP timestamps."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import pytest
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from proctor_server.media.receiver_tap import OpusFrame, Vp8Frame
from proctor_server.media.watcher_track import PacketTrack, VideoQueue, WatcherTrack


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


# ------------------------------------------------------------ packets (the tapped path)

K, D = True, False  # a keyframe, a delta frame


@pytest.mark.parametrize(
    ("limit", "arriving", "kept", "asks", "dropped"),
    [
        # a new watcher waits for a keyframe, asking for one at each frame before it
        (5, [D, D, K, D, D], [2, 3, 4], [True, True, False, False, False], 2),
        # in order from the keyframe, nothing skipped while within the bound
        (5, [K, D, D, D, D], [0, 1, 2, 3, 4], [False] * 5, 0),
        # fallen behind: what it holds goes, it waits for the next keyframe, asking
        (3, [K, D, D, D, D, K, D], [5, 6], [False, False, False, True, True, False, False], 5),
        # fallen behind at a keyframe: it starts again there at once
        (3, [K, D, D, K, D], [3, 4], [False] * 5, 3),
    ],
)
def test_a_watchers_video_queue_starts_at_a_keyframe_keeps_order_and_stays_bounded(
    limit: int, arriving: list[bool], kept: list[int], asks: list[bool], dropped: int
) -> None:
    queue = VideoQueue(limit)
    said = [queue.put(Vp8Frame(n, bytes([n]), key)) for n, key in enumerate(arriving)]
    assert said == asks
    assert len(queue.frames) <= limit
    out = []
    while (frame := queue.get()) is not None:
        out.append(frame.rtp)
    assert out == kept
    assert queue.dropped == dropped


async def test_a_packet_track_yields_packets_timed_by_rtp_and_asks_for_a_keyframe() -> None:
    readers: set[PacketTrack] = set()
    asked: list[str] = []
    video = PacketTrack("video", readers, lambda: asked.append("now"))
    assert asked == ["now"]  # a watcher's video starts on a keyframe: asked for at once
    video.put(Vp8Frame(3000, b"delta", False))
    assert asked == ["now", "now"]  # still waiting
    video.put(Vp8Frame(6000, b"key", True))
    video.put(Vp8Frame(9000, b"next", False))
    first, second = await video.recv(), await video.recv()
    assert (bytes(first), first.pts, first.time_base) == (b"key", 6000, Fraction(1, 90_000))
    assert (bytes(second), second.pts) == (b"next", 9000)
    waiting = asyncio.create_task(video.recv())
    await asyncio.sleep(0)
    assert not waiting.done()  # nothing new: it waits
    video.end()
    with pytest.raises(MediaStreamError):
        async with asyncio.timeout(1):
            await waiting
    assert readers == set()


async def test_a_slow_watchers_sound_keeps_the_newest_packets() -> None:
    readers: set[PacketTrack] = set()
    audio = PacketTrack("audio", readers, lambda: None, limit=3)
    for n in range(5):
        audio.put(OpusFrame(960 * n, bytes([n])))
    packets = [await audio.recv() for _ in range(3)]
    assert [p.pts for p in packets] == [1920, 2880, 3840]
    assert packets[0].time_base == Fraction(1, 48_000)
    audio.stop()
    assert readers == set()
    with pytest.raises(MediaStreamError):
        await audio.recv()
