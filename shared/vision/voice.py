"""Voice activity on PCM audio: a pure function over int16 samples, and a tracker that turns
30 ms decisions into speech spans longer than a threshold ("the candidate talks").

The decision per frame comes from WebRTC's VAD (`webrtcvad-wheels`) when it is installed, and
from a spectral rule in numpy otherwise (energy, share of the voice band, spectral flatness).
Either way a frame quieter than `MIN_DBFS` is silence: distant noise is not the candidate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

FRAME_MS = 30
VAD_RATES = (8000, 16000, 32000, 48000)
MIN_DBFS = -45.0  # frames quieter than this are silence
NOISE_FLATNESS = 0.45  # spectra flatter than this are noise, whatever the VAD says
AGGRESSIVENESS = 3  # webrtcvad's strictest mode: fewest noise frames taken for speech

try:  # pragma: no cover - which branch runs depends on the installation
    import webrtcvad as _webrtcvad

    _vad_module: Any = _webrtcvad
except ImportError:  # pragma: no cover
    _vad_module = None


def have_webrtcvad() -> bool:
    return _vad_module is not None


def to_mono_int16(pcm: np.ndarray) -> np.ndarray:
    """int16 samples, shape (n,) or (n, channels), to mono int16."""
    samples = np.asarray(pcm)
    if samples.dtype != np.int16:
        raise ValueError(f"PCM samples must be int16, not {samples.dtype}")
    if samples.ndim == 2:
        samples = samples.mean(axis=1).astype(np.int16)
    elif samples.ndim != 1:
        raise ValueError("PCM samples must be 1-d or (samples, channels)")
    return samples


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or samples.size == 0:
        return samples
    n = round(samples.size * target / rate)
    x = np.linspace(0, samples.size - 1, n)
    return np.interp(x, np.arange(samples.size), samples.astype(np.float64)).astype(np.int16)


def speech_frames(
    pcm: np.ndarray, rate: int, *, aggressiveness: int = AGGRESSIVENESS, use_webrtc: bool = True
) -> np.ndarray:
    """One bool per whole 30 ms frame of `pcm` (int16 at `rate` Hz): is it speech?"""
    if rate <= 0:
        raise ValueError("the sample rate must be positive")
    samples = to_mono_int16(pcm)
    vad_rate = rate if rate in VAD_RATES else 16000
    samples = _resample(samples, rate, vad_rate)
    step = vad_rate * FRAME_MS // 1000
    count = samples.size // step
    out = np.zeros(count, dtype=bool)
    frames = samples[: count * step].reshape(count, step)
    # every frame's level (dBFS) and spectrum in one pass, not numpy calls per frame: this
    # runs on every live stream
    values = frames.astype(np.float64)
    rms = np.sqrt(np.mean(values**2, axis=1))
    loud = np.flatnonzero(rms >= 1e-9)
    loud = loud[20.0 * np.log10(rms[loud] / 32768.0) >= MIN_DBFS]
    if loud.size == 0:
        return out
    share, flatness = _spectra(values[loud], vad_rate)
    if use_webrtc and _vad_module is not None:
        vad = _vad_module.Vad(aggressiveness)
        # WebRTC's VAD takes loud broadband noise (a fan, rustling) and mains hum for speech: a
        # flat spectrum, or energy mostly outside the voice band, vetoes it
        plausible = (flatness < NOISE_FLATNESS) & (share > 0.5)
        for i in loud[plausible]:
            out[i] = bool(vad.is_speech(frames[i].tobytes(), vad_rate))
    else:
        out[loud] = (share > 0.75) & (flatness < 0.3)
    return out


@functools.lru_cache(maxsize=8)
def _window_and_band(size: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The Hann window of a frame of `size` samples, and which of its spectrum's bins lie in
    80–4000 Hz (the same for every frame of a stream: made once)."""
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    return np.hanning(size), (freqs >= 80) & (freqs <= 4000)


def _spectra(frames: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (a row of float samples): the share of energy in 80–4000 Hz and the spectral
    flatness there. Speech is in the band and peaky (harmonic): flatness 0.1–0.3; hiss is flat
    (about 0.55); hum lies below the band."""
    window, band = _window_and_band(frames.shape[1], rate)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2 + 1e-12
    voiced = power[:, band]
    share = voiced.sum(axis=1) / power.sum(axis=1)
    flatness = np.exp(np.mean(np.log(voiced), axis=1)) / np.mean(voiced, axis=1)
    return share, flatness


@dataclass(frozen=True, slots=True)
class SpeechSpan:
    """Speech from `start` to `end` (seconds on the stream's clock); `end` None while open."""

    start: float
    end: float | None


class SpeechTracker:
    """Feeds on consecutive PCM chunks; reports speech that lasted at least `min_speech_s`.

    Pauses shorter than `max_pause_s` do not break a span (people breathe between words).
    `feed` returns the spans that opened (end None) or closed during that chunk.
    """

    def __init__(
        self,
        rate: int,
        *,
        min_speech_s: float = 3.0,
        max_pause_s: float = 0.6,
        use_webrtc: bool = True,
    ):
        self.rate = rate
        self.min_speech_s = min_speech_s
        self.max_pause_s = max_pause_s
        self.use_webrtc = use_webrtc
        self._pending = np.zeros(0, dtype=np.int16)
        self._clock = 0.0  # stream seconds at the start of `_pending`
        self._run_start: float | None = None  # first speech frame of the current run
        self._last_speech: float | None = None  # end of the last speech frame
        self._reported = False

    @property
    def speaking_since(self) -> float | None:
        return self._run_start if self._reported else None

    def feed(self, pcm: np.ndarray) -> list[SpeechSpan]:
        samples = np.concatenate([self._pending, to_mono_int16(pcm)])
        step = self.rate * FRAME_MS // 1000
        whole = samples.size // step * step
        self._pending = samples[whole:]
        flags = speech_frames(samples[:whole], self.rate, use_webrtc=self.use_webrtc)
        events: list[SpeechSpan] = []
        frame_s = FRAME_MS / 1000
        for i, speech in enumerate(flags):
            t = self._clock + i * frame_s
            if speech:
                if self._run_start is None:
                    self._run_start = t
                self._last_speech = t + frame_s
                if not self._reported and self._last_speech - self._run_start >= self.min_speech_s:
                    self._reported = True
                    events.append(SpeechSpan(self._run_start, None))
            elif (
                self._last_speech is not None and t + frame_s - self._last_speech > self.max_pause_s
            ):
                events.extend(self._end())
        self._clock += flags.size * frame_s
        return events

    def flush(self) -> list[SpeechSpan]:
        """The stream ended: close an open span."""
        return self._end()

    def _end(self) -> list[SpeechSpan]:
        out: list[SpeechSpan] = []
        if self._reported and self._run_start is not None and self._last_speech is not None:
            out.append(SpeechSpan(self._run_start, self._last_speech))
        self._run_start = None
        self._last_speech = None
        self._reported = False
        return out
