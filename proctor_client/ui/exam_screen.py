"""The exam: questions in the paper's order, radio buttons for single choice, check boxes for
multiple choice, a navigation list marked unanswered / answered / saved, the countdown, and
submit with a confirmation. "Saved" is shown only when the state says the server acknowledged
the latest answer; this widget never decides it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from proctor_client.runtime.model import QuestionView
from proctor_client.ui.base import FAIL_COLOUR, PASS_COLOUR, WARN_COLOUR, Screen, body_label
from proctor_client.ui.timefmt import format_countdown

UNANSWERED, PENDING, SAVED = "unanswered", "pending", "saved"
LOW_TIME_S = 300  # the countdown turns red in the last five minutes


@dataclass(frozen=True)
class AnswerView:
    chosen: tuple[str, ...]  # option ids, in the order the candidate sees them
    saved: bool  # the server acknowledged exactly this choice


def question_mark(answer: AnswerView | None) -> str:
    """Unanswered (nothing chosen), pending (chosen, not yet acknowledged) or saved."""
    if answer is None or not answer.chosen:
        return UNANSWERED
    return SAVED if answer.saved else PENDING


class ExamScreen(Screen):
    answer_changed = Signal(str, list)  # question id, chosen option ids
    submit_confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._questions: list[QuestionView] = []
        self._answers: dict[str, AnswerView] = {}
        self._current = 0
        self._title_text = ""
        self._seconds_left: float | None = None
        self._confirm: QMessageBox | None = None
        self._buttons: list[QAbstractButton] = []
        self._group: QButtonGroup | None = None

        self._exam_title = QLabel()
        self._exam_title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self._countdown_caption = QLabel()
        self.countdown = QLabel("--:--")
        self.countdown.setObjectName("countdown")
        self.submit_button = QPushButton()
        self.submit_button.clicked.connect(self.ask_submit)
        top = QHBoxLayout()
        top.addWidget(self._exam_title, 1)
        top.addWidget(self._countdown_caption)
        top.addWidget(self.countdown)
        top.addSpacing(16)
        top.addWidget(self.submit_button)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setMinimumWidth(150)
        self.nav.currentRowChanged.connect(self._on_nav)
        self._progress = QLabel()
        nav_box = QWidget()
        nav_layout = QVBoxLayout(nav_box)
        nav_layout.setContentsMargins(0, 0, 0, 0)
        nav_layout.addWidget(self.nav, 1)
        nav_layout.addWidget(self._progress)

        self._number = QLabel()
        self._number.setStyleSheet("color: #555555;")
        self._kind = QLabel()
        self._kind.setStyleSheet("color: #555555;")
        self.question_text = body_label()
        self.question_text.setObjectName("question")
        self.question_text.setStyleSheet("font-size: 15px;")
        self._options_host = QWidget()
        self._options = QVBoxLayout(self._options_host)
        self._options.setContentsMargins(12, 8, 0, 8)
        self.saved_mark = QLabel()
        self.saved_mark.setObjectName("saved")
        self.prev_button = QPushButton()
        self.prev_button.clicked.connect(lambda: self.go_to(self._current - 1))
        self.next_button = QPushButton()
        self.next_button.clicked.connect(lambda: self.go_to(self._current + 1))
        step = QHBoxLayout()
        step.addWidget(self.saved_mark)
        step.addStretch(1)
        step.addWidget(self.prev_button)
        step.addWidget(self.next_button)
        page = QWidget()
        page_layout = QVBoxLayout(page)
        head = QHBoxLayout()
        head.addWidget(self._number)
        head.addStretch(1)
        head.addWidget(self._kind)
        page_layout.addLayout(head)
        page_layout.addWidget(self.question_text)
        page_layout.addWidget(self._options_host)
        page_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(scroll, 1)
        right_layout.addLayout(step)

        splitter = QSplitter()
        splitter.addWidget(nav_box)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([180, 620])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.retranslate()

    # ------------------------------------------------------------ data in

    def set_paper(self, title: str, questions: Sequence[QuestionView]) -> None:
        """The paper in the candidate's own order; resets the view to the first question."""
        self._title_text = title
        self._questions = list(questions)
        self._current = 0
        self._exam_title.setText(title)
        self._rebuild_nav()
        self._show_question()

    def set_answers(self, answers: Mapping[str, AnswerView]) -> None:
        """The latest answers and what the server acknowledged; updates marks in place."""
        self._answers = dict(answers)
        self._refresh_marks()
        self._sync_buttons()
        self._refresh_saved_mark()

    def set_seconds_left(self, seconds: float | None) -> None:
        self._seconds_left = seconds
        self.countdown.setText(format_countdown(seconds))
        low = seconds is not None and seconds <= LOW_TIME_S
        self.countdown.setStyleSheet(
            f"font-size: 20px; font-weight: bold; color: {FAIL_COLOUR if low else '#1565c0'};"
        )

    @property
    def current_index(self) -> int:
        return self._current

    def option_buttons(self) -> list[QAbstractButton]:
        return list(self._buttons)

    def marks(self) -> list[str]:
        return [question_mark(self._answers.get(q.id)) for q in self._questions]

    # ------------------------------------------------------------ navigation

    def go_to(self, index: int) -> None:
        if not 0 <= index < len(self._questions):
            return
        self._current = index
        self.nav.blockSignals(True)
        self.nav.setCurrentRow(index)
        self.nav.blockSignals(False)
        self._show_question()

    def _on_nav(self, row: int) -> None:
        if row >= 0 and row != self._current:
            self.go_to(row)

    def _rebuild_nav(self) -> None:
        self.nav.blockSignals(True)
        self.nav.clear()
        for _ in self._questions:
            self.nav.addItem(QListWidgetItem())
        self.nav.setCurrentRow(self._current if self._questions else -1)
        self.nav.blockSignals(False)
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        symbols = {UNANSWERED: "○", PENDING: "◐", SAVED: "✔"}
        colours = {UNANSWERED: "#777777", PENDING: WARN_COLOUR, SAVED: PASS_COLOUR}
        names = self._mark_names()
        answered = 0
        for i, q in enumerate(self._questions):
            item = self.nav.item(i)
            if item is None:
                continue
            mark = question_mark(self._answers.get(q.id))
            if mark != UNANSWERED:
                answered += 1
            item.setText(f"{symbols[mark]}  " + self.tr("Question {n}").format(n=i + 1))
            item.setForeground(QColor(colours[mark]))
            item.setToolTip(names[mark])
        self._progress.setText(
            self.tr("Answered {done} of {total}").format(done=answered, total=len(self._questions))
        )

    def _mark_names(self) -> dict[str, str]:
        return {
            UNANSWERED: self.tr("Not answered"),
            PENDING: self.tr("Saving…"),
            SAVED: self.tr("Saved"),
        }

    # ------------------------------------------------------------ the question

    def _show_question(self) -> None:
        for old in self._buttons:
            old.hide()
            self._options.removeWidget(old)
            old.deleteLater()
        self._buttons = []
        if self._group is not None:
            self._group.deleteLater()
            self._group = None
        if not self._questions:
            self.question_text.setText("")
            self._render_texts()
            return
        q = self._questions[self._current]
        self.question_text.setText(q.text)
        group = QButtonGroup(self)
        group.setExclusive(not q.multiple)
        for i, option in enumerate(q.options):
            letter = chr(ord("A") + i) if i < 26 else str(i + 1)
            button: QAbstractButton = (
                QCheckBox(f"{letter}. {option.text}")
                if q.multiple
                else QRadioButton(f"{letter}. {option.text}")
            )
            button.setProperty("option_id", option.id)
            group.addButton(button, i)
            self._options.addWidget(button)
            self._buttons.append(button)
        group.buttonToggled.connect(self._on_toggled)
        self._group = group
        self._sync_buttons()
        self._render_texts()

    def _sync_buttons(self) -> None:
        """Show the chosen options from the state without emitting answers back."""
        if not self._questions or self._group is None:
            return
        q = self._questions[self._current]
        answer = self._answers.get(q.id)
        chosen = set(answer.chosen) if answer else set()
        self._group.blockSignals(True)
        if not q.multiple:
            self._group.setExclusive(False)  # lets every radio button be cleared
        for button in self._buttons:
            button.setChecked(button.property("option_id") in chosen)
        if not q.multiple:
            self._group.setExclusive(True)
        self._group.blockSignals(False)

    def _on_toggled(self, button: QAbstractButton, checked: bool) -> None:
        q = self._questions[self._current]
        if not q.multiple and not checked:
            return  # the other radio button's toggle carries the new choice
        chosen = [str(b.property("option_id")) for b in self._buttons if b.isChecked()]
        # Keep the local view in step at once; the state's next snapshot confirms it.
        self._answers[q.id] = AnswerView(chosen=tuple(chosen), saved=False)
        self._refresh_marks()
        self._refresh_saved_mark()
        self.answer_changed.emit(q.id, chosen)

    def _refresh_saved_mark(self) -> None:
        if not self._questions:
            self.saved_mark.setText("")
            return
        q = self._questions[self._current]
        mark = question_mark(self._answers.get(q.id))
        colours = {UNANSWERED: "#777777", PENDING: WARN_COLOUR, SAVED: PASS_COLOUR}
        symbols = {UNANSWERED: "○", PENDING: "◐", SAVED: "✔"}
        self.saved_mark.setText(f"{symbols[mark]} {self._mark_names()[mark]}")
        self.saved_mark.setStyleSheet(f"color: {colours[mark]}; font-weight: bold;")

    # ------------------------------------------------------------ submit

    def unanswered_count(self) -> int:
        return sum(1 for m in self.marks() if m == UNANSWERED)

    def ask_submit(self) -> QMessageBox:
        """Open the confirmation (window-modal, not blocking the event loop)."""
        box = QMessageBox(self)
        box.setObjectName("confirm-submit")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Submit the exam"))
        missing = self.unanswered_count()
        text = self.tr("Submit your answers now? You cannot change them afterwards.")
        if missing:
            text += "\n\n" + self.tr("{n} question(s) are not answered yet.").format(n=missing)
        box.setText(text)
        yes = box.addButton(self.tr("Submit"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Keep answering"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(QMessageBox.StandardButton.NoButton)

        def done() -> None:
            if box.clickedButton() is yes:
                self.submit_confirmed.emit()
            self._confirm = None

        box.finished.connect(done)
        self._confirm = box
        box.open()
        return box

    # ------------------------------------------------------------ texts

    def retranslate(self) -> None:
        self._countdown_caption.setText(self.tr("Time left:"))
        self.submit_button.setText(self.tr("Submit"))
        self.prev_button.setText(self.tr("Previous"))
        self.next_button.setText(self.tr("Next"))
        self._refresh_marks()
        self._render_texts()

    def _render_texts(self) -> None:
        total = len(self._questions)
        if not total:
            self._number.setText("")
            self._kind.setText("")
            self.saved_mark.setText("")
            return
        q = self._questions[self._current]
        self._number.setText(
            self.tr("Question {n} of {total}").format(n=self._current + 1, total=total)
        )
        self._kind.setText(
            self.tr("Multiple choice: pick every correct option")
            if q.multiple
            else self.tr("Single choice")
        )
        self.prev_button.setEnabled(self._current > 0)
        self.next_button.setEnabled(self._current < total - 1)
        self._refresh_saved_mark()
