"""The main window driven by the real runtime against a real server over loopback: each phase
shows its screen, what the candidate does reaches the server, and "saved" comes from acks."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from proctor_client.check.model import CheckReport, Progress
from proctor_client.check.runner import CheckSettings, run_environment_check
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.runtime.backoff import Backoff
from proctor_client.runtime.model import ExamRuntimeAPI, Mode, Phase
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.ui.address import MailAddress
from proctor_client.ui.exam_screen import SAVED, UNANSWERED
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.main_window import MainWindow
from proctor_client.ui.screens_qt import QtScreens
from proctor_server import admin
from proctor_server.app import Server, ServerConfig, run_server
from shared.questions import Question

QUESTIONS = [
    Question(
        id="q1",
        text="Which port does HTTPS use by default?",
        options=["21", "80", "443"],
        answer=[2],
        points=5,
    ),
    Question(
        id="q2",
        text="Pick both colours.",
        options=["red", "seven", "blue"],
        answer=[0, 2],
        points=5,
    ),
]


@dataclass
class Env:
    server: Server
    tmp: Path
    runtimes: list[ExamRuntime]

    def factory(self, server: str, ticket: str, mode: Mode) -> ExamRuntimeAPI:
        runtime = ExamRuntime(
            server,
            ticket,
            mode=mode,
            outbox_path=self.tmp / "outbox.sqlite3",
            backoff=Backoff(base=0.02, cap=0.2),
        )
        self.runtimes.append(runtime)
        return runtime

    async def exam(self, starts_in: timedelta) -> str:
        exam = await admin.create_exam(
            self.server.store,
            title="云计算认证考试",
            starts_at=datetime.now(UTC) + starts_in,
            duration=timedelta(minutes=60),
            questions=QUESTIONS,
        )
        ticket = await admin.issue_ticket(self.server.store, exam.id, name="张三丰")
        return ticket.token


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with run_server(ServerConfig(db=tmp_path / "exam.db", port=0)) as server:
        env = Env(server, tmp_path, [])
        try:
            yield env
        finally:
            for runtime in env.runtimes:
                await runtime.close()


@pytest.fixture
async def window(qtbot: QtBot, env: Env, languages: LanguageManager) -> AsyncIterator[MainWindow]:
    camera = CameraReader(SyntheticCamera())  # the preview waits for its frames at 15 a second
    window = MainWindow(runtime_factory=env.factory, camera=camera, languages=languages)
    qtbot.addWidget(window)
    window.show()
    try:
        yield window
    finally:
        await window.aclose()
        await camera.aclose()


def runtime_of(window: MainWindow) -> ExamRuntime:
    runtime = window.bridge.runtime
    assert isinstance(runtime, ExamRuntime)
    return runtime


async def test_a_whole_exam_through_the_window(env: Env, window: MainWindow, qtbot: QtBot) -> None:
    ticket = await env.exam(starts_in=timedelta(minutes=-1))
    window.set_entry(env.server.url, ticket)
    window.entry.enter_button.click()
    assert window.current_screen == "rules"  # the rules of conduct and consent first (R16)
    window.rules.agree.setChecked(True)
    window.rules.accept_button.click()
    runtime = runtime_of(window)
    await runtime.wait_phase(Phase.IDENTITY)
    assert window.current_screen == "photo"
    # the identity photo: the live preview runs; capture a frame, send it; the server accepts
    await signal_value(window.photo.preview.frame_shown)
    await signal_value(window.photo.preview.frame_shown)
    window.photo.capture()
    assert window.photo.hints == []
    window.photo.send_button.click()
    await runtime.wait_phase(Phase.PROFILE)
    assert window.current_screen == "address"
    # the postal address (R14)
    window.address.set_values(
        MailAddress("张三丰", "13800138000", "北京市海淀区中关村大街1号", "100080")
    )
    window.address.submit_button.click()
    state = await runtime.wait_phase(Phase.EXAM)
    assert window.current_screen == "exam"
    shown = window.photo.preview.frames_shown
    assert window._preview_target == "exam"  # the identity preview gave way to the self-view
    assert window.photo.preview.frames_shown == shown
    assert window.self_view.isVisible()
    seen = asyncio.Event()
    window.self_view.frame_shown.connect(seen.set)
    if not window.self_view.frames_shown:
        async with asyncio.timeout(10):
            await seen.wait()  # the candidate sees themselves during the exam
    assert window.watcher.armed and window.watermark.isVisible()
    assert window.watermark.line() == f"{state.watermark_text}  {state.watermark_nonce}"
    assert state.watermark_nonce and state.watermark_nonce in window.watermark.line()
    assert window.exam.marks() == [UNANSWERED, UNANSWERED]
    # answer the first question on screen; "saved" only after the server's ack
    window.exam.option_buttons()[0].click()
    assert window.exam.marks()[0] != SAVED  # chosen, not yet acknowledged
    await runtime.wait_for(lambda s: s.questions[0].saved and s.questions[0].answered)
    assert window.exam.marks()[0] == SAVED
    # leaving the exam screen is reported and warned about (R16): the system's three signals
    # of one leave are one warning, one banner and one notice
    used = runtime.state.warnings_used
    window.watcher.on_application_state(Qt.ApplicationState.ApplicationInactive)
    window.watcher.on_focus_window(None)
    window.watcher.on_minimized(True)
    assert not window.banners.offscreen.isHidden()
    assert "Warnings left: 2 of 3." in window.banners.offscreen.label.text()
    window.watcher.on_minimized(False)
    window.watcher.on_application_state(Qt.ApplicationState.ApplicationActive)
    window.watcher.on_focus_window(window.windowHandle())
    state = await runtime.wait_for(lambda s: len(s.warnings) == 1 and s.pending == 0)
    assert state.warnings_used == used + 1  # the server counted one
    notice = window.notice
    assert notice is not None and notice.windowTitle() == "You left the exam screen"
    assert len(window.findChildren(QMessageBox)) == 1
    assert "Warnings left: 2 of 3." in notice.text()
    assert window.banners.warning.isHidden()  # nothing "from the proctor"
    notice.accept()
    # submit with confirmation, then the score (R17)
    box = window.exam.ask_submit()
    next(b for b in box.buttons() if b.text() == "Submit").click()
    state = await runtime.wait_phase(Phase.RESULT)
    assert window.current_screen == "result"
    assert state.result is not None
    assert window.result.score_label.text() == f"{state.result.score} of 10 points"
    assert not window.watcher.armed and not window.watermark.isVisible()


async def test_waiting_room_counts_down_in_server_time(env: Env, window: MainWindow) -> None:
    ticket = await env.exam(starts_in=timedelta(minutes=20))
    window.start_session(env.server.url, ticket, Mode.EXAM)
    runtime = runtime_of(window)
    await runtime.wait_phase(Phase.IDENTITY)
    window.photo.set_frame(SyntheticCamera(realtime=False).read())
    window.photo.capture()
    window.photo.send_button.click()
    await runtime.wait_phase(Phase.PROFILE)
    window.address.set_values(
        MailAddress("张三丰", "13800138000", "北京市海淀区中关村大街1号", "100080")
    )
    window.address.submit_button.click()
    await runtime.wait_phase(Phase.WAITING_ROOM)
    assert window.current_screen == "waiting"
    minutes = int(window.waiting.countdown.text().split(":")[0])
    assert 18 <= minutes <= 20


@pytest.mark.parametrize(
    ("starts_in", "ticket", "code"),
    [
        (timedelta(hours=2), None, "entry_not_open"),
        (timedelta(hours=-0.75), None, "entry_closed"),
        (timedelta(minutes=-1), "not-a-ticket", "bad_ticket"),
    ],
)
async def test_refusals_show_their_screen(
    env: Env, window: MainWindow, starts_in: timedelta, ticket: str | None, code: str
) -> None:
    good = await env.exam(starts_in=starts_in)
    window.start_session(env.server.url, ticket or good, Mode.EXAM)
    runtime = runtime_of(window)
    state = await runtime.wait_phase(Phase.ERROR)
    assert state.error is not None and state.error.code == code
    assert window.current_screen == "message" and window.message.code == code


async def test_an_unreachable_server_says_so(env: Env, window: MainWindow) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    window.start_session(f"http://127.0.0.1:{port}", "some-ticket", Mode.EXAM)
    await runtime_of(window).wait_phase(Phase.OFFLINE)
    assert window.current_screen == "message" and window.message.code == "unreachable"
    window.message.back_button.click()
    assert window.current_screen == "entry"
    await asyncio.wait_for(window.tasks.aclose(), 10)


async def test_the_trial_runs_again_and_again(env: Env, window: MainWindow) -> None:
    ticket = await env.exam(starts_in=timedelta(days=3))
    window.set_entry(env.server.url, ticket)
    window.entry.trial_button.click()
    assert window.current_screen == "trial"
    for run in (1, 2):
        if run == 1:
            window.trial.start_button.click()
            assert window.current_screen == "rules"  # the rules and consent first (R16)
            window.rules.agree.setChecked(True)
            window.rules.accept_button.click()
        else:
            window.result.again_button.click()  # accepted in this run: not asked again
        runtime = runtime_of(window)
        await runtime.wait_phase(Phase.IDENTITY)
        await runtime.wait_for(lambda s: s.consent_saved)  # sent and acknowledged
        window.photo.set_frame(SyntheticCamera(realtime=False).read())
        window.photo.capture()
        window.photo.send_button.click()
        state = await runtime.wait_phase(Phase.EXAM)
        assert "Trial exam" in window.exam._exam_title.text()
        assert len(state.questions) == 3
        window.exam.ask_submit().buttons()[0].click()
        await runtime.wait_phase(Phase.RESULT)
        assert window.current_screen == "result"
        assert window.result.again_button.isVisibleTo(window.result)
    assert window.trial._runs == 2


async def signal_value(signal: Any, timeout: float = 30.0) -> Any:
    """Wait (on the asyncio loop) for the next emission of a Qt signal; return its first
    argument (None for a signal without arguments)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def receive(*args: Any) -> None:
        if not future.done():
            future.set_result(args[0] if args else None)

    signal.connect(receive)
    try:
        return await asyncio.wait_for(future, timeout)
    finally:
        signal.disconnect(receive)


