"""Microphones: a real input through the ``sounddevice`` package (PortAudio), and fakes that
ship — silence, a tone, a WAV file read with the standard ``wave`` module, played in a loop.
``open_microphone`` turns the ``--mic DEVICE|silence|tone|FILE`` option into one of them;
``SharedMicrophone`` lets several readers (the check, live audio) hear one device."""

from __future__ import annotations

import math
import threading
import wave
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from proctor_client.devices.base import DeviceError, Microphone, Samples
from proctor_client.devices.fake_cameras import Pacer
from shared.errors import ConfigError

DEFAULT_RATE = 16_000
PORTAUDIO_HINT = (
    "microphone input needs the PortAudio library "
    "(Debian/Ubuntu: apt install libportaudio2); use --mic silence|tone|FILE.wav meanwhile"
)


class SilenceMicrophone:
    """Digital silence (a muted microphone)."""

    def __init__(self, *, sample_rate: int = DEFAULT_RATE, realtime: bool = True) -> None:
        self._rate = sample_rate
        self._pacer = Pacer(sample_rate, realtime=realtime, max_lag=1.0)
        self.closed = False

    @property
    def name(self) -> str:
        return "Silence"

    @property
    def sample_rate(self) -> int:
        return self._rate

    def read(self, count: int) -> Samples:
        self._pacer.wait(count)
        return np.zeros(count, dtype=np.int16)

    def close(self) -> None:
        self.closed = True


class ToneMicrophone:
    """A steady sine tone (``frequency`` Hz, ``level`` of full scale), continuous across reads."""

    def __init__(
        self,
        *,
        frequency: float = 440.0,
        level: float = 0.25,
        sample_rate: int = DEFAULT_RATE,
        realtime: bool = True,
    ) -> None:
        if not 0 < frequency < sample_rate / 2:
            raise ConfigError(f"tone frequency {frequency} Hz is outside 0..{sample_rate // 2}")
        self._frequency = frequency
        self._amplitude = max(0.0, min(level, 1.0)) * 32767
        self._rate = sample_rate
        self._pacer = Pacer(sample_rate, realtime=realtime, max_lag=1.0)
        self._position = 0
        self.closed = False

    @property
    def name(self) -> str:
        return f"Tone {self._frequency:g} Hz"

    @property
    def sample_rate(self) -> int:
        return self._rate

    def read(self, count: int) -> Samples:
        self._pacer.wait(count)
        n = np.arange(self._position, self._position + count, dtype=np.float64)
        self._position += count
        wave_ = np.sin(2 * math.pi * self._frequency * n / self._rate) * self._amplitude
        return np.round(wave_).astype(np.int16)

    def close(self) -> None:
        self.closed = True


def load_wav(path: Path) -> tuple[Samples, int]:
    """Read a PCM WAV file into int16 mono samples and its rate; ConfigError if unusable."""
    try:
        with wave.open(str(path), "rb") as reader:
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ConfigError(f"microphone file {str(path)!r} is not a PCM WAV file: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"microphone file {str(path)!r} cannot be read: {exc.strerror}") from None
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.int32)
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        data = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8) >> 16  # sign-extend, keep 16
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.int64) >> 16
    else:
        raise ConfigError(f"microphone file {str(path)!r}: {width}-byte samples are not supported")
    if channels > 1:
        usable = len(data) - len(data) % channels
        data = data[:usable].reshape(-1, channels).mean(axis=1)
    samples = np.clip(np.round(data), -32768, 32767).astype(np.int16)
    if samples.size == 0:
        raise ConfigError(f"microphone file {str(path)!r} holds no audio")
    return samples, rate


class WavFileMicrophone:
    """Plays a WAV file as a microphone, from the start again when it ends."""

    def __init__(self, path: Path, *, realtime: bool = True) -> None:
        self.path = path
        self._samples, self._rate = load_wav(path)
        self._pacer = Pacer(self._rate, realtime=realtime, max_lag=1.0)
        self._position = 0
        self.closed = False

    @property
    def name(self) -> str:
        return f"WAV file {self.path.name}"

    @property
    def sample_rate(self) -> int:
        return self._rate

    def read(self, count: int) -> Samples:
        self._pacer.wait(count)
        size = self._samples.size
        index = (np.arange(count) + self._position) % size
        self._position = (self._position + count) % size
        return self._samples[index]

    def close(self) -> None:
        self.closed = True


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError:
        raise ConfigError(
            "microphone input needs the 'sounddevice' package: " + PORTAUDIO_HINT
        ) from None
    except OSError:  # the package is there but the PortAudio library is not
        raise ConfigError(PORTAUDIO_HINT) from None
    return sounddevice


