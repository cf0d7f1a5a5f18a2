"""The watchers get the candidate's packets, not frames decoded and encoded again: a real aiortc
candidate publishes a palette to the gateway, whose keyframe interval is too long to help; a
proctor's aiortc peer that joins mid-stream gets a picture at once (a keyframe asked of the
candidate and relayed first) in the colours sent, while the gateway decodes no video; and the
keyframe the proctor's peer asks for (RTCP PLI) reaches the candidate's sender."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from proctor_client.devices.microphones import ToneMicrophone
from proctor_client.media.tracks import MicrophoneTrack
from proctor_server.media import receiver_tap
from proctor_server.media.aiortc_gateway import AiortcGateway
from proctor_server.media.gateway import StreamKey, Watcher
from tests.media.fakes import palette_index
from tests.media.peers import TONE_HZ, poll
from tests.media.test_receiver_tap import _Palette

TIMEOUT_S = 30.0


def _count_keyframe_asks(sender: RTCRtpSender) -> list[int]:
    """Count what reaches the candidate's video sender as a keyframe ask (PLI or FIR)."""
    asks: list[int] = []
    original = sender._send_keyframe

    def counted() -> None:
        asks.append(1)
        original()

    sender._send_keyframe = counted  # type: ignore[method-assign]
    return asks


async def test_a_watcher_joining_mid_stream_gets_the_packets_from_a_keyframe_and_asks_for_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway = AiortcGateway(keyframe_interval_s=600.0)  # only asked-for keyframes come
    candidate = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video_sender = candidate.addTrack(_Palette())
    candidate.addTrack(MicrophoneTrack(ToneMicrophone(frequency=TONE_HZ, level=0.5)))
    asks = _count_keyframe_asks(video_sender)
    proctor = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    colours: list[int | None] = []
    tasks: list[asyncio.Task[None]] = []
    key = StreamKey("exam", "attempt")

    async def collect(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    colours.append(palette_index(frame))

    @proctor.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.create_task(collect(track)))

    async def send_offer(attempt: str, sdp: str) -> bool:
        await proctor.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await proctor.setLocalDescription(await proctor.createAnswer())
        await gateway.watcher_answer("w1", attempt, proctor.localDescription.sdp)
        return True

    try:
        await candidate.setLocalDescription(await candidate.createOffer())
        answer = await gateway.publish(key, candidate.localDescription.sdp, lambda *_: None)
        await candidate.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: _video_frames(gateway, key.attempt) >= 45)
        before = len(asks)  # the stream's first keyframe came unasked; none since
        tap = gateway._streams[key.attempt].taps["video"]
        keyframes_before = tap.last_key

        await gateway.watch(Watcher("w1", "exam", send_offer), key.attempt)
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: len(colours) >= 15)
        assert len(asks) > before  # the new watcher's keyframe, asked of the candidate
        assert tap.last_key > keyframes_before
        assert all(c is not None for c in colours[:15]), colours  # a picture from the start
        stats = gateway.stats(key.attempt)
        assert stats is not None and stats.watchers == 1
        assert tap.decoded == 0  # relayed, never decoded here

        # The proctor's peer lost a picture and asks (RTCP PLI): the ask reaches the candidate.
        monkeypatch.setattr(receiver_tap, "PLI_RETRY_S", 0.0)  # no wait since the last ask
        receiver = next(t.receiver for t in proctor.getTransceivers() if t.kind == "video")
        ssrc = receiver.getSynchronizationSources()[0].source
        asked = len(asks)
        await receiver._send_rtcp_pli(ssrc)
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: len(asks) > asked)
    finally:
        await proctor.close()
        await candidate.close()
        await gateway.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _video_frames(gateway: AiortcGateway, attempt: str) -> int:
    stats = gateway.stats(attempt)
    return stats.video_frames if stats is not None else 0
