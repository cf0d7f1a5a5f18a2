"""Talking on an attempt's audio becomes one `speaking` violation per span, in the store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from proctor_server.vision.speech import SpeechRecorder
from tests.shared.vision.test_voice import RATE, silence, voice
from tests.vision.conftest import T0, World


async def test_speech_becomes_one_violation_with_its_span(world: World) -> None:
    attempt = await world.attempt("ann")
    recorder = SpeechRecorder(world.store, attempt, RATE, T0)
    rng = np.random.default_rng(0)
    audio = np.concatenate(
        [silence(2, rng), voice(6, rng), silence(2, rng), voice(1, rng), silence(1, rng)]
    )
    drafts = []
    for start in range(0, audio.size, 4800):  # 300 ms chunks
        drafts += await recorder.feed(audio[start : start + 4800])
    await recorder.close()
    await recorder.close()  # idempotent
    assert [d.kind for d in drafts] == ["speaking"]
    (violation,) = await world.store.violations(attempt)
    assert violation.kind == "speaking" and violation.source == "server"
    assert violation.server_at == pytest.approx(
        T0 + timedelta(seconds=2), abs=timedelta(seconds=0.3)
    )
    assert violation.ended_at is not None
    assert (violation.ended_at - violation.server_at).total_seconds() == pytest.approx(6, abs=0.5)
    assert violation.evidence["duration_s"] == pytest.approx(6, abs=0.5)
    assert await recorder.feed(audio[:4800]) == []  # closed


async def test_speech_still_going_at_the_end_is_closed(world: World) -> None:
    attempt = await world.attempt("bob")
    recorder = SpeechRecorder(world.store, attempt, RATE, T0)
    rng = np.random.default_rng(1)
    assert [d.kind for d in await recorder.feed(voice(4, rng))] == ["speaking"]
    (open_one,) = await world.store.violations(attempt)
    assert open_one.ended_at is None
    await recorder.close()
    (closed,) = await world.store.violations(attempt)
    assert closed.ended_at is not None


async def test_silence_and_short_remarks_record_nothing(world: World) -> None:
    attempt = await world.attempt("cid")
    recorder = SpeechRecorder(world.store, attempt, RATE, T0)
    rng = np.random.default_rng(2)
    for chunk in (silence(3, rng), voice(1.5, rng), silence(2, rng), voice(1, rng)):
        assert await recorder.feed(chunk) == []
    await recorder.close()
    assert await world.store.violations(attempt) == []
