"""Voice activity on the live audio: every exam stream's sound goes, in half-second chunks, to
a `SpeechRecorder` (proctor_server/vision/speech.py), which stores `speaking` violations with
their time span; the proctors get a `flag` when one opens.

The gateway calls `on_frame` on the event loop for every decoded frame, so it only copies
samples (aiortc's packed 16-bit frames as bytes, made mono once per chunk rather than 25 times:
sound.py); the voice-activity work runs in a worker thread, one chunk per attempt at a time.
Back-pressure: at most `MAX_BACKLOG_S` of sound waits per attempt; older chunks are dropped
(and counted) rather than letting a slow analysis grow memory."""

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
from proctor_server.media.sound import box_mono, mono_int16, packed_s16, s16_bytes
from proctor_server.session.deps import ExamDirectory
from proctor_server.store import Store
from proctor_server.vision.speech import SpeechRecorder
from shared import proctor_protocol as pp
from shared.timeutil import to_wire
from shared.vocabulary import ViolationKind

log = logging.getLogger(__name__)

CHUNK_S = 0.5
MAX_BACKLOG_S = 5.0


@dataclass(eq=False)
class _Attempt:
    recorder: SpeechRecorder
    rate: int
    samples: list[np.ndarray] = field(default_factory=list)  # mono, in order, then `raw`
    raw: list[bytes] = field(default_factory=list)  # packed int16 at `rate`, not yet mono
    raw_channels: int = 0
    buffered: int = 0  # samples (per channel) in `samples` and `raw`
    chunks: deque[np.ndarray] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None
    dropped: int = 0


def _settle(state: _Attempt) -> None:
    """The packed frames kept as bytes, made mono in one pass, after the samples before them."""
    if state.raw:
        state.samples.append(box_mono(b"".join(state.raw), state.raw_channels, 1))
        state.raw.clear()


class LiveSpeech:
    """A media hook (`on_frame`, `on_end`) turning live speech into violations."""

    decoded_video = False  # it hears the sound only: the gateway need not decode video

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

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        if not isinstance(frame, AudioFrame) or key.exam in self.skip_exams:
            return
        state = self._attempts.get(key.attempt)
        if state is None:
            recorder = SpeechRecorder(
                self.store,
                key.attempt,
                frame.sample_rate,
                self.clock.now(),
                min_speech_s=self.min_speech_s,
            )
            state = self._attempts[key.attempt] = _Attempt(recorder, frame.sample_rate)
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
            _settle(state)
            state.chunks.append(np.concatenate(state.samples))
            state.samples.clear()
            state.buffered = 0
            while len(state.chunks) * CHUNK_S > MAX_BACKLOG_S:
                state.chunks.popleft()
                state.dropped += 1
            if state.worker is None or state.worker.done():
                state.worker = asyncio.create_task(self._work(key, state))

    async def _work(self, key: StreamKey, state: _Attempt) -> None:
        while state.chunks:
            chunk = state.chunks.popleft()
            try:
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
        await state.recorder.close()
