"""The app's voice-grade Opus over a real aiortc peer connection: the server's gateway receives
mono 20 ms packets at about the voice bitrate and decodes the tone with its pitch, and the
server's voice activity marks a speaking span from the app's stream (a synthetic voice at the
microphones' 16 kHz, and espeak-ng's speech at 22.05 kHz, which the app resamples)."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from av import AudioFrame, VideoFrame

from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.microphones import ToneMicrophone, WavFileMicrophone, load_wav
from proctor_client.media.publisher import MediaSources
from proctor_client.media.tracks import MicrophoneTrack
from proctor_client.media.voice import PACKET_TICKS, VOICE_BITRATE
from proctor_server import admin
from proctor_server.app import Server
from proctor_server.media.aiortc_gateway import AiortcGateway
from proctor_server.media.gateway import StreamKey
from proctor_server.media.receiver_tap import EncodedFrame, OpusFrame
from shared import proctor_protocol as pp
from shared.vocabulary import Source, ViolationKind
from tests.media.fakes import PaletteCamera, audio_samples, dominant_frequency
from tests.media.peers import TONE_HZ, poll, proctor
from tests.shared.vision.test_voice import RATE, silence, voice
from tests.support.exam_env import Env

TIMEOUT_S = 30.0
SPEECH = (
    "Candidates must keep their eyes on the screen. Please do not talk during the examination."
    " If you need help, raise your hand and wait for the proctor."
)


class _Heard:
    """A gateway hook keeping the Opus packets as received and the decoded sound (which it
    declares it needs: by default a hook that takes the packets has none decoded)."""

    decoded_audio = True

    def __init__(self) -> None:
        self.opus: list[OpusFrame] = []
        self.audio: list[AudioFrame] = []

    def on_encoded(self, key: StreamKey, frame: EncodedFrame) -> None:
        if isinstance(frame, OpusFrame):
            self.opus.append(frame)

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        if isinstance(frame, AudioFrame):
            self.audio.append(frame)

    async def on_end(self, key: StreamKey) -> None:
        return None


async def test_the_server_receives_mono_voice_opus_and_hears_the_tones_pitch() -> None:
    gateway = AiortcGateway()
    heard = _Heard()
    gateway.add_hook(heard)
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender.addTrack(MicrophoneTrack(ToneMicrophone(frequency=TONE_HZ, level=0.5)))
    try:
        await sender.setLocalDescription(await sender.createOffer())
        answer = await gateway.publish(
            StreamKey("exam", "attempt"), sender.localDescription.sdp, lambda *_: None
        )
        await sender.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        async with asyncio.timeout(TIMEOUT_S):
            await poll(lambda: len(heard.opus) >= 150 and len(heard.audio) >= 100)
    finally:
        await sender.close()
        await gateway.close()
    packets = heard.opus[-100:]  # two seconds, as the clips and recordings keep them
    steps = [b.rtp - a.rtp for a, b in itertools.pairwise(packets)]
    assert all(step > 0 and step % PACKET_TICKS == 0 for step in steps)  # 20 ms each, in order
    assert steps.count(PACKET_TICKS) >= 0.95 * len(steps)  # (one lost on loopback, rarely)
    assert not any(f.data[0] & 0x04 for f in packets)  # mono (the TOC byte's stereo bit)
    bits_per_second = sum(len(f.data) for f in packets) * 8 / (len(packets) * 0.020)
    assert 0.85 * VOICE_BITRATE <= bits_per_second <= 1.15 * VOICE_BITRATE, bits_per_second
    samples, rate = audio_samples(heard.audio[-25:])  # aiortc's decoder: 48 kHz stereo
    assert rate == 48_000 and heard.audio[-1].layout.nb_channels == 2
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15
    assert np.abs(samples).max() > 0.3 * 32768  # the tone at half scale, not a faint leak


def _synthetic_voice(path: Path) -> tuple[Path, float]:
    rng = np.random.default_rng(3)
    audio = np.concatenate([silence(1, rng), voice(5, rng), silence(3, rng)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.astype("<i2").tobytes())
    return path, 5.0


def _espeak(path: Path) -> tuple[Path, float]:
    """espeak-ng's speech (22.05 kHz), a second of silence before and three after."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    spoken = path.with_suffix(".speech.wav")
    subprocess.run(["espeak-ng", "-w", str(spoken), SPEECH], check=True, capture_output=True)
    samples, rate = load_wav(spoken)
    quiet = np.zeros(rate, np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.concatenate([quiet, samples, quiet, quiet, quiet]).tobytes())
    return path, samples.size / rate


@pytest.mark.parametrize("talk", [_synthetic_voice, _espeak], ids=["voice-16kHz", "espeak-ng"])
async def test_voice_activity_marks_a_speaking_span_from_the_apps_stream(
    server: Server, env: Env, tmp_path: Path, talk: object
) -> None:
    assert callable(talk)
    wav, spoken_s = talk(tmp_path / "talk.wav")
    exam_id, ticket = await env.exam()
    token = await admin.proctor_token(server.store, exam_id)
    sources = MediaSources(camera=CameraReader(PaletteCamera()), microphone=WavFileMicrophone(wav))
    async with proctor(f"{server.ws_url}/ws/proctor?token={token}") as watcher:
        runtime = env.runtime(ticket, media=sources)
        runtime.start()
        async with asyncio.timeout(TIMEOUT_S + spoken_s):
            state = await runtime.wait_for(lambda s: s.media == "live")
            await watcher.until(
                lambda: any(f.kind == ViolationKind.SPEAKING for f in watcher.of_type(pp.Flag))
            )
            assert state.session is not None
            session = state.session

            async def span_closed() -> bool:
                return any(v.ended_at is not None for v in await server.store.violations(session))

            await poll(span_closed, 0.2)
    (violation, *_) = await server.store.violations(session)
    assert violation.kind == ViolationKind.SPEAKING and violation.source == Source.SERVER
    assert violation.ended_at is not None
    length = (violation.ended_at - violation.server_at).total_seconds()
    assert 3.0 <= length <= spoken_s + 1.5, (length, spoken_s)
