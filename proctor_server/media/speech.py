"""Voice activity on the live audio: every exam stream's sound goes, in half-second chunks, to
a `SpeechRecorder` (proctor_server/vision/speech.py), which stores `speaking` violations with
their time span; the proctors get a `flag` when one opens.

Where the gateway's tap hands the Opus packets as received (`on_encoded`, the usual case), the
event loop only keeps a reference to each packet; every 25 packets (half a second) make a
chunk, and the attempt's worker decodes it (`OpusSound`, sound.py: one libopus decoder per
attempt, mono, 16 kHz, gaps in RTP time made silence) and runs voice activity at 16 kHz. No
hook then needs decoded sound, so aiortc's decoder thread gets no packet (receiver_tap.py).
Where the tap cannot be set (another aiortc), the gateway hands aiortc's decoded frames to
`on_frame` instead, which copies their samples (packed 16-bit frames as bytes, made mono once
per chunk rather than 25 times: sound.py) and runs voice activity at the stream's own rate.
One stream comes one way or the other, never both: the first that comes fixes it (where the
tap is set, a packet comes before its decoded frame, if another hook has sound decoded).
The work runs in a worker thread, one chunk per attempt at a time (so one thread at a time
uses an attempt's decoder). Back-pressure: at most `MAX_BACKLOG_S` of sound waits per attempt;
older chunks are dropped (and counted) rather than letting a slow analysis grow memory; a
dropped chunk of packets is silence on the stream's clock, so later spans keep their time.

Figures (a busy 2-core machine; docs/benchmarks.md, "Decoding no video"): on the event loop a
packet costs 0.4 µs here (a reference kept) against, before, a decoder-queue put with a thread
wake-up (8.6 µs), aiortc's 48 kHz stereo decode in its thread (47 µs), the hop back to the loop
and a 5 µs copy in `on_frame`; a chunk costs 1.65 ms in the worker (decoding 1.2 ms, voice
activity at 16 kHz) against 0.8 ms for the mono reduction and voice activity at 48 kHz. With
20 streams the media process used 55-60 % of a core against 80-82 % before.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from av import AudioFrame, VideoFrame

from proctor_server.analysis import ViolationDraft
from proctor_server.clock import Clock
from proctor_server.media.gateway import StreamKey
from proctor_server.media.receiver_tap import EncodedFrame, OpusFrame
from proctor_server.media.sound import OpusSound, box_mono, mono_int16, packed_s16, s16_bytes
from proctor_server.session.deps import ExamDirectory
from proctor_server.store import Store
from proctor_server.vision.speech import SpeechRecorder
from shared import proctor_protocol as pp
from shared.timeutil import to_wire
from shared.vocabulary import ViolationKind

log = logging.getLogger(__name__)

CHUNK_S = 0.5
CHUNK_PACKETS = 25  # Opus packets of 20 ms in a chunk
VOICE_RATE = 16_000  # the rate the packets are decoded at, and voice activity runs at
MAX_BACKLOG_S = 5.0

Chunk = np.ndarray | list[OpusFrame]  # samples made mono, or packets to decode


@dataclass(eq=False)
class _Attempt:
    recorder: SpeechRecorder
    rate: int
    sound: OpusSound | None = None  # the stream's packets' decoder: it comes encoded
    packets: list[OpusFrame] = field(default_factory=list)  # the next chunk's, in order
    samples: list[np.ndarray] = field(default_factory=list)  # mono, in order, then `raw`
    raw: list[bytes] = field(default_factory=list)  # packed int16 at `rate`, not yet mono
    raw_channels: int = 0
    buffered: int = 0  # samples (per channel) in `samples` and `raw`
    chunks: deque[Chunk] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None
    dropped: int = 0


def _settle(state: _Attempt) -> None:
    """The packed frames kept as bytes, made mono in one pass, after the samples before them."""
    if state.raw:
        state.samples.append(box_mono(b"".join(state.raw), state.raw_channels, 1))
        state.raw.clear()


def _take_samples(state: _Attempt) -> np.ndarray:
    """The decoded samples kept so far, as one mono chunk."""
    _settle(state)
    chunk = np.concatenate(state.samples) if state.samples else np.zeros(0, np.int16)
    state.samples.clear()
    state.buffered = 0
    return chunk


class LiveSpeech:
    """A media hook (`on_encoded`, `on_frame`, `on_end`) turning live speech into violations."""

    decoded_video = False  # it hears the sound only
    decoded_audio = False  # and decodes the Opus packets itself (`on_frame`: the fallback)

    def __init__(
        self,
        store: Store,
        clock: Clock,
        exams: Callable[[], ExamDirectory],
        *,
        skip_exams: frozenset[str] = frozenset(),
        min_speech_s: float = 3.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.exams = exams
        self.skip_exams = skip_exams
        self.min_speech_s = min_speech_s
        self._attempts: dict[str, _Attempt] = {}

    def _start(self, key: StreamKey, rate: int, coded: bool) -> _Attempt:
        """The stream's first frame or packet: the recorder's clock starts now."""
        recorder = SpeechRecorder(
            self.store, key.attempt, rate, self.clock.now(), min_speech_s=self.min_speech_s
        )
        state = _Attempt(recorder, rate, OpusSound(rate) if coded else None)
        self._attempts[key.attempt] = state
        return state

    def on_encoded(self, key: StreamKey, frame: EncodedFrame) -> None:
        """An Opus packet as received (on the event loop): kept, by reference, for its chunk."""
        if not isinstance(frame, OpusFrame) or key.exam in self.skip_exams:
            return
        state = self._attempts.get(key.attempt)
        if state is None:
            state = self._start(key, VOICE_RATE, coded=True)
        elif state.sound is None:
            return  # this stream comes decoded
        packets = state.packets
        packets.append(frame)
        if len(packets) >= CHUNK_PACKETS:
            state.packets = []
            self._queue(key, state, packets)

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        """A decoded frame: the fallback, where the packets cannot be had as received."""
        if not isinstance(frame, AudioFrame) or key.exam in self.skip_exams:
            return
        state = self._attempts.get(key.attempt)
        if state is None:
            state = self._start(key, frame.sample_rate, coded=False)
        elif state.sound is not None:
            return  # this stream comes encoded: its packets are heard already
        channels = frame.layout.nb_channels
        if frame.sample_rate == state.rate and packed_s16(frame, state.rate):
            if state.raw and channels != state.raw_channels:
                _settle(state)
            state.raw.append(s16_bytes(frame))
            state.raw_channels = channels
            state.buffered += frame.samples
        else:
            _settle(state)
            pcm = mono_int16(frame, state.rate)
            state.samples.append(pcm)
            state.buffered += pcm.size
        if state.buffered >= CHUNK_S * state.rate:
            self._queue(key, state, _take_samples(state))

    def _queue(self, key: StreamKey, state: _Attempt, chunk: Chunk) -> None:
        state.chunks.append(chunk)
        while len(state.chunks) * CHUNK_S > MAX_BACKLOG_S:
            state.chunks.popleft()
            state.dropped += 1
        if state.worker is None or state.worker.done():
            state.worker = asyncio.create_task(self._work(key, state))

    async def _work(self, key: StreamKey, state: _Attempt) -> None:
        loop = asyncio.get_running_loop()
        while state.chunks:
            chunk = state.chunks.popleft()
            try:
                if isinstance(chunk, list):
                    assert state.sound is not None
                    chunk = await loop.run_in_executor(None, state.sound.decode, chunk)
                drafts = await state.recorder.feed(chunk)
            except Exception:
                log.exception("voice activity on %s failed", key.attempt)
                return
            for draft in drafts:
                self._announce(key, draft)

    def _announce(self, key: StreamKey, draft: ViolationDraft) -> None:
        runtime = self.exams().loaded(key.exam)
        session = runtime.sessions.get(key.attempt) if runtime is not None else None
        if runtime is None or session is None:
            return
        runtime.publish(
            pp.Flag(
                exam=key.exam,
                at=to_wire(draft.started_at),
                attempt=key.attempt,
                candidate=session.code,
                kind=ViolationKind.SPEAKING,
                confidence=draft.confidence,
            )
        )

    async def on_end(self, key: StreamKey) -> None:
        """The stream ended: analyse what is left, close an open span."""
        state = self._attempts.pop(key.attempt, None)
        if state is None:
            return
        if state.worker is not None:
            await asyncio.gather(state.worker, return_exceptions=True)
        if state.packets:
            state.chunks.append(state.packets)
            state.packets = []
        elif state.samples or state.raw:
            state.chunks.append(_take_samples(state))
        await self._work(key, state)
        await state.recorder.close()
