"""The real app's window, wired as `proctor-client gui` wires it (the runtime factory of
ui/app.py, the app's one camera reader and one shared microphone playing a tone), enters an
exam on a real server with live media: the server receives the camera and the tone, and the
environment check can listen to the same microphone while it publishes."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported

from av import AudioFrame, VideoFrame
from pytestqt.qtbot import QtBot

from proctor_client.devices.base import read_samples
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.devices.microphones import SharedMicrophone, ToneMicrophone
from proctor_client.runtime.model import Phase
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.ui.app import make_runtime_factory
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.main_window import MainWindow
from proctor_server.app import Server
from proctor_server.media.gateway import StreamKey
from tests.media.fakes import audio_samples, dominant_frequency
from tests.media.peers import TONE_HZ, poll
from tests.support.exam_env import Env

LIVE_TIMEOUT_S = 30.0


class Received:
    """A media hook that keeps what the server decoded of each attempt's stream."""

    def __init__(self) -> None:
        self.audio: dict[str, list[AudioFrame]] = defaultdict(list)
        self.video: dict[str, int] = defaultdict(int)

    def on_frame(self, key: StreamKey, frame: AudioFrame | VideoFrame) -> None:
        if isinstance(frame, AudioFrame):
            self.audio[key.attempt].append(frame)
        else:
            self.video[key.attempt] += 1

    async def on_end(self, key: StreamKey) -> None:
        return None


async def test_the_app_publishes_its_camera_and_microphone_from_entry(
    server: Server,
    env: Env,
    qtbot: QtBot,
    qapp: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROCTOR_CLIENT_HOME", str(tmp_path / "home"))
    received = Received()
    server.media.add_hook(received)
    _, ticket = await env.exam()
    languages = LanguageManager()
    languages.set_language("en")
    camera = CameraReader(SyntheticCamera())
    microphone = SharedMicrophone(ToneMicrophone(frequency=TONE_HZ, level=0.5))
    window = MainWindow(
        runtime_factory=make_runtime_factory(camera, microphone=microphone),
        camera=camera,
        languages=languages,
    )
    qtbot.addWidget(window)
    window.show()
    try:
        window.set_entry(server.url, ticket)
        window.entry.enter_button.click()
        window.rules.agree.setChecked(True)
        window.rules.accept_button.click()
        runtime = window.bridge.runtime
        assert isinstance(runtime, ExamRuntime)
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            state = await runtime.wait_phase(Phase.IDENTITY)  # published from `welcome` on
            await runtime.wait_for(lambda s: s.media == "live")
            attempt = state.session
            assert attempt is not None
            await poll(lambda: len(received.audio[attempt]) >= 100 and received.video[attempt] > 10)
            # The check listens to the same device meanwhile: both hear the whole tone.
            listening = microphone.subscribe()
            try:
                heard = await read_samples(listening, 0.5)
            finally:
                listening.close()
            await poll(lambda: len(received.audio[attempt]) >= 150)
        assert abs(dominant_frequency(heard.astype(float), 16_000) - TONE_HZ) < 5
        samples, rate = audio_samples(received.audio[attempt][-50:])
        assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 15  # after Opus, on the server
        assert samples.std() > 1000  # a tone at half scale, not silence
        await window.aclose()
        async with asyncio.timeout(5):  # the publisher let go of the device with the window
            await poll(lambda: not microphone.reading)
    finally:
        await window.aclose()
        await camera.aclose()
        await asyncio.to_thread(microphone.close)
