"""The real app's window under a real X server, for `test_ui_focus.py`: it enters an exam on
the server given, then another program's window takes the focus (a separate X client), and
the candidate comes back. It writes what the candidate saw as JSON.

Run: xvfb-run -a python -m tests.client.ui.focus_driver SERVER TICKET OUT.json LANG
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox

from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.runtime.model import ClientState, Mode, Phase
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.ui.address import MailAddress
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.main_window import MainWindow

# Another program: its own X client, whose window takes the focus for a few seconds.
OTHER_APP = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("another program")
label.resize(300, 200)
label.show()
QTimer.singleShot(300, lambda: (label.raise_(), label.activateWindow()))
QTimer.singleShot(2500, app.quit)
app.exec()
"""
STEP_S = 30.0


async def until(runtime: ExamRuntime, predicate: Callable[[ClientState], bool]) -> ClientState:
    async with asyncio.timeout(STEP_S):
        return await runtime.wait_for(predicate)


async def come_back(window: MainWindow, runtime: ExamRuntime) -> ClientState:
    """The candidate comes back to the exam window. Without a window manager a click does not
    move the focus, so the window asks for it, as a window manager would on that click; X
    accepts the request only with a fresh server time, which a property change brings."""
    title = window.windowTitle()
    window.setWindowTitle(title + " ")
    window.setWindowTitle(title)
    await asyncio.sleep(0.2)  # the property notifications carry the server's time
    window.raise_()
    window.activateWindow()
    return await until(runtime, lambda s: s.away is None)


async def drive(window: MainWindow, server: str, ticket: str) -> dict[str, Any]:
    window.show()
    window.activateWindow()
    window.enter(server, ticket, Mode.EXAM)
    window.rules.agree.setChecked(True)
    window.rules.accept_button.click()
    runtime = window.bridge.runtime
    assert isinstance(runtime, ExamRuntime)
    await until(runtime, lambda s: s.phase is Phase.IDENTITY)
    window.photo.set_frame(SyntheticCamera(realtime=False).read())
    window.photo.capture()
    window.photo.send_button.click()
    await until(runtime, lambda s: s.phase is Phase.PROFILE)
    window.address.set_values(
        MailAddress("张三丰", "13800138000", "北京市海淀区中关村大街1号", "100080")
    )
    window.address.submit_button.click()
    await until(runtime, lambda s: s.phase is Phase.EXAM and s.pending == 0)
    window.activateWindow()
    for _ in range(100):  # the exam window has the focus before the other program comes
        if QApplication.focusWindow() is window.windowHandle():
            break
        await asyncio.sleep(0.05)
    before = len(window.watcher.emitted)

    other = await asyncio.create_subprocess_exec(sys.executable, "-c", OTHER_APP)
    try:
        away = await until(runtime, lambda s: s.away is not None)
        async with asyncio.timeout(STEP_S):
            await other.wait()  # the other program had the focus a moment, then went
    finally:
        if other.returncode is None:
            other.kill()
            await other.wait()
    seen_away = {
        "banner": window.banners.offscreen.label.text(),
        "banner_visible": window.banners.offscreen.isVisible(),
        "notices_while_away": len(window.findChildren(QMessageBox)),
    }
    back = await come_back(window, runtime)
    state = await until(runtime, lambda s: len(s.warnings) >= 1 and s.pending == 0)
    await asyncio.sleep(1.0)  # anything else the system sends about this leave arrives now
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    notice = window.notice
    out: dict[str, Any] = {
        **seen_away,
        "signals": [str(k) for k in window.watcher.emitted[before:]],
        "away_kind": str(away.away),
        "away_signals_on_return": [str(k) for k in back.away_signals],
        "warnings_used": runtime.state.warnings_used,
        "warnings_left": runtime.state.warnings_left,
        "warnings": [w.source for w in state.warnings],
        "visible_dialogs": len(boxes),
        "modal": any(b.isModal() for b in boxes),
        "notice_title": notice.windowTitle() if notice else "",
        "notice_text": notice.text() if notice else "",
        "notice_button": notice.buttons()[0].text() if notice else "",
        "banner_after": window.banners.offscreen.label.text(),
        "proctor_banner_visible": window.banners.warning.isVisible(),
        "attempt": state.session,
    }
    if notice is not None:
        notice.accept()
    window.exam.ask_submit().buttons()[0].click()
    await until(runtime, lambda s: s.phase is Phase.RESULT)
    out["result_banners_visible"] = [
        b.isVisible() for b in (window.banners.offscreen, window.banners.warning)
    ]
    return out


def main() -> int:
    import qasync

    server, ticket, out_path, lang = sys.argv[1:5]
    app = QApplication(sys.argv[:1])
    languages = LanguageManager(app)
    languages.set_language(lang)
    camera = CameraReader(SyntheticCamera())
    home = Path(out_path).parent

    def factory(url: str, token: str, mode: Mode) -> ExamRuntime:
        return ExamRuntime(url, token, mode=mode, outbox_path=home / "outbox.sqlite3")

    window = MainWindow(runtime_factory=factory, camera=camera, languages=languages)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def run() -> None:
        try:
            result = await drive(window, server, ticket)
            Path(out_path).write_text(json.dumps(result, ensure_ascii=False))
        finally:
            await window.aclose()
            await camera.aclose()

    with loop:
        loop.run_until_complete(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
