"""The candidate's window: one stack of screens driven by the runtime's state, a language menu,
the banners, the watermark over the exam and the off-screen watcher.

It routes: it picks the screen for the state's phase, hands each screen plain data, and
forwards what the candidate did to the runtime. Every rule lives in the runtime and its core.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from proctor_client.check.model import ORDER, CheckReport, Progress
from proctor_client.check.model import Phase as CheckPhase
from proctor_client.devices.base import DeviceError
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.runtime.device_watch import DeviceWatch, SignalSource
from proctor_client.runtime.model import (
    LEAVING_EVENTS,
    ClientState,
    ErrorView,
    EventKind,
    ExamRuntimeAPI,
    FinishReason,
    MessageSource,
    Mode,
    Phase,
    WarningView,
)
from proctor_client.ui import texts
from proctor_client.ui.address import MailAddress
from proctor_client.ui.address_screen import AddressScreen
from proctor_client.ui.banners import BannerArea
from proctor_client.ui.base import ScreenName
from proctor_client.ui.bridge import RuntimeBridge
from proctor_client.ui.camera_view import SelfView
from proctor_client.ui.capture_guard import exclude_from_capture
from proctor_client.ui.check_screen import CheckRow, CheckScreen, pending_row, row_from_result
from proctor_client.ui.entry_screen import EntryScreen
from proctor_client.ui.exam_screen import AnswerView, ExamScreen
from proctor_client.ui.i18n import LANGUAGES, LanguageManager
from proctor_client.ui.message_screen import BusyScreen, MessageScreen
from proctor_client.ui.offscreen import OffscreenWatcher
from proctor_client.ui.photo_screen import PhotoScreen
from proctor_client.ui.result_screen import ResultScreen, ResultView
from proctor_client.ui.rules_screen import RulesScreen
from proctor_client.ui.tasks import OwnedTasks
from proctor_client.ui.timefmt import local_time
from proctor_client.ui.trial_screen import TrialScreen
from proctor_client.ui.waiting_screen import WaitingScreen, WaitingView
from proctor_client.ui.watermark import WatermarkOverlay
from shared.errors import ProctorError

log = logging.getLogger(__name__)

RuntimeFactory = Callable[[str, str, Mode], ExamRuntimeAPI]  # server URL, ticket, mode
ProgressCallback = Callable[[Progress], None]
CheckRunner = Callable[[str, ProgressCallback], Awaitable[CheckReport]]  # server URL
PREVIEW_INTERVAL_S = 0.1  # ~10 frames a second in the preview
SELF_VIEW_INTERVAL_S = 0.5  # 2 frames a second in the small self-view (waiting room, exam)
SELF_VIEW_SCREENS = frozenset({ScreenName.WAITING, ScreenName.EXAM})
TICK_MS = 250  # countdown refresh


class MainWindow(QMainWindow):
    screen_shown = Signal(str)  # the name of the screen now on top
    closed = Signal()  # the candidate closed the window
    check_finished = Signal(object)  # the CheckReport, or None when the check could not run

    def __init__(
        self,
        *,
        runtime_factory: RuntimeFactory | None = None,
        check_runner: CheckRunner | None = None,
        camera: CameraReader | None = None,
        camera_problem: str = "",
        languages: LanguageManager | None = None,
        clock: Callable[[], float] = time.monotonic,
        device_signals: SignalSource | None = None,
    ) -> None:
        super().__init__()
        self._factory = runtime_factory
        self._check_runner = check_runner
        self._camera = camera
        self._camera_problem = camera_problem
        self._clock = clock
        self._device_signals = device_signals
        # The latest device figures read (the next hello carries them) and the watch that
        # reports their changes during an attempt.
        self.device_figures: dict[str, Any] = {}
        self.capture_exclusion = ""  # what the system said to "keep out of captures"
        self._watch: asyncio.Task[None] | None = None
        self.tasks = OwnedTasks()
        self.languages = languages or LanguageManager(self)
        self.bridge = RuntimeBridge(self)
        self.bridge.state_changed.connect(self.show_state)
        self.bridge.warning_received.connect(self._on_warning)
        self._mode = Mode.EXAM
        self._trial_runs = 0
        self._preview: asyncio.Task[Any] | None = None
        self._preview_target: ScreenName | None = None  # PHOTO, or the self-view's screens
        self._rules_version: str | None = None  # accepted in this run of the app
        self._pending_entry: tuple[str, str, Mode] | None = None
        self._away: EventKind | None = None  # the state's open leave of the exam screen
        self._notice: QMessageBox | None = None  # the one notice on screen, never stacked
        self._notice_ok: QPushButton | None = None
        self._paper_key: tuple[str, ...] = ()
        self._error: ErrorView | None = None
        self.current_screen: ScreenName | None = None

        self.entry = EntryScreen()
        self.check = CheckScreen()
        self.trial = TrialScreen()
        self.rules = RulesScreen()
        self.busy = BusyScreen()
        self.message = MessageScreen()
        self.photo = PhotoScreen()
        self.address = AddressScreen()
        self.waiting = WaitingScreen()
        self.exam = ExamScreen()
        self.result = ResultScreen()
        self.stack = QStackedWidget()
        self._screens: dict[ScreenName, QWidget] = {
            ScreenName.ENTRY: self.entry,
            ScreenName.CHECK: self.check,
            ScreenName.TRIAL: self.trial,
            ScreenName.RULES: self.rules,
            ScreenName.BUSY: self.busy,
            ScreenName.MESSAGE: self.message,
            ScreenName.PHOTO: self.photo,
            ScreenName.ADDRESS: self.address,
            ScreenName.WAITING: self.waiting,
            ScreenName.EXAM: self.exam,
            ScreenName.RESULT: self.result,
        }
        for screen in self._screens.values():
            self.stack.addWidget(screen)
        self.banners = BannerArea()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banners)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.watermark = WatermarkOverlay(self)
        self.watermark.hide()
        self.self_view = SelfView(self)
        self.self_view.hide()
        self.watcher = OffscreenWatcher(self, self)
        self.watcher.occurred.connect(self.on_offscreen)
        self._build_menu()
        self._connect_screens()
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._refresh_countdowns)
        self._tick.start()
        self.resize(960, 680)
        self.retranslate()
        self.show_screen(ScreenName.ENTRY)

    # ------------------------------------------------------------ menu and language

    def _build_menu(self) -> None:
        # The menu's title is in both languages so either reader finds it.
        self._language_menu = self.menuBar().addMenu("语言 / Language")
        group = QActionGroup(self)
        self._language_actions: dict[str, QAction] = {}
        for code, label in LANGUAGES.items():
            action = QAction(label, self)
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, c=code: self.languages.set_language(c))
            group.addAction(action)
            self._language_menu.addAction(action)
            self._language_actions[code] = action
        self.languages.language_changed.connect(self._mark_language)
        self._mark_language(self.languages.language)

    def _mark_language(self, code: str) -> None:
        action = self._language_actions.get(code)
        if action is not None:
            action.setChecked(True)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Online exam"))
        if self._notice_ok is not None:
            self._notice_ok.setText(self.tr("OK"))
        if self._notice is not None:  # the notice on screen speaks the new language too
            title, text = self._notice_texts(str(self._notice.property("kind")))
            self._notice.setWindowTitle(title)
            self._notice.setText(text)
            self._notice.adjustSize()

    # ------------------------------------------------------------ screens

    def _connect_screens(self) -> None:
        self.entry.check_requested.connect(self.start_check)
        self.entry.trial_requested.connect(self._on_trial_requested)
        self.entry.enter_requested.connect(lambda s, t: self.enter(s, t, Mode.EXAM))
        self.check.rerun_requested.connect(self.start_check)
        self.check.continue_requested.connect(lambda: self.show_screen(ScreenName.ENTRY))
        self.trial.start_requested.connect(
            lambda: self.enter(self._server, self._ticket, Mode.TRIAL)
        )
        self.rules.accepted.connect(self._rules_accepted)
        self.rules.back_requested.connect(self.back_to_start)
        self.trial.back_requested.connect(lambda: self.show_screen(ScreenName.ENTRY))
        self.busy.cancel_requested.connect(self.back_to_start)
        self.message.retry_requested.connect(
            lambda: self.start_session(self._server, self._ticket, self._mode)
        )
        self.message.back_requested.connect(self.back_to_start)
        self.photo.photo_confirmed.connect(self._send_photo)
        self.address.submitted.connect(self._send_profile)
        self.exam.answer_changed.connect(self._answer)
        self.exam.submit_confirmed.connect(self._submit)
        self.result.again_requested.connect(
            lambda: self.start_session(self._server, self._ticket, Mode.TRIAL)
        )
        self.result.close_requested.connect(self.back_to_start)

    _server = ""
    _ticket = ""

    def set_entry(self, server: str, ticket: str) -> None:
        self._server, self._ticket = server, ticket
        self.entry.set_values(server, ticket)

    def show_screen(self, name: ScreenName) -> None:
        screen = self._screens[name]
        self.stack.setCurrentWidget(screen)
        in_exam = name == ScreenName.EXAM
        self.watermark.setVisible(in_exam)
        if not in_exam:
            self.banners.clear_exam()
        if in_exam:
            self.watermark.raise_()
            if not self.watcher.armed:
                self.watcher.arm()
        elif self.watcher.armed:
            self.watcher.disarm()
        if name == ScreenName.PHOTO or name in SELF_VIEW_SCREENS:
            self._start_preview(name)
        else:
            self._stop_preview()
        self.self_view.setVisible(name in SELF_VIEW_SCREENS and self._camera is not None)
        if self.self_view.isVisible():
            self._place_self_view()
            self.self_view.raise_()
        if name != self.current_screen:
            self.current_screen = name
            self.screen_shown.emit(name)

    # ------------------------------------------------------------ the environment check

    def start_check(self) -> None:
        self.show_screen(ScreenName.CHECK)
        runner = self._check_runner
        if runner is None:
            self.check.set_rows([], running=False)
            return
        rows: dict[str, CheckRow] = {}

        def progress(step: Progress) -> None:
            key = str(step.check)
            if step.phase == CheckPhase.FINISHED and step.result is not None:
                rows[key] = row_from_result(step.result)
            else:
                rows[key] = pending_row(key, running=True)
            ordered = [rows.get(str(c), pending_row(str(c))) for c in ORDER]
            self.check.set_rows(ordered, running=step.done < step.total)

        async def run() -> None:
            self.check.set_rows([], running=True)
            try:
                report = await runner(self.entry.server.text().strip(), progress)
            except ProctorError as exc:
                self.check.set_rows(list(rows.values()), running=False)
                self.statusBar().showMessage(exc.message, 15000)
                self.check_finished.emit(None)
                return
            self.check.set_rows([row_from_result(r) for r in report.checks], running=False)
            self.check_finished.emit(report)

        self.tasks.spawn(run(), name="environment-check")

    # ------------------------------------------------------------ sessions

    def _on_trial_requested(self, server: str, ticket: str) -> None:
        self._server, self._ticket = server, ticket
        self.trial.set_runs(self._trial_runs)
        self.show_screen(ScreenName.TRIAL)

    def enter(self, server: str, ticket: str, mode: Mode) -> None:
        """Enter the exam or the trial: the rules of conduct first, once per run (R16)."""
        if self._rules_version is None:
            self._server, self._ticket = server, ticket
            self._pending_entry = (server, ticket, mode)
            self.rules.reset()
            self.show_screen(ScreenName.RULES)
            return
        self.start_session(server, ticket, mode)

    def _rules_accepted(self, version: str) -> None:
        self._rules_version = version
        entry, self._pending_entry = self._pending_entry, None
        if entry is not None:
            self.start_session(*entry)

    def start_session(self, server: str, ticket: str, mode: Mode) -> None:
        """Open a runtime for this ticket (the previous one is closed first)."""
        if self._factory is None:
            self.message.show_error("unreachable", self.tr("This build has no exam runtime."))
            self.show_screen(ScreenName.MESSAGE)
            return
        self._server, self._ticket, self._mode = server, ticket, mode
        self._close_runtime()
        self._paper_key = ()
        self._away = None
        self.photo.reset()
        self.busy.show_busy("connecting")
        self.show_screen(ScreenName.BUSY)
        try:
            runtime = self._factory(server, ticket, mode)
        except ProctorError as exc:
            self.message.show_error("unreachable", exc.message)
            self.show_screen(ScreenName.MESSAGE)
            return
        self.bridge.attach(runtime)
        if self._rules_version is not None:
            self._call(lambda r: r.accept_rules(self._rules_version or ""))
        runtime.start()
        self._watch_devices(runtime)

    def attach_runtime(self, runtime: ExamRuntimeAPI) -> None:
        """Follow a runtime made elsewhere (tests, screenshots)."""
        self._mode = runtime.state.mode
        self._away = None
        self.bridge.attach(runtime)

    def back_to_start(self) -> None:
        self._close_runtime()
        self.banners.set_online(True)
        self.show_screen(ScreenName.ENTRY)

    async def read_device_figures(self) -> dict[str, Any]:
        """Read the device figures now (remembered for the next hello); {} without a reader."""
        if self._device_signals is None:
            return {}
        figures = await self._device_signals()
        self.device_figures = figures
        return figures

    def _watch_devices(self, runtime: ExamRuntimeAPI) -> None:
        """Report changes of the device figures while this runtime's attempt is open."""
        if self._device_signals is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a widget test)
        watch = DeviceWatch(runtime, self.read_device_figures, sent=self.device_figures)
        self._watch = self.tasks.spawn(watch.run(), name="device-watch")

    def _close_runtime(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        runtime = self.bridge.runtime
        self.bridge.detach()
        if runtime is not None:
            self.tasks.spawn(runtime.close(), name="runtime-close")

    def _call(self, action: Callable[[ExamRuntimeAPI], object]) -> None:
        runtime = self.bridge.runtime
        if runtime is None:
            return
        try:
            action(runtime)
        except ProctorError as exc:
            self.statusBar().showMessage(exc.message, 8000)

    def _send_photo(self, jpeg: bytes) -> None:
        self._call(lambda r: r.send_identity_photo(jpeg))

    def _send_profile(self, value: MailAddress) -> None:
        self.address.set_busy(True)
        self._call(lambda r: r.send_profile(value.name, value.phone, value.address, value.postcode))

    def _answer(self, question_id: str, option_ids: list[str]) -> None:
        self._call(lambda r: r.answer(question_id, list(option_ids)))

    def _submit(self) -> None:
        self._call(lambda r: r.submit())

    # ------------------------------------------------------------ state -> screens

    def show_state(self, state: ClientState) -> None:
        phase = state.phase
        if state.error is not None and not state.error.fatal and state.error is not self._error:
            # A refusal the runtime survives (an answer after the deadline, say): say it.
            self.statusBar().showMessage(
                texts.error_message(state.error.code, state.error.message), 15000
            )
        self._error = state.error
        self.banners.set_count(state.warnings_used, state.warning_limit, state.warning_limit_action)
        self.banners.set_online(not state.offline or phase in (Phase.OFFLINE, Phase.ERROR))
        if phase in (Phase.CONNECTING,):
            self.busy.show_busy("connecting")
            self.show_screen(ScreenName.BUSY)
        elif phase == Phase.OFFLINE:
            detail = state.error.message if state.error else ""
            self.message.show_error("unreachable", detail)
            self.show_screen(ScreenName.MESSAGE)
        elif phase == Phase.IDENTITY:
            if state.identity_pending is not None:
                self.photo.set_sending()
            elif state.identity_reasons:
                if self.photo.phase == "sending":
                    self.photo.set_refused(state.identity_reasons, state.identity_codes)
            self.show_screen(ScreenName.PHOTO)
        elif phase == Phase.PROFILE:
            self.address.set_busy(False)
            self.show_screen(ScreenName.ADDRESS)
        elif phase == Phase.WAITING_ROOM:
            self.waiting.set_view(self._waiting_view(state))
            self.show_screen(ScreenName.WAITING)
        elif phase == Phase.EXAM:
            self._show_exam(state)
            self.show_screen(ScreenName.EXAM)
            self._follow_leave(state.away)
        elif phase == Phase.SUBMITTED:
            self.busy.show_busy(FinishReason.TIME_UP if state.time_up else FinishReason.SUBMITTED)
            self.show_screen(ScreenName.BUSY)
        elif phase == Phase.TERMINATED:
            self.message.show_error(FinishReason.TERMINATED, state.terminated_reason or "")
            self.show_screen(ScreenName.MESSAGE)
        elif phase == Phase.RESULT and state.result is not None:
            r = state.result
            trial = state.mode == Mode.TRIAL or not r.counts
            if trial and self.current_screen != ScreenName.RESULT:
                self._trial_runs += 1
                self.trial.set_runs(self._trial_runs)
            self.result.set_view(
                ResultView(r.score, r.max_score, r.passed, reason=r.reason, trial=trial)
            )
            self.show_screen(ScreenName.RESULT)
        elif phase == Phase.ERROR and state.error is not None:
            self.message.show_error(state.error.code, state.error.message)
            self.show_screen(ScreenName.MESSAGE)
        elif phase == Phase.CLOSED:
            self.show_screen(ScreenName.ENTRY)

    def _waiting_view(self, state: ClientState) -> WaitingView:
        exam = state.exam
        return WaitingView(
            exam_title=exam.title if exam else "",
            starts_at_local=local_time(exam.starts_at) if exam else "",
            seconds_to_start=state.seconds_to_start(self._clock()),
            identity_accepted=state.identity_accepted,
            profile_saved=state.profile_saved or state.mode == Mode.TRIAL,
        )

    def _show_exam(self, state: ClientState) -> None:
        key = tuple(q.id for q in state.questions)
        if key != self._paper_key:
            self._paper_key = key
            title = state.exam.title if state.exam else ""
            if state.mode == Mode.TRIAL:
                title = self.tr("Trial exam — nothing counts") + (f" · {title}" if title else "")
            self.exam.set_paper(title, state.questions)
        self.exam.set_answers(
            {q.id: AnswerView(chosen=q.chosen, saved=q.saved) for q in state.questions}
        )
        self.exam.set_seconds_left(state.seconds_left(self._clock()))
        self.watermark.set_watermark(state.watermark_text, state.watermark_nonce)

    def _refresh_countdowns(self) -> None:
        state = self.bridge.last_state
        if state is None:
            return
        now = self._clock()
        if self.current_screen == ScreenName.EXAM:
            self.exam.set_seconds_left(state.seconds_left(now))
        elif self.current_screen == ScreenName.WAITING:
            self.waiting.set_seconds_to_start(state.seconds_to_start(now))

    # ------------------------------------------------------------ warnings (R16)

    def on_offscreen(self, name: str, detail: dict[str, Any]) -> None:
        """The watcher saw a change: report it. The flow decides what one leave of the exam
        screen is (`state.away`); `_follow_leave` shows its banner and its one notice."""
        kind = EventKind(name)
        runtime = self.bridge.runtime
        if runtime is not None:
            try:
                runtime.report_event(kind, detail)
            except ProctorError as exc:
                log.warning("could not report %s: %s", kind, exc)
        if kind is EventKind.SCREEN_ADDED:
            self.banners.show_screen_added()
            self._notify("screen")
        elif kind is EventKind.SCREEN_REMOVED:
            self.banners.hide_screen_added()

    def _follow_leave(self, away: EventKind | None) -> None:
        """A leave opened: the banner says it was recorded. It closed: one notice."""
        before, self._away = self._away, away
        if before is None and away is not None:
            self.banners.show_offscreen()
        elif before is not None and away is None:
            self.banners.show_offscreen()
            self._notify("offscreen")
        elif self._notice is not None and self._notice.property("kind") == "offscreen":
            self._notice.setText(self.banners.offscreen_text())  # the server's count arrived

    def _on_warning(self, warning: WarningView) -> None:
        if warning.source == MessageSource.PROCTOR:
            self.banners.show_proctor(warning.text, warning=not warning.notice)
            self._notify("proctor-message" if warning.notice else "proctor-warning")
        elif warning.kind is EventKind.SCREEN_ADDED:
            self.banners.show_screen_added()
        elif warning.kind is None or warning.kind not in LEAVING_EVENTS:
            # Recorded automatically for an event this app did not report itself (before a
            # restart, say): the count is the server's, the words are the app's.
            self.banners.show_offscreen()
        # A warning for a leave the app reported: its banner and notice are up already.

    def _notice_texts(self, kind: str) -> tuple[str, str]:
        """The title and text of a notice, in the current language."""
        if kind == "screen":
            return self.tr("A screen was connected"), self.banners.screen_added_text()
        if kind == "proctor-message":
            return self.tr("Message from the proctor"), self.banners.proctor_text()
        if kind == "proctor-warning":
            return self.tr("Warning from the proctor"), self.banners.proctor_text()
        return self.tr("You left the exam screen"), self.banners.offscreen_text()

    def _notify(self, kind: str) -> QMessageBox:
        """Show the one non-modal notice; a newer one replaces the text of the one shown."""
        box = self._notice
        if box is None:
            box = QMessageBox(self)
            box.setObjectName("notice-dialog")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowModality(Qt.WindowModality.NonModal)
            self._notice_ok = box.addButton(self.tr("OK"), QMessageBox.ButtonRole.AcceptRole)
            box.finished.connect(self._notice_closed)
            self._notice = box
        box.setProperty("kind", kind)
        title, text = self._notice_texts(kind)
        box.setWindowTitle(title)
        box.setText(text)
        box.adjustSize()
        box.show()
        box.raise_()
        return box

    def _notice_closed(self) -> None:
        box, self._notice, self._notice_ok = self._notice, None, None
        if box is not None:
            box.deleteLater()

    @property
    def notice(self) -> QMessageBox | None:
        """The notice on screen, if any."""
        return self._notice

    # ------------------------------------------------------------ camera preview

    def _start_preview(self, target: ScreenName) -> None:
        """The identity screen's preview (~10 a second) or the small self-view (2 a second),
        from one subscription to the camera's reader."""
        if self._camera is None:
            if target == ScreenName.PHOTO:
                self.photo.set_camera_problem(
                    self.tr("The camera cannot be used: {error}").format(error=self._camera_problem)
                    if self._camera_problem
                    else self.tr("No camera was given to the app.")
                )
            return
        kind = ScreenName.PHOTO if target == ScreenName.PHOTO else ScreenName.EXAM
        if self._preview is not None and not self._preview.done():
            if self._preview_target == kind:
                return
            self._stop_preview()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a widget test); frames are fed by hand
        self._preview_target = kind
        self._preview = self.tasks.spawn(self._preview_loop(self._camera, kind), name="preview")

    def _stop_preview(self) -> None:
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None
        self._preview_target = None

    async def _preview_loop(self, camera: CameraReader, kind: ScreenName) -> None:
        """Show the camera's latest frame every interval through a subscription to its reader
        (the snapshots share it); closed when the task ends."""
        photo = kind == ScreenName.PHOTO
        interval = PREVIEW_INTERVAL_S if photo else SELF_VIEW_INTERVAL_S
        try:
            with camera.subscribe() as frames:
                while True:
                    frame = await frames.recv()
                    if photo:
                        self.photo.set_frame(frame)
                    else:
                        self.self_view.set_frame(frame)
                    await asyncio.sleep(interval)  # pace the painting, not a sync
        except DeviceError as exc:
            if photo:
                self.photo.set_camera_problem(
                    self.tr("The camera stopped: {error}").format(error=exc.message)
                )
            else:
                self.self_view.clear_frame()
                self.self_view.setText(self.tr("Camera stopped"))

    def _place_self_view(self) -> None:
        margin = 12
        size = self.self_view.size()
        bottom = self.height() - (self.statusBar().height() if self.statusBar().isVisible() else 0)
        self.self_view.move(
            self.width() - size.width() - margin, bottom - size.height() - margin - 48
        )

    # ------------------------------------------------------------ lifecycle

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.capture_exclusion:
            self.capture_exclusion = exclude_from_capture(self)
            log.info("keep the window out of screen captures: %s", self.capture_exclusion)
        self.watermark.setGeometry(self.rect())
        self._place_self_view()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_self_view()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop watching; whoever owns the window awaits `aclose()` next (see app.py)."""
        self._stop_preview()
        self.watcher.close()
        super().closeEvent(event)
        self.closed.emit()

    async def aclose(self) -> None:
        """Close the runtime and end every task the window started."""
        self._stop_preview()
        if self._watch is not None:
            self._watch.cancel()
        runtime = self.bridge.runtime
        self.bridge.detach()
        if runtime is not None:
            await runtime.close()
        await self.tasks.aclose()
