"""Voice activity: a pure function over int16 PCM and a tracker of speech spans."""

from __future__ import annotations

import numpy as np
import pytest

from shared.vision.voice import SpeechSpan, SpeechTracker, have_webrtcvad, speech_frames

RATE = 16000


def voice(seconds: float, rng: np.random.Generator, level: float = 6000.0) -> np.ndarray:
    """A voiced sound: a 140 Hz glottal pulse train through vowel-like formants, with a
    syllable rhythm (4 Hz amplitude envelope)."""
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 140 + 10 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    source = sum(np.sin(k * phase) / k for k in range(1, 25))
    formants = sum(np.sin(2 * np.pi * f * t) * 0.3 for f in (700, 1200, 2500)) * source
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    signal = (source + formants) * envelope
    signal = signal / np.max(np.abs(signal)) * level
    pcm: np.ndarray = (signal + rng.normal(0, 30, t.size)).astype(np.int16)
    return pcm


def silence(seconds: float, rng: np.random.Generator, level: float = 20.0) -> np.ndarray:
    return rng.normal(0, level, int(seconds * RATE)).astype(np.int16)


def test_silence_and_quiet_noise_are_not_speech() -> None:
    rng = np.random.default_rng(0)
    assert not speech_frames(silence(2, rng), RATE).any()
    assert not speech_frames(np.zeros(RATE, np.int16), RATE).any()


@pytest.mark.parametrize("use_webrtc", [True, False])
def test_voice_is_speech(use_webrtc: bool) -> None:
    if use_webrtc and not have_webrtcvad():
        pytest.skip("webrtcvad is not installed")
    rng = np.random.default_rng(1)
    flags = speech_frames(voice(2, rng), RATE, use_webrtc=use_webrtc)
    assert flags.mean() > 0.6


def test_other_rates_and_stereo_are_accepted() -> None:
    rng = np.random.default_rng(2)
    mono = voice(1, rng)
    stereo = np.stack([mono, mono], axis=1)
    assert speech_frames(stereo, RATE).mean() > 0.6
    resampled = np.interp(np.linspace(0, mono.size - 1, 44100), np.arange(mono.size), mono)
    assert speech_frames(resampled.astype(np.int16), 44100).mean() > 0.5


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="int16"):
        speech_frames(np.zeros(100, np.float32), RATE)
    with pytest.raises(ValueError, match="rate"):
        speech_frames(np.zeros(100, np.int16), 0)


def test_tracker_reports_long_speech_once_with_its_span() -> None:
    rng = np.random.default_rng(3)
    tracker = SpeechTracker(RATE, min_speech_s=3.0)
    audio = np.concatenate([silence(1, rng), voice(5, rng), silence(2, rng)])
    events: list[SpeechSpan] = []
    for start in range(0, audio.size, 1234):  # odd chunk sizes, as a real track delivers
        events += tracker.feed(audio[start : start + 1234])
    events += tracker.flush()
    assert len(events) == 2
    opened, closed = events
    assert opened.end is None and opened.start == pytest.approx(1.0, abs=0.3)
    assert closed.start == opened.start and closed.end == pytest.approx(6.0, abs=0.4)


def test_tracker_ignores_short_remarks() -> None:
    rng = np.random.default_rng(4)
    tracker = SpeechTracker(RATE, min_speech_s=3.0)
    audio = np.concatenate([voice(1.5, rng), silence(2, rng), voice(1.0, rng), silence(1, rng)])
    assert tracker.feed(audio) == [] and tracker.flush() == []


@pytest.mark.parametrize("use_webrtc", [True, False])
def test_loud_hiss_and_hum_are_not_speech(use_webrtc: bool) -> None:
    rng = np.random.default_rng(5)
    hiss = rng.normal(0, 3000, RATE).astype(np.int16)
    t = np.arange(RATE) / RATE
    hum = (8000 * np.sin(2 * np.pi * 50 * t)).astype(np.int16)
    assert speech_frames(hiss, RATE, use_webrtc=use_webrtc).mean() < 0.2
    assert speech_frames(hum, RATE, use_webrtc=use_webrtc).mean() < 0.2


def test_each_frame_is_decided_on_its_own() -> None:
    """The frames of a chunk are judged together (one pass over their levels and spectra):
    each decision is the one that frame gets alone, silent, quiet, voiced or hissing (the
    spectral rule; WebRTC's VAD, gated by the same levels and spectra, adapts along a stream)."""
    use_webrtc = False
    rng = np.random.default_rng(7)
    chunk = np.concatenate(
        [
            silence(0.3, rng),
            voice(0.6, rng),
            np.zeros(RATE // 5, np.int16),
            rng.normal(0, 3000, RATE // 2).astype(np.int16),  # loud hiss
            voice(0.6, rng, level=300.0),  # quiet voice
        ]
    )
    step = RATE * 30 // 1000
    together = speech_frames(chunk, RATE, use_webrtc=use_webrtc)
    alone = [
        speech_frames(chunk[i * step : (i + 1) * step], RATE, use_webrtc=use_webrtc)[0]
        for i in range(together.size)
    ]
    assert together.tolist() == alone
    assert together.any() and not together.all()
