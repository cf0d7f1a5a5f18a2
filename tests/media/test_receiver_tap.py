"""The VP8 and Opus frames as received, before decoding: the keyframe header read from
libvpx's own frames, and the tap on the pinned aiortc's receivers (a real aiortc peer publishes
a palette and a tone to the gateway): every frame reaches the `on_encoded` hook, the first
video frame is a keyframe, the receiver asks for more keyframes on time, the frames remux into
a clip that decodes to the colours and the tone sent. No VP8 frame reaches aiortc's decoder
while no hook needs decoded video, nor any Opus packet while none needs decoded sound, yet the
figures count every frame and the picture's size; a hook that needs them decoded, added
mid-stream, gets them. This test fails when an aiortc
upgrade takes the tap's way in away (the clips would fall back to JPEG pictures and 16 kHz
sound, the watchers to decoded and re-encoded frames), or the sender's `_send_keyframe` that
the watchers' keyframe asks are forwarded through (watcher_track.py)."""

from __future__ import annotations

import asyncio
import fractions
import inspect
import io
import queue
from types import SimpleNamespace

import av
import numpy as np
import pytest
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from av import AudioFrame, VideoFrame

from proctor_client.devices.microphones import ToneMicrophone
from proctor_client.media.tracks import MicrophoneTrack
from proctor_server.media.aiortc_gateway import AiortcGateway
from proctor_server.media.clip_file import OpusPacket
from proctor_server.media.clip_remux import VideoPacket, remux_clip
from proctor_server.media.gateway import StreamKey
from proctor_server.media.receiver_tap import (
    EncodedFrame,
    OpusFrame,
    Vp8Frame,
    tap_receiver,
    vp8_keyframe_size,
)
from tests.media.fakes import PALETTE_BGR, audio_samples, dominant_frequency, palette_index
from tests.media.peers import TONE_HZ, poll

KEYFRAME_EVERY_S = 0.5
TIMEOUT_S = 30.0


def _libvpx_frames(width: int, height: int, count: int) -> list[bytes]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 15)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames: list[bytes] = []
    for n in range(count):
        image = np.full((height, width, 3), PALETTE_BGR[n % 4], np.uint8)
        frame = VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        frame.pts = n
        frames += [bytes(packet) for packet in encoder.encode(frame)]
    return frames


def test_a_keyframe_tells_its_size_a_delta_frame_does_not() -> None:
    key, delta = _libvpx_frames(320, 240, 2)
    assert vp8_keyframe_size(_libvpx_frames(640, 360, 1)[0]) == (640, 360)
    cases = [
        (key, (320, 240)),
        (delta, None),  # bit 0 of the first byte set: an inter frame
        (key[:9], None),  # too short for the sizes
        (key[:3] + b"\x00\x00\x00" + key[6:], None),  # no start code
        (b"", None),
    ]
    for data, size in cases:
        assert vp8_keyframe_size(data) == size


def test_no_tap_without_the_receivers_queue_or_once_its_decoder_runs() -> None:
    def deliver(frame: EncodedFrame) -> None:
        raise AssertionError("never called")

    bare = SimpleNamespace(_send_rtcp_pli=print, getSynchronizationSources=list)
    started = SimpleNamespace(
        _RTCRtpReceiver__decoder_queue=queue.Queue(),
        _RTCRtpReceiver__decoder_thread=object(),
        _send_rtcp_pli=print,
        getSynchronizationSources=list,
    )
    for receiver in (bare, started, SimpleNamespace()):
        assert tap_receiver(receiver, deliver) is None


class _Palette(VideoStreamTrack):
    """320x240, a palette colour a second at aiortc's 30 frames a second."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        colour = PALETTE_BGR[(self.sent // 30) % len(PALETTE_BGR)]
        self.sent += 1
        frame = VideoFrame.from_ndarray(np.full((240, 320, 3), colour, np.uint8), format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class _Hook:
    def __init__(self) -> None:
        self.encoded: list[Vp8Frame] = []
        self.opus: list[OpusFrame] = []
        self.decoded = 0

    def on_encoded(self, key: StreamKey, frame: EncodedFrame) -> None:
        if isinstance(frame, Vp8Frame):
            self.encoded.append(frame)
        else:
            self.opus.append(frame)

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        self.decoded += isinstance(frame, VideoFrame)

    async def on_end(self, key: StreamKey) -> None:
        return None


class _Decoded:
    """A hook that needs decoded video and sound (it has no `on_encoded`)."""

    def __init__(self) -> None:
        self.colours: list[int | None] = []
        self.sound = 0

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        if isinstance(frame, VideoFrame):
            self.colours.append(palette_index(frame))
        else:
            self.sound += 1

    async def on_end(self, key: StreamKey) -> None:
        return None


def test_the_pinned_sender_takes_keyframe_asks_through_send_keyframe() -> None:
    """What the watchers' keyframe asks are forwarded through (watcher_track.py)."""
    assert callable(getattr(RTCRtpSender, "_send_keyframe", None))
    assert "self._send_keyframe()" in inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "self.__encoder.pack(data)" in inspect.getsource(RTCRtpSender._next_encoded_frame)


