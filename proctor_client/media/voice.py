"""The app's sound as voice-grade Opus: mono, 24 kb/s, 20 ms packets, encoded by the app.

aiortc's own Opus encoder is fixed at 96 kb/s stereo (117 kb/s measured on the wire for a
voice-only signal, on an uplink that live video, answers and snapshots share, and every
evidence clip and recording keeps the packets as received). aiortc sends an `av.Packet` that a
track yields without encoding it (`RTCRtpSender` packs it: one payload, its RTP timestamp from
`pts` and `time_base`), so the microphone track yields the packets `VoiceEncoder` makes with
PyAV's libopus:

- mono at the microphone's own rate when Opus takes it (8, 12, 16, 24 or 48 kHz: the app's
  microphones read 16 kHz, wideband speech), otherwise resampled to 48 kHz;
- 24 kb/s, constrained VBR: the rate Opus's authors give for wideband speech with margin
  (RFC 7587 section 3.1.1: 16-20 kb/s for wideband speech, 28-40 kb/s for fullband), held
  near the target. Unconstrained VBR spends twice the target on a steady tone (48 kb/s
  measured), which a budget cannot plan for;
- application "voip" (the speech-tuned mode), 20 ms frames, no DTX (the server's voice
  activity and the clips expect a packet every 20 ms).

WebRTC still negotiates opus/48000/2: a mono packet says so in its own header, and every
Opus decoder (aiortc's on the server, a browser's, the clips' readers) decodes it as stereo.
A packet costs 0.2-0.45 ms of CPU at 16 kHz (a tone, speech; about what aiortc's encoder
cost), 0.6 ms with the resampling, so the track encodes in the worker thread that reads the
microphone, never on the app's event loop (libopus's lower complexities saved at most a
quarter of that).
"""

from __future__ import annotations

import fractions
from typing import Any

import av
import numpy as np

from proctor_client.devices.base import Samples

VOICE_BITRATE = 24_000  # bits per second of Opus payload
OPUS_CLOCK = 48_000  # Opus's RTP clock, whatever the input rate
OPUS_TIME_BASE = fractions.Fraction(1, OPUS_CLOCK)
OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)  # the input rates libopus takes
PACKET_S = 0.020
PACKET_TICKS = round(OPUS_CLOCK * PACKET_S)  # 960: one packet's duration at the RTP clock


class VoiceEncoder:
    """Mono int16 samples at `sample_rate` in, in buffers of any size; 20 ms Opus packets out,
    stamped one after the other on the 48 kHz clock from 0 (`pts`, `time_base`, `duration`).
    Not thread-safe: one caller at a time (the microphone track's worker)."""

    def __init__(self, sample_rate: int, bitrate: int = VOICE_BITRATE) -> None:
        if sample_rate <= 0 or bitrate <= 0:
            raise ValueError(f"unusable voice settings: {sample_rate} Hz, {bitrate} b/s")
        self.input_rate = sample_rate
        self.rate = sample_rate if sample_rate in OPUS_RATES else OPUS_CLOCK
        self.bitrate = bitrate
        codec = av.CodecContext.create("libopus", "w")
        codec.bit_rate = bitrate
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = self.rate
        codec.time_base = fractions.Fraction(1, self.rate)
        codec.options = {"application": "voip", "frame_duration": "20", "vbr": "constrained"}
        self._codec = codec
        self._resampler = (
            None
            if self.rate == sample_rate
            else av.AudioResampler(format="s16", layout="mono", rate=self.rate)
        )
        self._frame = round(self.rate * PACKET_S)  # samples per packet at the encoder's rate
        self._pending = np.zeros(0, dtype=np.int16)  # samples waiting for a full packet
        self._taken = 0  # input samples taken so far (the resampler's clock)
        self._fed = 0  # samples handed to the encoder so far (its clock)
        self.packets = 0  # packets made so far: the next one starts at packets * PACKET_TICKS

    def encode(self, samples: Samples) -> list[av.Packet[Any]]:
        """The packets that `samples` complete (none while less than 20 ms waits)."""
        data = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        if self._resampler is not None and data.size:
            data = self._resample(data)
        pending = np.concatenate([self._pending, data]) if self._pending.size else data
        whole = pending.size - pending.size % self._frame
        packets: list[av.Packet[Any]] = []
        for start in range(0, whole, self._frame):
            packets += self._encode_frame(pending[start : start + self._frame])
        self._pending = pending[whole:].copy()
        return packets

    def _resample(self, data: np.ndarray) -> np.ndarray:
        assert self._resampler is not None
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.input_rate
        frame.pts = self._taken
        frame.time_base = fractions.Fraction(1, self.input_rate)
        self._taken += data.size
        parts = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def _encode_frame(self, samples: np.ndarray) -> list[av.Packet[Any]]:
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self._fed
        frame.time_base = self._codec.time_base
        self._fed += samples.size
        packets = list(self._codec.encode(frame))
        for packet in packets:  # libopus stamps them minus its look-ahead: restamp from 0
            packet.pts = packet.dts = self.packets * PACKET_TICKS
            packet.time_base = OPUS_TIME_BASE
            packet.duration = PACKET_TICKS
            self.packets += 1
        return packets
