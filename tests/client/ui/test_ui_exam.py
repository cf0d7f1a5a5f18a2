"""The exam screen, the watermark, the banners and the off-screen watcher."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QCheckBox, QMessageBox, QPushButton, QRadioButton, QWidget
from pytestqt.qtbot import QtBot

from proctor_client.runtime.model import OptionView, QuestionView
from proctor_client.ui.banners import BannerArea
from proctor_client.ui.exam_screen import PENDING, SAVED, UNANSWERED, AnswerView, ExamScreen
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.offscreen import OffscreenWatcher
from proctor_client.ui.watermark import WatermarkOverlay

PAPER = (
    QuestionView(
        "qa", "Which port does HTTPS use?", False, (OptionView("o1", "80"), OptionView("o2", "443"))
    ),
    QuestionView(
        "qb",
        "Pick both colours.",
        True,
        (OptionView("x", "red"), OptionView("y", "seven"), OptionView("z", "blue")),
    ),
    QuestionView("qc", "Pick any.", False, (OptionView("p", "yes"), OptionView("q", "no"))),
)


def exam_screen(qtbot: QtBot) -> ExamScreen:
    screen = ExamScreen()
    qtbot.addWidget(screen)
    screen.set_paper("Cloud exam", PAPER)
    return screen


def test_questions_in_order_with_radio_buttons_and_check_boxes(qtbot: QtBot) -> None:
    screen = exam_screen(qtbot)
    assert screen.nav.count() == 3
    assert screen.question_text.text() == "Which port does HTTPS use?"
    buttons = screen.option_buttons()
    assert all(isinstance(b, QRadioButton) for b in buttons)
    assert [b.text() for b in buttons] == ["A. 80", "B. 443"]
    screen.next_button.click()
    assert screen.current_index == 1
    assert all(isinstance(b, QCheckBox) for b in screen.option_buttons())
    screen.nav.setCurrentRow(2)
    assert screen.question_text.text() == "Pick any."
    assert not screen.next_button.isEnabled()


def test_choosing_emits_the_answer_and_marks_it_pending_until_saved(qtbot: QtBot) -> None:
    screen = exam_screen(qtbot)
    with qtbot.waitSignal(screen.answer_changed) as blocker:
        screen.option_buttons()[1].click()
    assert blocker.args == ["qa", ["o2"]]
    assert screen.marks() == [PENDING, UNANSWERED, UNANSWERED]
    assert "Saving" in screen.saved_mark.text()
    # Only the state's acknowledgement turns it into "saved".
    screen.set_answers({"qa": AnswerView(("o2",), saved=True)})
    assert screen.marks() == [SAVED, UNANSWERED, UNANSWERED]
    assert "Saved" in screen.saved_mark.text()
    assert "Answered 1 of 3" in screen._progress.text()
    # A radio switch emits one answer, with the new option only.
    with qtbot.waitSignal(screen.answer_changed) as blocker:
        screen.option_buttons()[0].click()
    assert blocker.args == ["qa", ["o1"]]


def test_multiple_choice_sends_every_checked_option(qtbot: QtBot) -> None:
    screen = exam_screen(qtbot)
    screen.go_to(1)
    boxes = screen.option_buttons()
    boxes[0].click()
    with qtbot.waitSignal(screen.answer_changed) as blocker:
        boxes[2].click()
    assert blocker.args == ["qb", ["x", "z"]]
    with qtbot.waitSignal(screen.answer_changed) as blocker:
        boxes[0].click()
    assert blocker.args == ["qb", ["z"]]


def test_state_updates_the_buttons_without_echoing_answers(qtbot: QtBot) -> None:
    screen = exam_screen(qtbot)
    with qtbot.assertNotEmitted(screen.answer_changed):
        screen.set_answers({"qa": AnswerView(("o2",), saved=True)})
        assert [b.isChecked() for b in screen.option_buttons()] == [False, True]
        screen.set_answers({})
        assert [b.isChecked() for b in screen.option_buttons()] == [False, False]


def test_countdown_turns_red_in_the_last_minutes(qtbot: QtBot) -> None:
    screen = exam_screen(qtbot)
    screen.set_seconds_left(3600.0)
    assert screen.countdown.text() == "1:00:00" and "#1565c0" in screen.countdown.styleSheet()
    screen.set_seconds_left(299.5)
    assert screen.countdown.text() == "05:00" and "#c62828" in screen.countdown.styleSheet()


def test_submit_asks_first_and_names_the_unanswered(qtbot: QtBot) -> None:
    screen = exam_screen(qtbot)
    screen.set_answers({"qa": AnswerView(("o2",), saved=True)})
    box = screen.ask_submit()
    assert "2 question(s) are not answered yet" in box.text()
    keep = next(b for b in box.buttons() if b.text() == "Keep answering")
    with qtbot.assertNotEmitted(screen.submit_confirmed):
        keep.click()
    box = screen.ask_submit()
    submit = next(b for b in box.buttons() if b.text() == "Submit")
    with qtbot.waitSignal(screen.submit_confirmed):
        submit.click()


def test_exam_screen_in_chinese(qtbot: QtBot, languages: LanguageManager) -> None:
    screen = exam_screen(qtbot)
    languages.set_language("zh")
    assert screen.submit_button.text() == "交卷"
    assert screen._number.text() == "第 1 题，共 3 题"
    assert screen.nav.item(0).text().endswith("第 1 题")
    assert screen._kind.text() == "单选题"


def test_watermark_paints_the_text_and_the_nonce(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(400, 300)
    overlay = WatermarkOverlay(host)
    plain = host.grab().toImage()
    overlay.set_watermark("C00001 · 张*丰 · Cloud exam", "n-7f3a")
    marked = host.grab().toImage()
    assert overlay.painted_lines == ["C00001 · 张*丰 · Cloud exam  n-7f3a"]
    assert overlay.geometry() == host.rect()
    assert changed_pixels(plain, marked) > 500
    # A new nonce repaints with the new text.
    overlay.set_watermark("C00001 · 张*丰 · Cloud exam", "n-8b1c")
    again = host.grab().toImage()
    assert overlay.painted_lines[-1].endswith("n-8b1c")
    assert changed_pixels(marked, again) > 0
    host.show()
    host.resize(600, 500)
    qtbot.waitUntil(lambda: overlay.geometry() == host.rect())


def test_watermark_tiles_are_drawn_once_per_text_and_size(qtbot: QtBot) -> None:
    """A repaint under the overlay (the countdown ticking) copies the kept tiles; a new nonce
    or a new size draws them again, and what is on screen is the same either way."""
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(400, 300)
    overlay = WatermarkOverlay(host)
    overlay.set_watermark("C00001 · 张*丰 · Cloud exam", "n-7f3a")
    first = host.grab().toImage()
    drawn = overlay.tiles_drawn
    for _ in range(3):
        overlay.update(10, 10, 60, 20)  # a small region, as a label's repaint asks
        assert changed_pixels(first, host.grab().toImage()) == 0
    assert overlay.tiles_drawn == drawn == 1
    overlay.set_watermark("C00001 · 张*丰 · Cloud exam", "n-8b1c")
    host.grab()
    assert overlay.tiles_drawn == 2
    host.resize(500, 300)
    overlay.setGeometry(host.rect())
    host.grab()
    assert overlay.tiles_drawn == 3


def changed_pixels(a: QImage, b: QImage) -> int:
    return sum(
        1
        for y in range(0, a.height(), 2)
        for x in range(0, a.width(), 2)
        if a.pixel(x, y) != b.pixel(x, y)
    )


def test_watermark_lets_clicks_through(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(300, 200)
    button = QPushButton("under", host)
    button.setGeometry(10, 10, 120, 40)
    overlay = WatermarkOverlay(host)
    overlay.set_watermark("text", "nonce")
    host.show()
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    assert host.childAt(QPoint(20, 20)) is button
    with qtbot.waitSignal(button.clicked):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_banners(qtbot: QtBot, languages: LanguageManager) -> None:
    area = BannerArea()
    qtbot.addWidget(area)
    assert area.offline.isHidden() and area.offscreen.isHidden() and area.warning.isHidden()
    area.set_online(False)
    assert not area.offline.isHidden()
    assert "answers are kept" in area.offline.label.text()
    area.set_count(1, 3, None)
    area.show_offscreen()
    text = area.offscreen.label.text()
    assert "recorded automatically" in text and "proctor" not in text.split(".")[0]
    assert "Warnings left: 2 of 3." in text and "When none are left" not in text
    area.set_count(2, 3, "terminate")
    assert "Warnings left: 1 of 3. When none are left, your exam is ended." in (
        area.offscreen.label.text()
    )
    area.set_count(3, 3, "alert")
    assert "Warnings left: 0 of 3. When none are left, the proctors are alerted" in (
        area.offscreen.label.text()
    )
    area.show_proctor("Please look at the screen.", warning=True)
    assert area.warning.label.text() == (
        "Warning from the proctor: Please look at the screen. Warnings left: 0 of 3. "
        "When none are left, the proctors are alerted; your exam goes on."
    )
    area.show_proctor("Is someone there?", warning=False)
    assert area.warning.label.text() == "Message from the proctor: Is someone there?"
    languages.set_language("zh")
    assert "网络连接已断开" in area.offline.label.text()
    assert "系统已自动记录" in area.offscreen.label.text()
    assert "监考老师提醒" not in area.offscreen.label.text()
    assert area.warning.label.text() == "监考老师的消息：Is someone there?"
    area.warning.close_button.click()
    assert area.warning.isHidden()
    area.clear_exam()
    assert area.offscreen.isHidden() and area.warning.isHidden() and area.screens.isHidden()
    area.set_online(True)
    assert area.offline.isHidden()


def watcher_on(qtbot: QtBot) -> tuple[QWidget, OffscreenWatcher, list[str]]:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    watcher = OffscreenWatcher(window)
    kinds: list[str] = []
    watcher.occurred.connect(lambda kind, _detail: kinds.append(kind))
    return window, watcher, kinds


def test_offscreen_watcher_reports_each_change_once_while_armed(qtbot: QtBot) -> None:
    window, watcher, kinds = watcher_on(qtbot)
    watcher.on_focus_window(None)  # not armed yet: nothing
    assert kinds == []
    watcher.arm()
    watcher.on_focus_window(None)
    watcher.on_focus_window(None)
    watcher.on_focus_window(window.windowHandle())
    watcher.on_application_state(Qt.ApplicationState.ApplicationInactive)
    watcher.on_application_state(Qt.ApplicationState.ApplicationHidden)
    watcher.on_application_state(Qt.ApplicationState.ApplicationActive)
    screen = QGuiApplication.primaryScreen()
    watcher.on_screen_added(screen)
    watcher.on_screen_removed(screen)
    assert kinds == [
        "focus_lost",
        "focus_back",
        "app_inactive",
        "app_active",
        "screen_added",
        "screen_removed",
    ]
    watcher.disarm()
    watcher.on_focus_window(None)
    assert len(kinds) == 6
    watcher.close()


def test_offscreen_watcher_sees_minimise_and_restore_events(qtbot: QtBot) -> None:
    window, watcher, kinds = watcher_on(qtbot)
    details: list[dict[str, object]] = []
    watcher.occurred.connect(lambda _kind, detail: details.append(detail))
    watcher.arm()
    window.setWindowState(Qt.WindowState.WindowMinimized)
    qtbot.waitUntil(lambda: kinds == ["window_minimized"])
    window.setWindowState(Qt.WindowState.WindowNoState)
    qtbot.waitUntil(lambda: kinds == ["window_minimized", "window_restored"])
    # A state change event posted by hand (what the platform sends) is seen as well.
    window.setWindowState(Qt.WindowState.WindowMinimized)
    qtbot.waitUntil(lambda: len(kinds) == 3)
    QGuiApplication.sendEvent(window, QEvent(QEvent.Type.WindowStateChange))
    assert len(kinds) == 3  # no change: no second report
    watcher.on_screen_added(QGuiApplication.primaryScreen())
    assert details[-1]["screens"] == len(QGuiApplication.screens())
    watcher.close()


def test_offscreen_focus_on_a_dialog_of_the_exam_window_is_not_leaving(qtbot: QtBot) -> None:
    window, watcher, kinds = watcher_on(qtbot)
    watcher.arm()
    box = QMessageBox(window)
    box.open()
    qtbot.waitExposed(box)
    handle = box.windowHandle()
    assert handle is not None
    watcher.on_focus_window(handle)
    assert kinds == []
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    watcher.on_focus_window(other.windowHandle())
    assert kinds == ["focus_lost"]
    watcher.close()
