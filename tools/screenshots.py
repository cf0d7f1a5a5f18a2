"""Render every screen of the candidate's app, in Chinese and in English, into PNG files.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots] [--size 960x680]

Runs offscreen (no display needed). The window is fed plain state snapshots, exactly what the
runtime would publish, so the pictures show the real widgets with realistic data. Chinese
text needs a CJK font on the system (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from proctor_client.check.model import CheckId, CheckResult, Status
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.runtime.model import (
    ClientState,
    ErrorView,
    EventKind,
    ExamInfoView,
    MessageSource,
    OptionView,
    QuestionView,
    ResultView,
    WarningView,
)
from proctor_client.ui.base import ScreenName
from proctor_client.ui.check_screen import pending_row, row_from_result
from proctor_client.ui.i18n import LanguageManager
from proctor_client.ui.main_window import MainWindow

NOW = 1000.0  # the fake monotonic clock the window reads
MAX_BYTES = 120_000  # per picture

EXAM = ExamInfoView(
    id="exam-demo",
    title="云计算工程师认证考试 / Cloud Engineer Certification",
    starts_at="2026-07-25T06:00:00.000Z",
    ends_at="2026-07-25T07:30:00.000Z",
)

QUESTIONS = (
    QuestionView(
        "a1",
        "HTTPS 默认使用哪个端口？ (Which port does HTTPS use by default?)",
        False,
        (
            OptionView("o1", "21"),
            OptionView("o2", "80"),
            OptionView("o3", "443"),
            OptionView("o4", "8080"),
        ),
        chosen=("o3",),
        saved=True,
    ),
    QuestionView(
        "a2",
        "以下哪些是对象存储的特点？ (Which are properties of object storage?)",
        True,
        (
            OptionView("p1", "按对象（键）访问 / addressed by key"),
            OptionView("p2", "支持块级随机写入 / block-level random writes"),
            OptionView("p3", "通过 HTTP API 访问 / accessed over an HTTP API"),
            OptionView("p4", "元数据与数据一起存储 / metadata stored with the data"),
        ),
        chosen=("p1", "p3"),
        saved=False,
    ),
    *(
        QuestionView(
            f"a{i}",
            f"Question text {i}",
            False,
            (OptionView("x", "A"), OptionView("y", "B")),
            chosen=("x",) if i % 3 == 0 else (),
            saved=i % 3 == 0,
        )
        for i in range(3, 21)
    ),
)

ENTERED = ClientState(
    connected=True,
    welcomed=True,
    session="s1",
    exam=EXAM,
    candidate_code="C00017",
    candidate_name="张*丰",
    snapshot_interval_s=30,
    identity_accepted=True,
    profile_given=True,
    profile_saved=True,
    warning_limit=3,
)
IN_EXAM = replace(
    ENTERED,
    questions=QUESTIONS,
    has_paper=True,
    ends_at_mono=NOW + 47 * 60 + 12,
    watermark_text="C00017 · 张*丰 · 云计算工程师认证考试",
    watermark_nonce="7f3a-91c2",
)


def check_rows() -> list[CheckResult]:
    return [
        CheckResult(CheckId.OS, Status.PASS, "Windows 11", "", "ok"),
        CheckResult(CheckId.CAMERA, Status.PASS, "640×480 @ 15", "fps", "ok"),
        CheckResult(CheckId.VIRTUAL_CAMERA, Status.PASS, 0, "cameras", "ok"),
        CheckResult(CheckId.MICROPHONE, Status.WARN, -52.5, "dBFS", "quiet", "…", "mic_silent"),
        CheckResult(
            CheckId.SCREENS, Status.FAIL, 2, "screens", "two", "…", "screens_disconnect_extra"
        ),
        CheckResult(CheckId.VIRTUAL_MACHINE, Status.PASS, 0, "signals", "ok"),
        CheckResult(CheckId.LATENCY, Status.PASS, 38, "ms", "ok"),
        CheckResult(CheckId.DOWNLOAD, Status.PASS, 23.4, "Mb/s", "ok"),
        CheckResult(CheckId.UPLOAD, Status.PASS, 8.1, "Mb/s", "ok"),
        CheckResult(CheckId.CLOCK, Status.PASS, 0.2, "s", "ok"),
    ]


def render(
    window: MainWindow, languages: LanguageManager, out: Path, size: tuple[int, int]
) -> list[Path]:
    saved: list[Path] = []
    window.resize(*size)
    window.show()

    def shot(name: str, with_notice: bool = False) -> None:
        for lang in ("zh", "en"):
            languages.set_language(lang)
            QApplication.processEvents()
            path = out / f"{name}.{lang}.png"
            image = window.grab().toImage()
            notice = window.notice
            if with_notice and notice is not None:
                # The notice is a window of its own: paint it where it stands over the exam.
                notice.adjustSize()
                picture = notice.grab().toImage()
                at = QPoint(
                    (image.width() - picture.width()) // 2, (image.height() - picture.height()) // 3
                )
                painter = QPainter(image)
                painter.drawImage(at, picture)
                painter.end()
            # The format comes from the ".png" suffix: PySide6 takes the format as a str, its
            # type stubs say bytes, and no value satisfies both.
            image.save(str(path), quality=9)
            if path.stat().st_size > MAX_BYTES:
                # A palette of 256 colours keeps a busy picture (camera, watermark) small.
                image.convertToFormat(
                    QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither
                ).save(str(path), quality=9)
            saved.append(path)

    def state(s: ClientState) -> None:
        window.bridge.last_state = s
        window.show_state(s)

    window.banners.set_online(True)
    window.show_screen(ScreenName.ENTRY)
    window.entry.set_values("https://exam.example.com", "Xk3-9fQ2-a7Lm")
    shot("01-entry")

    window.show_screen(ScreenName.CHECK)
    rows = [row_from_result(r) for r in check_rows()]
    window.check.set_rows(rows, running=False)
    shot("02-check")
    window.check.set_rows(
        [
            *rows[:6],
            pending_row("latency", running=True),
            *(pending_row(r.check_id) for r in rows[7:]),
        ],
        running=True,
    )
    shot("03-check-running")

    window.trial.set_runs(1)
    window.show_screen(ScreenName.TRIAL)
    shot("04-trial")

    window.rules.reset()
    window.show_screen(ScreenName.RULES)
    shot("04b-rules")

    state(replace(ENTERED, identity_accepted=False, profile_given=False, profile_saved=False))
    camera = SyntheticCamera(realtime=False)
    for _ in range(3):
        window.photo.set_frame(camera.read())
    window._stop_preview()
    shot("05-identity-photo")
    window.photo.capture()
    window.photo.set_refused(
        ["We could not find your face. Face the camera with your whole face in view."]
    )
    shot("06-identity-refused")

    state(replace(ENTERED, profile_given=False, profile_saved=False))
    window.address.inputs["name"].setText("张三丰")
    window.address.inputs["phone"].setText("1380013800")
    window.address.inputs["address"].setText("北京市海淀区中关村大街 1 号 3 号楼 301 室")
    window.address.inputs["postcode"].setText("100080")
    window.address.submit_button.click()
    shot("07-address")

    state(replace(ENTERED, starts_at_mono=NOW + 23 * 60 + 41))
    window.self_view.set_frame(camera.read())
    shot("08-waiting-room")

    state(IN_EXAM)
    window.exam.go_to(1)
    shot("09-exam-watermark")

    away = replace(IN_EXAM, warnings_used=1, warning_limit_action="terminate")
    state(replace(away, away=EventKind.APP_INACTIVE, away_signals=(EventKind.FOCUS_LOST,)))
    shot("10-offscreen-warning")
    state(away)  # back: one notice
    shot("10b-offscreen-notice", with_notice=True)
    if window.notice is not None:
        window.notice.accept()
    proctor = WarningView("请把摄像头对准您的脸。", 2, 3, source=MessageSource.PROCTOR)
    window.bridge.on_state(replace(away, warnings_used=2, warnings=(proctor,)))  # a new one
    shot("10c-proctor-warning", with_notice=True)
    if window.notice is not None:
        window.notice.accept()
    window.banners.clear_exam()

    state(replace(IN_EXAM, offline=True, connected=False))
    shot("11-offline")

    state(replace(ENTERED, result=ResultView(85, 100, True)))
    shot("12-result")

    state(
        replace(ClientState(), error=ErrorView("entry_closed", "entry closed at 14:30", fatal=True))
    )
    shot("13-error-entry-closed")
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--size", default="960x680")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    languages = LanguageManager(app)
    # No event loop runs here, so the window never reads this camera: the identity-photo
    # screen is fed frames by hand in `render`.
    camera = CameraReader(SyntheticCamera(realtime=False))
    window = MainWindow(languages=languages, clock=lambda: NOW, camera=camera)
    window._tick.stop()
    for path in render(window, languages, args.out, (width, height)):
        print(f"{path}  {path.stat().st_size // 1024} KiB")
    asyncio.run(camera.aclose())
    return 0


if __name__ == "__main__":
    sys.exit(main())
