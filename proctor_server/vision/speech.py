"""Talking: speech spans on one attempt's audio become `speaking` violations (one row per span,
opened when the speech has lasted `min_speech_s`, closed when it stops). The media code feeds
int16 PCM as it arrives; the voice-activity work runs off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from datetime import datetime, timedelta

import numpy as np

from proctor_server.analysis import ViolationDraft
from proctor_server.store import Store
from shared.vision.voice import SpeechSpan, SpeechTracker

SPEAKING_CONFIDENCE = 0.7  # speech is heard, but whose (the candidate, a radio) is not known


class SpeechRecorder:
    """One attempt's audio stream. `started_at` is the server time of the stream's first
    sample; spans are placed on that clock."""

    def __init__(
        self,
        store: Store,
        attempt_id: str,
        rate: int,
        started_at: datetime,
        *,
        min_speech_s: float = 3.0,
        executor: Executor | None = None,
    ):
        self.store = store
        self.attempt_id = attempt_id
        self.started_at = started_at
        self._tracker = SpeechTracker(rate, min_speech_s=min_speech_s)
        self._executor = executor
        self._open_id: int | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    def _at(self, seconds: float) -> datetime:
        return self.started_at + timedelta(seconds=seconds)

    async def feed(self, pcm: np.ndarray) -> list[ViolationDraft]:
        """The next chunk of samples; the drafts of violations opened by it."""
        if self._closed:
            return []
        async with self._lock:
            loop = asyncio.get_running_loop()
            spans = await loop.run_in_executor(self._executor, self._tracker.feed, pcm)
            return await self._apply(spans)

    async def close(self) -> None:
        """The stream ended: close an open span."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._apply(self._tracker.flush())

    async def _apply(self, spans: list[SpeechSpan]) -> list[ViolationDraft]:
        drafts: list[ViolationDraft] = []
        for span in spans:
            if span.end is None:
                evidence = {"stream_start_s": round(span.start, 2)}
                self._open_id = await self.store.add_violation(
                    self.attempt_id,
                    "speaking",
                    "server",
                    self._at(span.start),
                    confidence=SPEAKING_CONFIDENCE,
                    evidence=evidence,
                )
                drafts.append(
                    ViolationDraft(
                        "speaking", SPEAKING_CONFIDENCE, self._at(span.start), None, evidence
                    )
                )
            elif self._open_id is not None:
                evidence = {
                    "stream_start_s": round(span.start, 2),
                    "stream_end_s": round(span.end, 2),
                    "duration_s": round(span.end - span.start, 2),
                }
                await self.store.end_violation(self._open_id, self._at(span.end), evidence)
                self._open_id = None
        return drafts
