"""Each screen renders the data it is given, and says it in the chosen language."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from proctor_client.check.model import CheckId, CheckResult, Status
from proctor_client.core.conduct import RULES_VERSION
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.ui.address import AddressError, MailAddress
from proctor_client.ui.address_screen import AddressScreen
from proctor_client.ui.check_screen import CheckRow, CheckScreen, figure_text, row_from_result
from proctor_client.ui.entry_screen import EntryScreen
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.message_screen import BusyScreen, MessageScreen
from proctor_client.ui.photo_hints import PhotoHint
from proctor_client.ui.photo_screen import CAPTURED, LIVE, REFUSED, SENDING, PhotoScreen
from proctor_client.ui.result_screen import ResultScreen, ResultView
from proctor_client.ui.rules_screen import RulesScreen
from proctor_client.ui.trial_screen import TrialScreen
from proctor_client.ui.waiting_screen import WaitingScreen, WaitingView
from shared.vocabulary import FinishReason


def texts(widget: QWidget) -> str:
    """Every visible text of a widget tree, one string."""
    parts = [w.text() for w in widget.findChildren(QLabel) if not w.isHidden()]
    parts += [b.text() for b in widget.findChildren(QPushButton) if not b.isHidden()]
    return "\n".join(parts)


def label(widget: QWidget, name: str) -> QLabel:
    """The label of that object name inside a widget tree (it must be there)."""
    found = widget.findChild(QLabel, name)
    assert found is not None, name
    return found


def test_check_screen_lists_marks_figures_and_advice(
    qtbot: QtBot, languages: LanguageManager
) -> None:
    screen = CheckScreen()
    qtbot.addWidget(screen)
    screen.set_rows(
        [
            CheckRow("camera", "pass", "640×480 at 15 fps"),
            CheckRow("download", "fail", 0.4, "Mb/s", "net_too_slow", "English advice"),
            CheckRow("clock", "warn", 12, "s", "clock_sync", required=False),
            CheckRow("screens", "pass", 1, "screens"),
            CheckRow("upload", "running"),
        ],
        running=True,
    )
    shown = texts(screen)
    assert "640×480 at 15 fps" in shown and "0.4 Mb/s" in shown
    assert "Move closer to the Wi-Fi router" in shown
    assert "Checked 4 of 5…" in shown
    assert "1 screen(s)" in shown
    assert label(screen, "mark-camera").text() == "✔"
    assert label(screen, "mark-download").text() == "✘"
    assert label(screen, "mark-clock").text() == "▲"
    assert not screen._rerun.isEnabled()
    screen.set_rows(
        [
            CheckRow("download", "fail", 0.4, "Mb/s", "net_too_slow"),
            CheckRow("screens", "pass", 1, "screens"),
        ],
        running=False,
    )
    assert "Fix the failed checks" in texts(screen)
    languages.set_language("zh")
    assert "请靠近 Wi-Fi 路由器" in texts(screen)
    assert "请处理未通过的项目" in texts(screen)
    assert "1 个屏幕" in texts(screen)
    screen.set_rows([CheckRow("camera", "pass")], running=False)
    assert "您的电脑已满足考试要求" in texts(screen)


def test_check_screen_falls_back_to_the_english_advice_for_an_unknown_key(qtbot: QtBot) -> None:
    screen = CheckScreen()
    qtbot.addWidget(screen)
    screen.set_rows(
        [CheckRow("camera", "fail", None, "", "brand_new_key", "Do this.")], running=False
    )
    assert screen.advice_texts() == ["Do this."]
    with pytest.raises(ValueError):
        screen.set_rows([CheckRow("camera", "maybe")], running=False)


def test_rows_from_the_check_model(qtbot: QtBot) -> None:
    result = CheckResult(CheckId.DOWNLOAD, Status.PASS, 12.345, "Mb/s", "Download speed 12.3 Mb/s.")
    row = row_from_result(result)
    assert (row.check_id, row.status, row.figure_text, row.required) == (
        "download",
        "pass",
        "12.3 Mb/s",
        True,
    )
    assert figure_text(None, "ms") == "" and figure_text(2, "screens") == "2 screen(s)"


def test_entry_screen_asks_for_what_is_missing(qtbot: QtBot, languages: LanguageManager) -> None:
    screen = EntryScreen()
    qtbot.addWidget(screen)
    with qtbot.assertNotEmitted(screen.enter_requested):
        screen.enter_button.click()
    assert "server address" in texts(screen)
    screen.server.setText("http://127.0.0.1:8765")
    screen.enter_button.click()
    assert "admission ticket from your exam notice" in texts(screen)
    languages.set_language("zh")
    assert "请输入考试通知中的准考证号" in texts(screen)
    screen.ticket.setText(" abc def ")
    with qtbot.waitSignal(screen.enter_requested) as blocker:
        screen.enter_button.click()
    assert blocker.args == ["http://127.0.0.1:8765", "abcdef"]
    with qtbot.waitSignal(screen.trial_requested):
        screen.trial_button.click()
    with qtbot.waitSignal(screen.check_requested):
        screen.check_button.click()


def test_trial_screen_counts_runs(qtbot: QtBot, languages: LanguageManager) -> None:
    screen = TrialScreen()
    qtbot.addWidget(screen)
    assert screen.start_button.text() == "Start the trial"
    screen.set_runs(2)
    assert screen.start_button.text() == "Run the trial again"
    assert "Trials completed so far: 2" in texts(screen)
    languages.set_language("zh")
    assert screen.start_button.text() == "再做一次模拟考试"
    assert "nothing in it counts" not in texts(screen)


def test_waiting_room_shows_the_start_and_the_countdown(
    qtbot: QtBot, languages: LanguageManager
) -> None:
    screen = WaitingScreen()
    qtbot.addWidget(screen)
    screen.set_view(
        WaitingView("云计算认证考试", "2026-07-25 14:00 (UTC+08:00)", 125.2, True, False)
    )
    assert screen.countdown.text() == "02:06"
    shown = texts(screen)
    assert "Start: 2026-07-25 14:00 (UTC+08:00)" in shown
    assert "✔ Identity photo accepted" in shown and "○ Postal address" in shown
    screen.set_seconds_to_start(59)
    assert screen.countdown.text() == "00:59"
    languages.set_language("zh")
    assert "开考时间：2026-07-25 14:00" in texts(screen)


def test_photo_screen_capture_hints_retake_and_send(
    qtbot: QtBot, languages: LanguageManager
) -> None:
    screen = PhotoScreen()
    qtbot.addWidget(screen)
    screen.capture()  # no frame yet: nothing happens
    assert screen.phase == LIVE
    camera = SyntheticCamera(realtime=False)
    face = camera.read()
    screen.set_frame((face * 0.3).astype(np.uint8))
    assert screen.preview.frames_shown == 1
    screen.capture_button.click()
    assert screen.phase == CAPTURED
    assert screen.hints == [PhotoHint.TOO_DARK]
    assert "Too dark" in screen.status_text()
    screen.set_frame(face)  # ignored while a photo is held
    assert screen.preview.frames_shown == 1
    screen.retake_button.click()
    assert screen.phase == LIVE
    screen.set_frame(face)
    screen.capture()
    assert screen.hints == []
    with qtbot.waitSignal(screen.photo_confirmed) as blocker:
        screen.send_button.click()
    assert blocker.args[0][:2] == b"\xff\xd8"
    assert screen.phase == SENDING and "Checking your photo" in screen.status_text()
    no_face = "We could not find your face. Face the camera with your whole face in view."
    screen.set_refused([no_face, "A reason this app does not know yet."])
    assert screen.phase == REFUSED
    assert no_face in screen.status_text()
    assert "A reason this app does not know yet." in screen.status_text()
    languages.set_language("zh")
    assert "未能识别到您的面部" in screen.status_text()
    assert "A reason this app does not know yet." in screen.status_text()
    assert screen.retake_button.isVisibleTo(screen)


def test_address_screen_validates_each_field(qtbot: QtBot, languages: LanguageManager) -> None:
    screen = AddressScreen()
    qtbot.addWidget(screen)
    with qtbot.assertNotEmitted(screen.submitted):
        screen.submit_button.click()
    assert set(screen.errors()) == {"name", "phone", "address", "postcode"}
    assert label(screen, "phone-error").text() == "Required"
    screen.set_values(MailAddress("张三", "12345", "北京市海淀区中关村大街1号", "100080"))
    screen.submit_button.click()
    assert screen.errors() == {"phone": AddressError.BAD_PHONE}
    languages.set_language("zh")
    assert label(screen, "phone-error").text() == "请输入手机号码，例如 13800138000"
    screen.inputs["phone"].setText("13800138000")
    with qtbot.waitSignal(screen.submitted) as blocker:
        screen.submit_button.click()
    assert blocker.args[0] == MailAddress(
        "张三", "13800138000", "北京市海淀区中关村大街1号", "100080"
    )
    assert label(screen, "phone-error").isHidden()


def test_required_goes_away_under_a_field_once_filled(qtbot: QtBot) -> None:
    screen = AddressScreen()
    qtbot.addWidget(screen)
    screen.show()
    screen.submit_button.click()
    label = screen.findChild(QLabel, "name-error")
    assert label is not None and label.text() == "Required" and label.isVisible()
    QTest.keyClicks(screen.inputs["name"], "Zhang San")
    assert label.isHidden()
    other = screen.findChild(QLabel, "phone-error")
    assert other is not None and other.isVisible()  # the others still say what is missing


@pytest.mark.parametrize(
    ("code", "english", "chinese", "retry", "detail", "detail_zh"),
    [
        ("entry_not_open", "not open yet", "考试入口尚未开放", True, "", ""),
        ("entry_closed", "entry has closed", "考试入口已关闭", False, "", ""),
        ("bad_ticket", "ticket is not valid", "准考证号无效", True, "", ""),
        ("exam_over", "exam is over", "您的考试已结束", False, "", ""),
        (
            "unreachable",
            "cannot be reached",
            "无法连接考试服务器",
            True,
            "Technical detail: server words",
            "技术细节：server words",
        ),
        (
            "terminated",
            "ended by the proctor",
            "已被监考老师终止",
            False,
            "The proctor's reason: server words",
            "监考老师给出的原因：server words",
        ),
        (
            "protocol_error",
            "Something went wrong",
            "出现错误",
            False,
            "Server message: server words",
            "服务器消息：server words",
        ),
    ],
)
def test_error_screens(
    qtbot: QtBot,
    languages: LanguageManager,
    code: str,
    english: str,
    chinese: str,
    retry: bool,
    detail: str,
    detail_zh: str,
) -> None:
    """A refusal the app knows is worded by the app alone: the server's English words are
    shown only for a code the app cannot word (and a proctor's reason is theirs)."""
    screen = MessageScreen()
    qtbot.addWidget(screen)
    screen.show_error(code, "server words")
    assert english in screen.title_text()
    assert ("server words" in texts(screen)) is bool(detail)
    if detail:
        assert detail in texts(screen)
    assert screen.retry_button.isVisibleTo(screen) is retry
    languages.set_language("zh")
    assert chinese in screen.title_text()
    if detail_zh:
        assert detail_zh in texts(screen)


def test_busy_screen(qtbot: QtBot) -> None:
    screen = BusyScreen()
    qtbot.addWidget(screen)
    assert "Connecting" in texts(screen)
    screen.show_busy("submitted")
    assert "handed in" in texts(screen) and not screen.cancel_button.isVisibleTo(screen)


@pytest.mark.parametrize(
    ("view", "shown", "absent"),
    [
        (
            ResultView(85, 100, True),
            ["85 of 100 points", "Passed", "paper certificate"],
            ["trial again"],
        ),
        (
            ResultView(40, 100, False, FinishReason.TIME_UP),
            ["Not passed", "time was up", "free retake"],
            [],
        ),
        (
            ResultView(2, 3, True, trial=True),
            ["Trial result", "nothing in it counts", "Run the trial again"],
            [],
        ),
    ],
)
def test_result_screen(qtbot: QtBot, view: ResultView, shown: list[str], absent: list[str]) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    screen.set_view(view)
    for text in shown:
        assert text in texts(screen)
    for text in absent:
        assert text not in texts(screen)


def test_result_screen_in_chinese(qtbot: QtBot, languages: LanguageManager) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    screen.set_view(ResultView(85, 100, True))
    languages.set_language("zh")
    assert screen.score_label.text() == "85 分（满分 100 分）"
    assert screen.verdict.text() == "通过"


def test_the_rules_screen_says_what_is_recorded_and_asks_to_accept(
    qtbot: QtBot, languages: LanguageManager
) -> None:
    screen = RulesScreen()
    qtbot.addWidget(screen)
    text = "\n".join(screen.texts())
    for words in ("camera", "microphone", "photos", "Screen signals", "months", "proctors"):
        assert words in text
    assert RULES_VERSION in text
    assert not screen.accept_button.isEnabled()  # an explicit yes
    screen.agree.setChecked(True)
    with qtbot.waitSignal(screen.accepted) as blocker:
        screen.accept_button.click()
    assert blocker.args == [RULES_VERSION]
    languages.set_language("zh")
    text = "\n".join(screen.texts())
    assert "考试规则" in text and "麦克风" in text and "监考老师" in text
    screen.reset()
    assert not screen.accept_button.isEnabled()
