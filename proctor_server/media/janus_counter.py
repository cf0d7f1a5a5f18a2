"""What arrives of a stream on Janus, seen from the exam server: an aiortc peer that subscribes
to the stream like a proctor, decodes it and counts the frames and the video's size.

Janus forwards RTP without decoding it, so it cannot say how many frames a candidate's camera
delivered; the environment check's probe needs exactly that ("frames arrived, at this size").
Only probe streams (short, a few at a time) are counted this way; exam streams are not decoded
by the server on Janus."""

from __future__ import annotations

import asyncio
import contextlib

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame


class FrameCounter:
    def __init__(self) -> None:
        self.video_frames = 0
        self.audio_frames = 0
        self.width = 0
        self.height = 0
        # host candidates only: Janus is on the server's own network
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._tasks: list[asyncio.Task[None]] = []

        @self._pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.create_task(self._consume(track), name="janus-count"))

    async def answer(self, offer_sdp: str) -> str:
        """Answer Janus's subscriber offer (ValueError when it cannot be used)."""
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        description = self._pc.localDescription
        assert description is not None
        return description.sdp

    async def _consume(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    self.video_frames += 1
                    self.width, self.height = frame.width, frame.height
                elif isinstance(frame, AudioFrame):
                    self.audio_frames += 1

    async def close(self) -> None:
        await self._pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
