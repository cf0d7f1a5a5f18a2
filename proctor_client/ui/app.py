"""The one place where the app is wired: the QApplication, asyncio inside Qt's loop (qasync),
the devices (the camera's one reader, shared by the preview, the snapshots, live video and the
check; the microphone's one reader, shared by live audio and the check), the runtime factory, the environment check, and an orderly shutdown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from proctor_client.check.capture_software import read_capture_software
from proctor_client.check.model import CheckId, CheckReport
from proctor_client.check.runner import CheckSettings, run_environment_check
from proctor_client.check.system import gather_device_signals
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.cameras import open_camera
from proctor_client.devices.microphones import SharedMicrophone, open_shared_microphone
from proctor_client.media.publisher import MediaSources
from proctor_client.media.quality import quality_for
from proctor_client.runtime.model import ExamRuntimeAPI, Mode
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.runtime.snapshots import CameraPhotos
from proctor_client.ui.base import ScreenName
from proctor_client.ui.i18n import LanguageManager, system_language
from proctor_client.ui.main_window import MainWindow, ProgressCallback, RuntimeFactory
from proctor_client.ui.screens_qt import QtScreens
from shared.errors import ConfigError

# Worker threads for blocking work (device reads block for a frame or a few buffers each; the
# environment check's probes block longer): made as needed, up to this many.
WORKER_THREADS = 16

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GuiOptions:
    server: str = ""
    ticket: str = ""
    camera: str = "0"
    mic: str = "default"
    lang: str | None = None  # zh | en; None follows the system locale
    smoke_exit_after_ready: bool = False


@dataclass
class Uplink:
    """The upload speed the last environment check measured (Mb/s; None: not measured):
    the live video's size, rate and bitrate follow it (media/quality.py)."""

    mbps: float | None = None

    def read(self, report: CheckReport) -> None:
        result = report.get(CheckId.UPLOAD)
        figure = result.figure if result is not None else None
        if isinstance(figure, int | float):
            self.mbps = float(figure)


def make_runtime_factory(
    camera: CameraReader | None,
    figures: Callable[[], dict[str, Any]] = dict,
    microphone: SharedMicrophone | None = None,
    uplink: Uplink | None = None,
) -> RuntimeFactory:
    """Runtimes that take their exam snapshots from `camera` (the preview's reader too),
    publish it and `microphone` live (exam and trial alike) at the quality the measured
    `uplink` carries (the floor until a check measured it), and say in their hello the
    device figures last read (`figures()`)."""
    photos = CameraPhotos(camera) if camera is not None else None

    def factory(server: str, ticket: str, mode: Mode) -> ExamRuntimeAPI:
        media = None
        if camera is not None or microphone is not None:
            quality = quality_for(uplink.mbps if uplink is not None else None)
            media = MediaSources(
                camera=camera,
                microphone=microphone,
                video=quality.video,
                max_bitrate=quality.max_bitrate,
            )
        return ExamRuntime(
            server,
            ticket,
            mode=mode,
            photos=photos,
            client_info={"app": "proctor-client-gui", "platform": sys.platform, **figures()},
            media=media,
        )

    return factory


def open_camera_or_problem(spec: str) -> tuple[CameraReader | None, str]:
    """Open the camera. A device that cannot be opened now (unplugged, busy) does not stop the
    app: the candidate sees the problem and the check says what to do. A file or name that
    does not exist is a mistake in the command line and raises ConfigError."""
    try:
        return CameraReader(open_camera(spec)), ""
    except ConfigError as exc:
        text = spec.strip()
        if text.isdigit() or text.startswith("/dev/"):
            return None, exc.message
        raise


def run_gui(options: GuiOptions, argv: Sequence[str] | None = None) -> int:
    """Show the app until the candidate closes it; returns the exit status."""
    import qasync

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv if argv is not None else sys.argv[:1]))
    app.setApplicationName("proctor-client")
    app.setQuitOnLastWindowClosed(False)  # main() below ends the loop after cleaning up
    languages = LanguageManager(app)
    languages.set_language(options.lang or system_language())
    camera, camera_problem = open_camera_or_problem(options.camera)
    microphone, microphone_problem = open_shared_microphone(options.mic)
    if microphone is None:  # the exam goes on without live sound; the check says why
        log.warning("no live audio: %s", microphone_problem)
    screens = QtScreens()
    uplink = Uplink()

    async def check_runner(server: str, progress: ProgressCallback) -> CheckReport:
        # The check listens through a subscription of its own to the app's one microphone
        # (live audio may be reading it at the same time); without one, it tries the option
        # again and reports what goes wrong.
        listening = microphone.subscribe() if microphone is not None else None
        settings = CheckSettings(
            server=server,
            camera=camera if camera is not None else options.camera,  # tried again, reported
            microphone=listening if listening is not None else options.mic,
            screens=screens,
        )
        try:
            report = await run_environment_check(settings, progress)
            uplink.read(report)  # the next exam or trial publishes at what the line carries
            return report
        finally:
            if listening is not None:
                listening.close()

    async def device_signals() -> dict[str, Any]:
        """What the app's own check sees (cameras, virtual machine and camera signs, screens),
        the capture software running, and whether the window is kept out of captures."""
        data = await gather_device_signals(
            screens, camera_in_use=camera.name if camera is not None else None
        )
        data.update(await asyncio.to_thread(read_capture_software))
        data["capture_exclusion"] = window.capture_exclusion or "not yet shown"
        return data

    window = MainWindow(
        runtime_factory=make_runtime_factory(
            camera, lambda: window.device_figures, microphone=microphone, uplink=uplink
        ),
        device_signals=device_signals,
        check_runner=check_runner,
        camera=camera,
        camera_problem=camera_problem,
        languages=languages,
    )
    window.set_entry(options.server, options.ticket)
    loop = qasync.QEventLoop(app)
    # The work sent to threads (camera and microphone reads, the live encoders, JPEG) goes to
    # Python's own thread pool: qasync's default pool hands each job over through a Python
    # queue and lock, which cost more of the app's CPU than the smaller jobs themselves.
    loop.set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="app")
    )
    asyncio.set_event_loop(loop)

    def request_close(_signum: int, _frame: object) -> None:
        # Ctrl+C or a service manager: close the window, which shuts everything down in order.
        QTimer.singleShot(0, window.close)

    signal.signal(signal.SIGINT, request_close)
    signal.signal(signal.SIGTERM, request_close)

    async def main() -> None:
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        if options.smoke_exit_after_ready:

            def ready(name: str) -> None:
                if name != ScreenName.BUSY:
                    print(f"ready {name}", flush=True)
                    QTimer.singleShot(0, window.close)

            window.screen_shown.connect(ready)
        window.show()
        window.tasks.spawn(window.read_device_figures(), name="device-figures")
        if options.server and options.ticket:
            window.enter(options.server, options.ticket, Mode.EXAM)  # the rules first
        elif options.smoke_exit_after_ready:
            QTimer.singleShot(0, lambda: ready_now(window))
        try:
            await closed.wait()
        finally:
            await window.aclose()
            if camera is not None:
                await camera.aclose()
            if microphone is not None:
                await asyncio.to_thread(microphone.close)

    def ready_now(w: MainWindow) -> None:
        print(f"ready {w.current_screen}", flush=True)
        w.close()

    with loop:
        loop.run_until_complete(main())
    return 0