async def test_the_environment_check_runs_from_the_start_screen(
    env: Env, qtbot: QtBot, languages: LanguageManager
) -> None:
    window: MainWindow | None = None
    rows_while_running: list[int] = []

    async def runner(server: str, progress: Callable[[Progress], None]) -> CheckReport:
        def relay(step: Progress) -> None:
            progress(step)
            assert window is not None
            rows_while_running.append(sum(r.status != "pending" for r in window.check._rows))

        settings = CheckSettings(
            server=server,
            camera=CameraReader(SyntheticCamera(realtime=False)),
            microphone="tone",
            screens=QtScreens(),
            camera_seconds=0.3,
            microphone_seconds=0.3,
            download_seconds=0.3,
            upload_seconds=0.3,
        )
        return await run_environment_check(settings, relay)

    window = MainWindow(check_runner=runner, languages=languages)
    qtbot.addWidget(window)
    window.entry.server.setText(env.server.url)
    try:
        window.entry.check_button.click()
        assert window.current_screen == "check"
        report = await signal_value(window.check_finished)
    finally:
        await window.aclose()
    assert isinstance(report, CheckReport)
    shown = {row.check_id: row.status for row in window.check._rows}
    assert shown == {str(r.id): str(r.status) for r in report.checks}
    assert "pending" not in shown.values() and "running" not in shown.values()
    assert shown["latency"] == "pass"  # the real server answered
    assert len(rows_while_running) > 2 and rows_while_running[0] < len(shown)
    assert window.check._rerun.isEnabled()


async def test_a_bad_server_address_for_the_check_is_said(
    qtbot: QtBot, languages: LanguageManager
) -> None:
    async def runner(server: str, progress: Callable[[Progress], None]) -> CheckReport:
        return await run_environment_check(CheckSettings(server=server), progress)

    window = MainWindow(check_runner=runner, languages=languages)
    qtbot.addWidget(window)
    window.entry.server.setText("ftp://nowhere")
    try:
        window.entry.check_button.click()
        assert await signal_value(window.check_finished) is None
    finally:
        await window.aclose()
    assert window.statusBar().currentMessage() != ""
