"""The window shows the screen each state snapshot calls for (snapshots given through the
bridge exactly as the runtime's listener receives them)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.runtime.model import (
    ClientState,
    ErrorView,
    EventKind,
    ExamInfoView,
    MessageSource,
    Mode,
    OptionView,
    QuestionView,
    ResultView,
    WarningView,
)
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.main_window import MainWindow
from proctor_client.ui.photo_screen import REFUSED

EXAM = ExamInfoView("e1", "Cloud exam", "2026-07-25T06:00:00.000Z", "2026-07-25T07:30:00.000Z")
ENTERED = ClientState(
    connected=True,
    welcomed=True,
    exam=EXAM,
    identity_accepted=True,
    profile_given=True,
    profile_saved=True,
    warning_limit=3,
)
IN_EXAM = replace(
    ENTERED,
    has_paper=True,
    questions=(
        QuestionView("q", "Question?", False, (OptionView("a", "A"), OptionView("b", "B"))),
    ),
    ends_at_mono=100.0,
    watermark_text="C1 · 张* · Cloud exam",
    watermark_nonce="n1",
)


@pytest.fixture
def window(qtbot: QtBot, languages: LanguageManager) -> MainWindow:
    window = MainWindow(languages=languages, clock=lambda: 40.0)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.mark.parametrize(
    ("state", "screen"),
    [
        (ClientState(), "busy"),
        (ClientState(connect_failures=2), "message"),
        (replace(ENTERED, identity_accepted=False, profile_given=False), "photo"),
        (replace(ENTERED, profile_given=False), "address"),
        (replace(ENTERED, mode=Mode.TRIAL, profile_given=False), "waiting"),
        (ENTERED, "waiting"),
        (IN_EXAM, "exam"),
        (replace(IN_EXAM, submit_id="s1"), "busy"),
        (replace(IN_EXAM, terminated_reason="phone in view"), "message"),
        (replace(IN_EXAM, result=ResultView(5, 10, False)), "result"),
        (ClientState(error=ErrorView("bad_ticket", "unknown ticket", fatal=True)), "message"),
        (ClientState(closed=True), "entry"),
    ],
)
def test_each_phase_has_its_screen(window: MainWindow, state: ClientState, screen: str) -> None:
    window.bridge.on_state(state)
    assert window.current_screen == screen
    assert window.watermark.isVisible() is (screen == "exam")
    assert window.watcher.armed is (screen == "exam")


def test_the_exam_screen_gets_paper_countdown_and_watermark(window: MainWindow) -> None:
    window.bridge.on_state(IN_EXAM)
    assert window.exam.question_text.text() == "Question?"
    assert window.exam.countdown.text() == "01:00"  # ends at 100, the clock says 40
    assert window.watermark.line() == "C1 · 张* · Cloud exam  n1"
    window.bridge.on_state(replace(IN_EXAM, watermark_nonce="n2"))
    assert window.watermark.line().endswith("n2")


def test_offline_banner_follows_the_connection(window: MainWindow) -> None:
    window.bridge.on_state(replace(IN_EXAM, offline=True))
    assert not window.banners.offline.isHidden()
    assert window.current_screen == "exam"  # the candidate keeps answering
    window.bridge.on_state(IN_EXAM)
    assert window.banners.offline.isHidden()


def test_a_proctors_warning_is_shown_once_in_one_notice(window: MainWindow, qtbot: QtBot) -> None:
    proctor = WarningView("Look at your screen.", 1, 3, source=MessageSource.PROCTOR)
    warned = replace(IN_EXAM, warnings=(proctor,), warnings_used=1)
    window.bridge.on_state(warned)
    assert window.banners.warning.label.text() == (
        "Warning from the proctor: Look at your screen. Warnings left: 2 of 3."
    )
    notice = window.notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert notice.windowTitle() == "Warning from the proctor"
    assert notice.text().startswith("Warning from the proctor: Look at your screen.")
    notice.buttons()[0].click()
    qtbot.waitUntil(lambda: window.notice is None)
    window.bridge.on_state(replace(warned, watermark_nonce="n9"))  # same warnings: no new one
    assert window.notice is None
    message = WarningView("Is someone there?", source=MessageSource.PROCTOR, notice=True)
    window.bridge.on_state(replace(warned, warnings=(proctor, message)))
    assert window.notice is not None and window.notice.windowTitle() == "Message from the proctor"


def test_an_automatic_warning_is_not_from_the_proctor(window: MainWindow) -> None:
    automatic = WarningView("You left the exam screen...", 1, 3, kind=EventKind.FOCUS_LOST)
    window.bridge.on_state(replace(IN_EXAM, warnings=(automatic,), warnings_used=1))
    assert window.banners.warning.isHidden() and window.notice is None
    # one the app did not report itself (before a restart) is worded by the app
    window.bridge.on_state(replace(IN_EXAM, warnings=(automatic, WarningView("x", 2, 3))))
    assert "recorded automatically" in window.banners.offscreen.label.text()
    assert window.banners.warning.isHidden() and window.notice is None


def test_terminated_and_time_up_say_so(window: MainWindow, languages: LanguageManager) -> None:
    window.bridge.on_state(replace(IN_EXAM, time_up=True))
    assert window.busy._title.text() == "Time is up"
    window.bridge.on_state(replace(IN_EXAM, terminated_reason="phone in view"))
    assert window.message.code == "terminated"
    languages.set_language("zh")
    assert "已被监考老师终止" in window.message.title_text()


def test_a_refused_photo_asks_for_a_retake(window: MainWindow) -> None:
    waiting = replace(ENTERED, identity_accepted=False, profile_given=False)
    window.bridge.on_state(replace(waiting, identity_pending="p1"))
    assert window.photo.phase == "sending"
    window.bridge.on_state(replace(waiting, identity_reasons=("Look straight at the camera.",)))
    assert window.photo.phase == REFUSED
    assert "Look straight at the camera." in window.photo.status_text()


def test_a_trial_result_counts_the_runs(window: MainWindow) -> None:
    done = replace(ENTERED, mode=Mode.TRIAL, result=ResultView(2, 3, True, counts=False))
    window.bridge.on_state(done)
    assert window.result.again_button.isVisibleTo(window.result)
    assert window.trial._runs == 1


def test_a_refusal_the_runtime_survives_goes_to_the_status_bar(window: MainWindow) -> None:
    window.bridge.on_state(
        replace(IN_EXAM, error=ErrorView("deadline_passed", "the answer came after the deadline"))
    )
    assert window.statusBar().currentMessage() == "The time is over: this was not saved."
    assert window.current_screen == "exam"


def test_the_bridge_reports_phase_changes_once(window: MainWindow, qtbot: QtBot) -> None:
    phases: list[str] = []
    window.bridge.phase_changed.connect(phases.append)
    for state in (ENTERED, replace(ENTERED, starts_at_mono=5.0), IN_EXAM, IN_EXAM):
        window.bridge.on_state(state)
    assert phases == ["waiting_room", "exam"]


def test_one_leave_shows_one_banner_then_one_notice_with_one_count(
    window: MainWindow, languages: LanguageManager
) -> None:
    window.bridge.on_state(replace(IN_EXAM, warnings_used=1))
    away = replace(IN_EXAM, warnings_used=2, away=EventKind.APP_INACTIVE)
    window.bridge.on_state(away)
    assert not window.banners.offscreen.isHidden()
    assert "Warnings left: 1 of 3." in window.banners.offscreen.label.text()
    assert window.notice is None  # not while away
    window.bridge.on_state(replace(away, away_signals=(EventKind.FOCUS_LOST,)))
    assert window.notice is None
    window.bridge.on_state(replace(away, away=None))
    notice = window.notice
    assert notice is not None and "Warnings left: 1 of 3." in notice.text()
    window.bridge.on_state(replace(away, away=None, watermark_nonce="n2"))
    assert window.notice is notice and len(window.findChildren(QMessageBox)) == 1
    languages.set_language("zh")
    assert window.notice is not None and window.notice.buttons()[0].text() == "确定"
    assert window.notice.windowTitle() == "您离开了考试界面"  # the notice changes language too
    assert "剩余警告次数：1/3。" in window.notice.text()
    window.bridge.on_state(replace(away, away=None, result=ResultView(5, 10, False)))
    assert window.banners.offscreen.isHidden()  # not on the result screen


def test_a_screen_connected_during_the_exam(window: MainWindow, languages: LanguageManager) -> None:
    window.bridge.on_state(IN_EXAM)
    window.on_offscreen("screen_added", {"screens": 2})
    assert not window.banners.screens.isHidden()
    assert window.notice is not None and window.notice.property("kind") == "screen"
    languages.set_language("zh")
    assert "考试只允许使用一台显示器" in window.banners.screens.label.text()
    window.on_offscreen("screen_removed", {"screens": 1})
    assert window.banners.screens.isHidden()


def test_the_rules_come_before_entry_once(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[str, str, str]] = []
    monkeypatch.setattr(window, "start_session", lambda s, t, m: started.append((s, t, m)))
    window.enter("http://h:1", "T", Mode.EXAM)
    assert window.current_screen == "rules" and started == []
    window.rules.agree.setChecked(True)
    window.rules.accept_button.click()
    assert started == [("http://h:1", "T", Mode.EXAM)]
    window.enter("http://h:1", "T", Mode.TRIAL)  # accepted in this run: not asked again
    assert started[-1] == ("http://h:1", "T", Mode.TRIAL)


def test_the_self_view_shows_in_the_waiting_room_and_the_exam_only(qtbot: QtBot) -> None:
    camera = CameraReader(SyntheticCamera(realtime=False))
    window = MainWindow(camera=camera)
    qtbot.addWidget(window)
    window.show()
    window.bridge.on_state(ENTERED)
    assert window.self_view.isVisible()
    window.bridge.on_state(IN_EXAM)
    assert window.self_view.isVisible()
    window.bridge.on_state(replace(IN_EXAM, result=ResultView(5, 10, False)))
    assert not window.self_view.isVisible()
