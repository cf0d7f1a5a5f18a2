"""Publishers that cost this machine almost nothing: the app's synthetic camera and tone,
encoded once (VP8 with aiortc's own encoder settings at the app's 300 kb/s cap, the sound with
the app's own voice encoder: mono Opus at 24 kb/s, proctor_client/media/voice.py), then sent
again and again in real time by each publisher's tracks as encoded packets (aiortc packs a
track's `av.Packet`s without encoding them, as it does the app's sound).

The server receives what a candidate's app sends (the same codecs, sizes, rates and bitrate;
a keyframe every 2 s, where the app's encoder makes one when the server asks, every 4 s), but
the publishing process no longer encodes 20 streams on the two cores it shares with the
server being measured: candidates are on machines of their own in real use. `bench/media.py
--publishers app` keeps the app's own runtime (the full client path) for comparison.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import ClientConnection

from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.devices.microphones import ToneMicrophone
from proctor_client.media.publisher import DEFAULT_MAX_BITRATE
from proctor_client.media.tracks import AUDIO_PTIME_S, VIDEO_TIME_BASE, VideoSettings, video_frame
from proctor_client.media.voice import OPUS_TIME_BASE, VoiceEncoder
from shared import protocol as p

LOOP_S = 20  # seconds of media encoded once and sent in a loop
KEYFRAME_EVERY = 30  # frames: a keyframe every 2 s at 15 fps (the loop starts on one)


def encoded_video(settings: VideoSettings | None = None) -> list[bytes]:
    """LOOP_S seconds of the synthetic camera as VP8 frames, encoded as aiortc's `Vp8Encoder`
    encodes (CBR at the app's cap), with a keyframe every KEYFRAME_EVERY frames."""
    settings = settings or VideoSettings()
    camera = SyntheticCamera(fps=settings.fps, realtime=False)
    rate = DEFAULT_MAX_BITRATE
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = settings.width, settings.height, "yuv420p"
    codec.bit_rate = rate
    codec.gop_size = KEYFRAME_EVERY
    codec.qmin, codec.qmax = 2, 56
    codec.time_base = fractions.Fraction(1, round(settings.fps))
    codec.options = {
        "bufsize": str(rate),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(rate),
        "maxrate": str(rate),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    frames: list[bytes] = []
    for n in range(round(LOOP_S * settings.fps)):
        frame = video_frame(camera.read(), settings.width, settings.height)
        frame.pts = n
        frame.time_base = codec.time_base
        frames += [bytes(packet) for packet in codec.encode(frame)]
    return frames


def encoded_tone() -> list[bytes]:
    """LOOP_S seconds of the app's tone as the app's microphone track encodes it (its
    `VoiceEncoder` on 20 ms buffers of the microphone: 20 ms packets of mono Opus)."""
    microphone = ToneMicrophone(realtime=False)
    encoder = VoiceEncoder(microphone.sample_rate)
    step = round(microphone.sample_rate * AUDIO_PTIME_S)
    packets: list[bytes] = []
    while len(packets) < round(LOOP_S / AUDIO_PTIME_S):
        packets += [bytes(packet) for packet in encoder.encode(microphone.read(step))]
    return packets


class ReplayTrack(MediaStreamTrack):
    """Encoded packets sent in a loop, each at its time (real time from the first `recv`)."""

    def __init__(
        self, kind: str, packets: list[bytes], interval_s: float, time_base: fractions.Fraction
    ) -> None:
        super().__init__()
        self.kind = kind
        self._packets = packets
        self._interval = interval_s
        self._step = round(interval_s / time_base)
        self._time_base = time_base
        self._start: float | None = None
        self._sent = 0

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._sent * self._interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        packet = av.Packet(self._packets[self._sent % len(self._packets)])
        packet.pts = packet.dts = self._sent * self._step
        packet.time_base = self._time_base
        self._sent += 1
        return packet


def replay_peer(video: list[bytes], audio: list[bytes], fps: float) -> RTCPeerConnection:
    """A send-only peer connection with the two replayed tracks."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(ReplayTrack("video", video, 1 / fps, VIDEO_TIME_BASE), direction="sendonly")
    pc.addTransceiver(
        ReplayTrack("audio", audio, AUDIO_PTIME_S, OPUS_TIME_BASE), direction="sendonly"
    )
    return pc


async def publish_on(ws: ClientConnection, pc: RTCPeerConnection) -> None:
    """Offer `pc`'s tracks on a candidate socket (as the app does, no trickle) and take the
    server's answer; the socket's other messages are read and dropped."""
    await pc.setLocalDescription(await pc.createOffer())
    assert pc.localDescription is not None
    await ws.send(p.encode(p.RtcOffer(sdp=pc.localDescription.sdp)))
    while True:
        message = p.decode_server(await ws.recv())
        if isinstance(message, p.RtcAnswer):
            await pc.setRemoteDescription(RTCSessionDescription(sdp=message.sdp, type="answer"))
            return
        if isinstance(message, p.Error):
            raise RuntimeError(f"the server refused the offer: {message.code}: {message.message}")


async def drain(ws: ClientConnection) -> None:
    """Read a candidate socket's messages (nonces, events) so that nothing queues."""
    async for _ in ws:
        pass
