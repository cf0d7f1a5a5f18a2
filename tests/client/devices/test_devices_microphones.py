"""Microphone fakes produce what they claim; ``open_microphone`` specs."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from proctor_client.devices import (
    Microphone,
    SilenceMicrophone,
    ToneMicrophone,
    WavFileMicrophone,
    check_microphone_spec,
    open_microphone,
    read_samples,
)
from proctor_client.devices.microphones import load_wav
from shared.errors import ConfigError


def write_wav(
    path: Path, frames: bytes, *, channels: int = 1, width: int = 2, rate: int = 8000
) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return path


def test_silence_is_zeros() -> None:
    mic = SilenceMicrophone(realtime=False)
    samples = mic.read(1600)
    assert samples.dtype == np.int16 and samples.shape == (1600,)
    assert not samples.any()


def test_tone_has_its_frequency_and_level_and_is_continuous() -> None:
    mic = ToneMicrophone(frequency=500, level=0.5, sample_rate=16000, realtime=False)
    samples = np.concatenate([mic.read(1000), mic.read(15000)])  # one second in two reads
    assert samples.dtype == np.int16
    assert abs(int(samples.max()) - 16384) < 50
    crossings = np.count_nonzero(np.diff(np.signbit(samples.astype(np.int32))))
    assert 995 <= crossings <= 1005  # 500 Hz: two crossings a period
    jumps = np.abs(np.diff(samples.astype(np.int32)))
    assert jumps.max() < 16384 * 2 * np.pi * 500 / 16000 * 1.05  # no seam between reads


@pytest.mark.parametrize("frequency", [0.0, -5.0, 8000.0, 20000.0])
def test_tone_refuses_frequencies_it_cannot_play(frequency: float) -> None:
    with pytest.raises(ConfigError):
        ToneMicrophone(frequency=frequency, sample_rate=16000)


def test_wav_16_bit_mono_loops(tmp_path: Path) -> None:
    values = np.array([0, 1000, -1000, 32767, -32768], dtype="<i2")
    mic = WavFileMicrophone(write_wav(tmp_path / "a.wav", values.tobytes()), realtime=False)
    assert mic.sample_rate == 8000
    assert mic.name == "WAV file a.wav"
    assert mic.read(7).tolist() == [0, 1000, -1000, 32767, -32768, 0, 1000]
    assert mic.read(3).tolist() == [-1000, 32767, -32768]


def test_wav_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    pairs = np.array([[1000, 3000], [-2000, -4000]], dtype="<i2")
    samples, _ = load_wav(write_wav(tmp_path / "s.wav", pairs.tobytes(), channels=2))
    assert samples.tolist() == [2000, -3000]


def test_wav_8_bit_is_widened(tmp_path: Path) -> None:
    samples, _ = load_wav(write_wav(tmp_path / "b.wav", bytes([128, 255, 0]), width=1))
    assert samples.tolist() == [0, 127 * 256, -128 * 256]


def test_wav_24_bit_keeps_the_top_16_bits(tmp_path: Path) -> None:
    raw = bytes([0x00, 0x10, 0x00]) + bytes([0x00, 0x00, 0x80])  # 4096, -8388608
    samples, _ = load_wav(write_wav(tmp_path / "c.wav", raw, width=3))
    assert samples.tolist() == [16, -32768]


def test_wav_32_bit(tmp_path: Path) -> None:
    raw = np.array([1 << 20, -(1 << 30)], dtype="<i4").tobytes()
    samples, _ = load_wav(write_wav(tmp_path / "d.wav", raw, width=4))
    assert samples.tolist() == [16, -16384]


def test_not_a_wav_file(tmp_path: Path) -> None:
    bogus = tmp_path / "x.wav"
    bogus.write_bytes(b"RIFF....nonsense")
    with pytest.raises(ConfigError, match="not a PCM WAV"):
        WavFileMicrophone(bogus)


def test_an_empty_wav_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no audio"):
        WavFileMicrophone(write_wav(tmp_path / "e.wav", b""))


@pytest.mark.parametrize(
    ("spec", "cls"),
    [("silence", SilenceMicrophone), ("Tone", ToneMicrophone), ("tone:1000", ToneMicrophone)],
)
def test_fake_specs(spec: str, cls: type) -> None:
    mic = open_microphone(spec, realtime=False)
    assert isinstance(mic, cls)
    assert isinstance(mic, Microphone)
    mic.close()
    mic.close()


def test_wav_spec(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "voice.wav", np.zeros(10, dtype="<i2").tobytes())
    assert isinstance(open_microphone(str(path), realtime=False), WavFileMicrophone)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("tone:abc", "must be a number"),
        ("tone:9000", "between"),
        ("missing.wav", "does not exist"),
        ("/no/such/dir/voice", "does not exist"),
    ],
)
def test_bad_specs_are_config_errors(spec: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        check_microphone_spec(spec)
    with pytest.raises(ConfigError, match=words):
        open_microphone(spec)


def test_an_unknown_input_device_is_a_config_error() -> None:
    # Without PortAudio the message says how to install it; with it, no device has this name.
    with pytest.raises(ConfigError):
        open_microphone("no-such-microphone-3f9a")


async def test_async_read_helper_reads_seconds_of_audio() -> None:
    samples = await read_samples(ToneMicrophone(sample_rate=16000, realtime=False), 0.25)
    assert samples.shape == (4000,)