class SoundDeviceMicrophone:
    """A real input device through PortAudio: ``None`` for the system default, an index, or
    (part of) a device name."""

    def __init__(self, device: int | str | None = None, *, sample_rate: int = DEFAULT_RATE) -> None:
        sd = _sounddevice()
        self._lock = threading.Lock()
        try:
            info = sd.query_devices(device, "input")
            self._stream: Any = sd.InputStream(
                device=device, channels=1, dtype="int16", samplerate=sample_rate
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            label = "the default microphone" if device is None else f"microphone {device!r}"
            raise ConfigError(f"{label} cannot be opened: {exc}") from None
        self._name = str(info.get("name", device))
        self._rate = sample_rate
        self._closed = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def sample_rate(self) -> int:
        return self._rate

    def read(self, count: int) -> Samples:
        with self._lock:
            if self._closed:
                raise DeviceError(f"microphone {self._name!r} is closed")
            try:
                data, _overflowed = self._stream.read(count)
            except Exception as exc:  # PortAudioError; the device went away
                raise DeviceError(f"microphone {self._name!r} stopped: {exc}") from None
        return np.ascontiguousarray(np.asarray(data, dtype=np.int16).reshape(-1))

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._stream.stop()
                self._stream.close()


def _tone_frequency(text: str) -> float:
    if ":" not in text:
        return 440.0
    try:
        return float(text.split(":", 1)[1])
    except ValueError:
        raise ConfigError(f"--mic {text!r}: the tone frequency must be a number") from None


def _is_file_spec(text: str) -> bool:
    return text.lower().endswith(".wav") or "/" in text or "\\" in text


def check_microphone_spec(spec: str) -> None:
    """Refuse a malformed ``--mic`` or a missing file at once, without opening anything."""
    text = spec.strip()
    if not text:
        raise ConfigError(
            "--mic is empty: give 'default', a device number, 'silence', 'tone' or a WAV file"
        )
    lowered = text.lower()
    if lowered == "tone" or lowered.startswith("tone:"):
        frequency = _tone_frequency(lowered)
        if not 0 < frequency < DEFAULT_RATE / 2:
            raise ConfigError(
                f"--mic {text!r}: the tone must be between 0 and {DEFAULT_RATE // 2} Hz"
            )
    elif _is_file_spec(text) and not Path(text).expanduser().is_file():
        raise ConfigError(f"microphone file {text!r} does not exist")


def open_microphone(spec: str, *, realtime: bool = True) -> Microphone:
    """``--mic``: ``silence``, ``tone`` or ``tone:FREQ``, a WAV file, ``default``, a device
    index such as ``2``, or part of a device name. ConfigError with a one-line reason when
    the spec names nothing usable."""
    check_microphone_spec(spec)
    text = spec.strip()
    lowered = text.lower()
    if lowered == "silence":
        return SilenceMicrophone(realtime=realtime)
    if lowered == "tone" or lowered.startswith("tone:"):
        return ToneMicrophone(frequency=_tone_frequency(lowered), realtime=realtime)
    if _is_file_spec(text):
        return WavFileMicrophone(Path(text).expanduser(), realtime=realtime)
    if lowered == "default":
        return SoundDeviceMicrophone(None)
    if text.isdigit():
        return SoundDeviceMicrophone(int(text))
    return SoundDeviceMicrophone(text)


# ---------------------------------------------------------------------------- one device, many readers

SHARED_CHUNK_S = 0.02  # the reader thread reads the device in 20 ms buffers
SHARED_BACKLOG_S = 2.0  # a subscriber that does not read keeps at most this much, the newest


class MicrophoneSubscription:
    """One reader's view of a `SharedMicrophone`; it is itself a `Microphone` (``name``,
    ``sample_rate``, a blocking ``read``), so the environment check and the live audio track
    take it as they take a device. ``close`` ends only this subscription."""

    def __init__(self, shared: SharedMicrophone) -> None:
        self._shared: SharedMicrophone | None = shared
        self._name = shared.name
        self._rate = shared.sample_rate
        self._chunks: deque[Samples] = deque()
        self._buffered = 0
        self._error: DeviceError | None = None
        self.dropped = 0  # samples dropped because this subscriber fell behind

    @property
    def name(self) -> str:
        return self._name

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def ended(self) -> bool:
        return self._shared is None or self._error is not None

    def read(self, count: int) -> Samples:
        """Block until ``count`` samples arrived for this subscriber; DeviceError when the
        device failed or the subscription (or the shared microphone) closed."""
        shared = self._shared
        if shared is None:
            raise DeviceError(f"the subscription to microphone {self._name!r} is closed")
        with shared._ready:
            while self._buffered < count and self._error is None:
                shared._ready.wait()
            if self._buffered < count:
                assert self._error is not None
                raise DeviceError(self._error.message)
            parts: list[Samples] = []
            wanted = count
            while wanted:
                head = self._chunks[0]
                if head.size <= wanted:
                    parts.append(self._chunks.popleft())
                    wanted -= head.size
                else:
                    parts.append(head[:wanted])
                    self._chunks[0] = head[wanted:]
                    wanted = 0
            self._buffered -= count
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def close(self) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            shared._unsubscribe(self)

    # ------------------------------------------------------------ called by the reader

    def _deliver(self, samples: Samples, limit: int) -> None:  # holds the shared lock
        self._chunks.append(samples)
        self._buffered += samples.size
        while self._buffered - self._chunks[0].size >= limit:
            self._buffered -= self._chunks.popleft().size
            self.dropped += 1

    def _end(self, error: DeviceError) -> None:  # holds the shared lock
        if self._error is None:
            self._error = error


class SharedMicrophone:
    """One microphone, any number of readers (the environment check, the live audio track):
    a thread of its own reads the device in 20 ms buffers while someone is subscribed and
    hands each buffer to every subscription, which keeps at most `backlog_s` of it. The
    device is read by one thread only, so two readers never split its samples between them.
    A device failure ends the current subscriptions; the next subscription reads it again."""

    def __init__(self, microphone: Microphone, *, backlog_s: float = SHARED_BACKLOG_S) -> None:
        self.microphone = microphone
        self._chunk = max(1, round(microphone.sample_rate * SHARED_CHUNK_S))
        self._limit = max(self._chunk, round(microphone.sample_rate * backlog_s))
        self._ready = threading.Condition()
        self._subscriptions: list[MicrophoneSubscription] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def name(self) -> str:
        return self.microphone.name

    @property
    def sample_rate(self) -> int:
        return self.microphone.sample_rate

    @property
    def reading(self) -> bool:
        return self._thread is not None

    def subscribe(self) -> MicrophoneSubscription:
        subscription = MicrophoneSubscription(self)
        with self._ready:
            if self._closed:
                subscription._end(DeviceError(f"microphone {self.name!r} is closed"))
                return subscription
            self._subscriptions.append(subscription)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="proctor-microphone", daemon=True
                )
                self._thread.start()
        return subscription

    def _unsubscribe(self, subscription: MicrophoneSubscription) -> None:
        with self._ready:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
            subscription._end(DeviceError(f"the subscription to {self.name!r} is closed"))
            self._ready.notify_all()

    def _run(self) -> None:
        error: DeviceError | None = None
        while True:
            with self._ready:
                if not self._subscriptions or self._closed:
                    self._thread = None
                    return
            try:
                samples = self.microphone.read(self._chunk)
            except DeviceError as exc:
                error = exc
            except Exception as exc:  # a driver's own error: the device is gone
                error = DeviceError(f"microphone {self.name!r} stopped: {exc}")
            with self._ready:
                if error is not None:
                    for subscription in self._subscriptions:
                        subscription._end(error)
                    self._subscriptions.clear()
                    self._thread = None
                    self._ready.notify_all()
                    return
                for subscription in self._subscriptions:
                    subscription._deliver(samples, self._limit)
                self._ready.notify_all()

    def close(self) -> None:
        """End every subscription, stop reading (within one buffer) and close the device."""
        with self._ready:
            self._closed = True
            for subscription in self._subscriptions:
                subscription._end(DeviceError(f"microphone {self.name!r} is closed"))
            self._subscriptions.clear()
            thread = self._thread
            self._ready.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        self.microphone.close()


def open_shared_microphone(spec: str) -> tuple[SharedMicrophone | None, str]:
    """The app's microphone, shared by the check and live audio: None and the reason when
    the device cannot be opened now (no PortAudio, unplugged); a malformed ``--mic`` or a
    missing file raises ConfigError (a mistake in the command line)."""
    check_microphone_spec(spec)
    try:
        return SharedMicrophone(open_microphone(spec)), ""
    except ConfigError as exc:
        return None, exc.message
