"""The app's voice encoder (proctor_client/media/voice.py) and its microphone track: 20 ms
packets of mono Opus, stamped one after the other on the 48 kHz clock however the samples come,
about the bitrate asked for, decoded by the server's decoder (aiortc's, stereo) with the tone's
pitch; a burst of buffers after a stall leaves in order; the end of the microphone ends the
track."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import av
import numpy as np
import pytest
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError

from proctor_client.devices.base import DeviceError, Microphone, Samples
from proctor_client.devices.microphones import SharedMicrophone, ToneMicrophone
from proctor_client.media.tracks import MicrophoneTrack
from proctor_client.media.voice import OPUS_TIME_BASE, PACKET_TICKS, VOICE_BITRATE, VoiceEncoder
from tests.media.fakes import dominant_frequency
from tests.shared.vision.test_voice import silence, voice

if TYPE_CHECKING:
    Packet: TypeAlias = av.Packet[Any]
else:
    Packet = av.Packet
TONE_HZ = 1000.0


def tone(rate: int, seconds: float, frequency: float = TONE_HZ, start: int = 0) -> np.ndarray:
    n = np.arange(start, start + round(rate * seconds))
    return np.round(np.sin(2 * np.pi * frequency * n / rate) * 16_000).astype(np.int16)


def stereo_flag(packet: Packet) -> bool:
    return bool(bytes(packet)[0] & 0x04)  # the TOC byte's `s` bit (RFC 6716 section 3.1)


def decode(packets: list[Packet]) -> tuple[np.ndarray, list[int]]:
    """The packets through the server's decoder (aiortc's: stereo 16-bit at 48 kHz): the left
    channel's samples and each packet's count of samples per channel."""
    decoder = OpusDecoder()
    left: list[np.ndarray] = []
    counts: list[int] = []
    for packet in packets:
        assert packet.pts is not None
        frames = decoder.decode(JitterFrame(bytes(packet), packet.pts))
        count = 0
        for frame in frames:
            assert isinstance(frame, av.AudioFrame) and frame.layout.nb_channels == 2
            left.append(frame.to_ndarray().reshape(-1, 2)[:, 0])
            count += frame.samples
        counts.append(count)
    return np.concatenate(left), counts


def encode_in_buffers(rate: int, sizes: Callable[[int], int], seconds: float) -> list[Packet]:
    encoder = VoiceEncoder(rate)
    samples = tone(rate, seconds)
    packets: list[Packet] = []
    start, n = 0, 0
    while start < samples.size:
        size = sizes(n)
        packets += encoder.encode(samples[start : start + size])
        start, n = start + size, n + 1
    return packets


@pytest.mark.parametrize(
    ("rate", "sizes"),
    [
        (16_000, lambda n: 320),  # the app's microphones: 20 ms buffers at 16 kHz
        (16_000, lambda n: 100),  # several buffers make a packet
        (16_000, lambda n: 1_000),  # a buffer makes several packets
        (16_000, lambda n: (1, 7, 641, 320, 5_000)[n % 5]),  # any sizes, some tiny
        (8_000, lambda n: 160),
        (48_000, lambda n: 960),
        (22_050, lambda n: 441),  # a WAV file's rate Opus does not take: resampled to 48 kHz
        (44_100, lambda n: 882 + n % 3),
    ],
)
def test_packets_are_20_ms_of_mono_opus_stamped_one_after_the_other(
    rate: int, sizes: Callable[[int], int]
) -> None:
    seconds = 2.0
    packets = encode_in_buffers(rate, sizes, seconds)
    expected = round(seconds / 0.020)
    assert expected - 2 <= len(packets) <= expected  # a resampler keeps a few samples back
    assert [p.pts for p in packets] == [n * PACKET_TICKS for n in range(len(packets))]
    assert all(p.duration == PACKET_TICKS and p.time_base == OPUS_TIME_BASE for p in packets)
    assert not any(stereo_flag(p) for p in packets)
    left, counts = decode(packets)
    assert set(counts) == {PACKET_TICKS}  # 20 ms each, at the decoder's 48 kHz
    assert abs(dominant_frequency(left[-24_000:] / 32768, 48_000) - TONE_HZ) < 15


def test_aiortc_sends_a_packet_as_it_is_on_its_timestamp() -> None:
    (first, second, *_) = encode_in_buffers(16_000, lambda n: 320, 0.1)
    sender_side = OpusEncoder()  # what RTCRtpSender does with a track's packet
    assert sender_side.pack(first) == ([bytes(first)], 0)
    assert sender_side.pack(second) == ([bytes(second)], PACKET_TICKS)


def _bits_per_second(samples: np.ndarray, bitrate: int) -> float:
    encoder = VoiceEncoder(16_000, bitrate)
    packets = [
        p
        for start in range(0, samples.size, 320)
        for p in encoder.encode(samples[start : start + 320])
    ]
    return sum(p.size for p in packets) * 8 / (len(packets) * 0.020)


@pytest.mark.parametrize(
    ("signal", "bitrate", "low", "high"),
    [
        ("tone", VOICE_BITRATE, 0.9, 1.1),  # a steady tone: unconstrained VBR spent twice this
        ("voice", VOICE_BITRATE, 0.75, 1.1),
        ("tone", 32_000, 0.9, 1.1),
        ("voice", 32_000, 0.75, 1.1),
        ("room noise", VOICE_BITRATE, 0.5, 1.1),  # a quiet room's hiss is coded too
        ("muted", VOICE_BITRATE, 0.0, 0.2),  # digital silence costs next to nothing
    ],
)
def test_the_packets_keep_near_the_bitrate(
    signal: str, bitrate: int, low: float, high: float
) -> None:
    rng = np.random.default_rng(5)
    samples = {
        "tone": tone(16_000, 5.0, 440.0),
        "voice": voice(5.0, rng),
        "room noise": silence(5.0, rng),
        "muted": np.zeros(80_000, np.int16),
    }[signal]
    rate = _bits_per_second(samples, bitrate)
    assert low * bitrate <= rate <= high * bitrate, rate


@pytest.mark.parametrize(
    ("rate", "bitrate"), [(0, VOICE_BITRATE), (16_000, 0), (-8_000, VOICE_BITRATE)]
)
def test_unusable_settings_are_refused(rate: int, bitrate: int) -> None:
    with pytest.raises(ValueError):
        VoiceEncoder(rate, bitrate)


# ------------------------------------------------------------------------- the track


class Steps:
    """A microphone whose 20 ms buffers are tones of a rising pitch, `per_step` buffers each;
    after `burst` buffers its `read` waits until `release` (the device stalls) and it ends
    (DeviceError) after `end_after` buffers."""

    def __init__(self, *, burst: int = 10**9, end_after: int = 10**9, per_step: int = 10) -> None:
        self.sample_rate = 16_000
        self.name = "steps"
        self.reads = 0
        self.burst, self.end_after, self.per_step = burst, end_after, per_step
        self.stalled = threading.Event()
        self.release = threading.Event()

    def pitch(self, buffer: int) -> float:
        return 400.0 + 200.0 * (buffer // self.per_step)

    def read(self, count: int) -> Samples:
        if self.reads >= self.end_after:
            raise DeviceError("the microphone was unplugged")
        if self.reads == self.burst:
            self.stalled.set()
            self.release.wait(10)
        samples = tone(
            self.sample_rate, count / self.sample_rate, self.pitch(self.reads), self.reads * count
        )
        self.reads += 1
        return samples

    def close(self) -> None:
        self.release.set()


async def test_a_burst_of_buffers_after_a_stall_leaves_in_order() -> None:
    """The app's shared microphone keeps the buffers its reader thread read while the track
    was not asked (the event loop busy, the sender late): they all leave, in order, with
    timestamps one after the other."""
    device = Steps(burst=50)
    shared = SharedMicrophone(device)
    track = MicrophoneTrack(shared)
    try:
        assert await asyncio.to_thread(device.stalled.wait, 10)  # 50 buffers wait, unread
        async with asyncio.timeout(10):
            packets = [await track.recv() for _ in range(50)]
    finally:
        device.release.set()
        track.stop()
        shared.close()
    assert [p.pts for p in packets] == [n * PACKET_TICKS for n in range(50)]
    left, _ = decode(packets)
    per_step = 10 * PACKET_TICKS
    heard = [
        dominant_frequency(
            left[s * per_step + 3 * PACKET_TICKS : (s + 1) * per_step] / 32768, 48_000
        )
        for s in range(5)
    ]
    assert [round(h, -2) for h in heard] == [device.pitch(10 * s) for s in range(5)], heard


async def _unplugged(
    track: MicrophoneTrack, device: Steps, shared: SharedMicrophone | None
) -> None:
    return None  # the device raises on its own


async def _closed_shared(
    track: MicrophoneTrack, device: Steps, shared: SharedMicrophone | None
) -> None:
    assert shared is not None
    shared.close()


async def _stopped(track: MicrophoneTrack, device: Steps, shared: SharedMicrophone | None) -> None:
    track.stop()


@pytest.mark.parametrize(
    ("shared", "end_after", "ending"),
    [
        (False, 5, _unplugged),  # the device fails under the track
        (True, 5, _unplugged),  # ... under the app's shared microphone
        (True, 10**9, _closed_shared),  # the app closes its microphone
        (True, 10**9, _stopped),  # the publisher stops the track: its subscription closes
        (False, 10**9, _stopped),
    ],
)
async def test_the_end_of_the_microphone_ends_the_track(
    shared: bool,
    end_after: int,
    ending: Callable[[MicrophoneTrack, Steps, SharedMicrophone | None], Any],
) -> None:
    device = Steps(end_after=end_after, burst=3)
    device.release.set()  # no stall
    source: Microphone | SharedMicrophone = SharedMicrophone(device) if shared else device
    track = MicrophoneTrack(source)
    got: list[Packet] = []
    async with asyncio.timeout(10):
        for _ in range(3):
            got.append(await track.recv())
        await ending(track, device, source if isinstance(source, SharedMicrophone) else None)
        with pytest.raises(MediaStreamError):
            while True:
                got.append(await track.recv())
    assert track.readyState == "ended"
    assert [p.pts for p in got] == [n * PACKET_TICKS for n in range(len(got))]
    if isinstance(source, SharedMicrophone):
        source.close()
        assert not source.reading


async def test_the_tone_track_sends_the_microphones_tone() -> None:
    track = MicrophoneTrack(ToneMicrophone(frequency=TONE_HZ, level=0.5, realtime=False))
    async with asyncio.timeout(10):
        packets = [await track.recv() for _ in range(50)]
    track.stop()
    left, counts = decode(packets)
    assert set(counts) == {PACKET_TICKS}
    assert abs(dominant_frequency(left[-24_000:] / 32768, 48_000) - TONE_HZ) < 15