async def test_the_tap_hands_on_every_received_frame_with_keyframes_on_time() -> None:
    gateway = AiortcGateway(keyframe_interval_s=KEYFRAME_EVERY_S)
    hook = _Hook()
    gateway.add_hook(hook)
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender.addTrack(_Palette())
    sender.addTrack(MicrophoneTrack(ToneMicrophone(frequency=TONE_HZ, level=0.5)))
    key = StreamKey("exam", "attempt")
    try:
        await sender.setLocalDescription(await sender.createOffer())
        answer = await gateway.publish(key, sender.localDescription.sdp, lambda *_: None)
        await sender.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: len(hook.encoded) >= 90 and len(hook.opus) > 50)
        stats = gateway.stats(key.attempt)
        assert stats is not None and stats.video_frames >= 90 and stats.audio_frames > 50
        assert (stats.width, stats.height) == (320, 240)  # from the keyframes' headers
        video_tap = gateway._streams[key.attempt].taps["video"]
        assert hook.decoded == 0  # the receiver's decoder never made a picture
        assert video_tap.decoded == 0 and video_tap.withheld >= 90  # nor got a VP8 frame
        audio_tap = gateway._streams[key.attempt].taps["audio"]
        assert audio_tap.decoded == 0 and audio_tap.withheld > 50  # nor an Opus packet
        # A hook that needs decoded video turns the decoder on, from a keyframe asked for.
        needs = _Decoded()
        gateway.add_hook(needs)
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: len(needs.colours) >= 10 and needs.sound >= 10)
        assert {c for c in needs.colours if c is not None}
        assert audio_tap.decoded >= 10  # and the sound's (it needs decoded sound too)
    finally:
        await sender.close()
        await gateway.close()
    frames = list(hook.encoded)
    assert frames[0].keyframe and vp8_keyframe_size(frames[0].data) == (320, 240)
    rtp = [f.rtp for f in frames]
    assert rtp == sorted(rtp) and len(set(rtp)) == len(rtp)  # one hand-over per frame
    # aiortc's encoder makes one keyframe unless asked: these came from the receiver's requests
    keys = [f.rtp / 90_000 for f in frames if f.keyframe]
    span = (rtp[-1] - rtp[0]) / 90_000
    assert len(keys) >= span / (KEYFRAME_EVERY_S + 1.0), (keys, span)
    assert max(np.diff(keys), default=0) <= KEYFRAME_EVERY_S + 1.0

    # the frames as received remux into a file that decodes, in the colours sent, timed by RTP
    packets = [VideoPacket(1000 + f.rtp / 90_000, f.rtp, f.data, f.keyframe) for f in frames]
    data = remux_clip(packets, [], packets[0].at, rate=16_000)
    decoded = list(av.open(io.BytesIO(data), mode="r").decode(video=0))
    assert len(decoded) == len(frames)
    last = decoded[-1].time
    assert last is not None and abs(last - span) < 0.05
    assert len({palette_index(f) for f in decoded} - {None}) >= 2

    # the Opus packets: one per 20 ms, in order, copied into a clip whose sound is the tone
    opus = list(hook.opus)
    steps = set(np.diff([f.rtp for f in opus]))
    assert steps == {960}, steps  # 20 ms at 48 kHz, none lost or repeated on loopback
    sounds = [OpusPacket(1000 + f.rtp / 48_000, f.rtp, f.data) for f in opus]
    data = remux_clip(packets, sounds, min(packets[0].at, sounds[0].at), rate=16_000)
    with av.open(io.BytesIO(data), mode="r") as container:
        heard = list(container.decode(audio=0))
    samples, rate = audio_samples(heard)
    assert rate == 48_000 and samples.size >= 0.9 * len(opus) * 960
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15


@pytest.mark.parametrize("interval", [0.0, -1.0])
def test_the_keyframe_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ValueError):
        tap_receiver(SimpleNamespace(), lambda frame: None, keyframe_interval_s=interval)


def test_a_clip_whose_sender_changed_size_at_a_keyframe_decodes_at_both_sizes() -> None:
    """The publisher follows its uplink: a new size starts with a keyframe, in the same file."""
    frames = _libvpx_frames(320, 240, 10) + _libvpx_frames(640, 360, 10)
    packets = [VideoPacket(n / 15, n * 6000, d, not d[0] & 1) for n, d in enumerate(frames)]
    data = remux_clip(packets, [], 0.0, rate=16_000)
    decoded = list(av.open(io.BytesIO(data), mode="r").decode(video=0))
    assert [(f.width, f.height) for f in decoded] == [(320, 240)] * 10 + [(640, 360)] * 10
