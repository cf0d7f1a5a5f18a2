"""The environment check as one async call: the devices, the computer and the network are
measured concurrently, each part within its own time box, and every result is reported
through an optional progress callback as it lands.

    report = await run_environment_check(CheckSettings(server="http://host:8765"), progress)

The UI runs this on its asyncio loop (qasync); blocking device reads go to threads (the
camera's through its reader, the microphone's through `read_samples`). The screens are
counted on the calling thread, because Qt's screen list lives on the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from proctor_client.check import evaluate as ev
from proctor_client.check.live_media import ProbeResult, evaluate_live_media, probe_live_media
from proctor_client.check.measure import FrameTally, loudest_window_dbfs
from proctor_client.check.model import (
    ORDER,
    CheckId,
    CheckReport,
    CheckResult,
    Phase,
    Progress,
    sort_results,
)
from proctor_client.check.network import (
    ServerAddress,
    measure_download,
    measure_latency,
    measure_upload,
)
from proctor_client.check.probes import ProbeInputs, vm_signals
from proctor_client.check.system import build_device_signals, read_os_figures, read_probe_inputs
from proctor_client.devices.base import Microphone, Screens, close_device, read_samples
from proctor_client.devices.camera_names import list_camera_names
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.cameras import open_camera
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.devices.microphones import ToneMicrophone, open_microphone
from proctor_client.media.publisher import MediaSources
from shared.errors import ProctorError

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class CheckSettings:
    """What to check. A device given as a string is opened (and closed) by the check; a device
    object is used as it is and left open (the app's camera reader, shared with the preview
    and the snapshots: the check subscribes to it)."""

    server: str
    camera: CameraReader | str = "0"
    microphone: Microphone | str = "default"
    screens: Screens | None = None  # None: the screens cannot be counted here (a warning)
    # Replace what would be read from this computer (tests, demos); None reads it.
    probe_inputs: ProbeInputs | None = None
    os_figures: ev.OsFigures | None = None
    camera_names: list[str] | None = None
    # Durations and time boxes, in seconds.
    camera_seconds: float = 2.0
    microphone_seconds: float = 2.5
    device_time_box: float = 8.0
    latency_time_box: float = 4.0
    download_seconds: float = 4.0
    upload_seconds: float = 5.0
    system_time_box: float = 6.0
    live_media_seconds: float = 8.0  # a short publish to the server (ends once frames arrived)


class _Reporter:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.results: dict[CheckId, CheckResult] = {}

    def _emit(self, progress: Progress) -> None:
        if self.callback is None:
            return
        try:
            self.callback(progress)
        except Exception:  # a broken display must not break the check
            log.exception("progress callback failed")

    def started(self, *checks: CheckId) -> None:
        for check in checks:
            self._emit(Progress(check, Phase.STARTED, len(self.results), len(ORDER)))

    def finished(self, result: CheckResult) -> None:
        self.results[result.id] = result
        self._emit(Progress(result.id, Phase.FINISHED, len(self.results), len(ORDER), result))


async def _boxed(
    reporter: _Reporter,
    checks: tuple[CheckId, ...],
    seconds: float,
    body: Callable[[], Awaitable[None]],
    units: dict[CheckId, str],
) -> None:
    """Run one part; whatever it did not report in time (or because it crashed) is reported
    as not measured, so the check always ends with a result for every id."""
    reporter.started(*checks)
    reason = "it took too long"
    try:
        async with asyncio.timeout(seconds):
            await body()
    except TimeoutError:
        pass
    except ProctorError as exc:
        reason = exc.message
    except Exception as exc:
        log.exception("environment check part %s failed", [str(c) for c in checks])
        reason = f"an internal error ({type(exc).__name__})"
    for check in checks:
        if check not in reporter.results:
            reporter.finished(ev.not_measured(check, reason, units.get(check, "")))


CLOSE_TIME_BOX = 2.0


def _count_screens(screens: Screens | None) -> int | None:
    """The number of screens, or None when there is no way to count them here."""
    if screens is None:
        return None
    try:
        return len(screens.geometries())
    except Exception:  # e.g. Qt's list without a QGuiApplication; the other checks go on
        log.exception("counting the screens failed")
        return None


async def _close(device: CameraReader | Microphone) -> None:
    """Close a device the check opened; a driver stuck in a read may hold its close up, and
    the check does not wait for it longer than CLOSE_TIME_BOX (the worker thread finishes
    the close when the read returns)."""
    try:
        async with asyncio.timeout(CLOSE_TIME_BOX):
            if isinstance(device, CameraReader):
                await device.aclose()
            else:
                await close_device(device)
    except TimeoutError:
        log.warning("closing %s took too long", device.name)
    except Exception:
        log.exception("closing %s failed", device.name)


async def _open(opener: Callable[[str], Any], spec: str) -> Any:
    return await asyncio.to_thread(opener, spec)


async def run_environment_check(
    settings: CheckSettings, progress: ProgressCallback | None = None
) -> CheckReport:
    """Run every check; never raises for what it measures (a bad --server raises ConfigError)."""
    address = ServerAddress.parse(settings.server)
    reporter = _Reporter(progress)
    started = time.monotonic()
    camera_name: list[str] = []  # filled by the camera part, read by the virtual-camera part
    camera_done = asyncio.Event()
    # Live media goes last: its encoding would disturb the camera's frame rate and the upload.
    measured = {"camera": asyncio.Event(), "network": asyncio.Event()}
    reached: list[bool] = []  # the network part reached the server
    device: dict[str, Any] = {}

    async def camera_part() -> None:
        camera: CameraReader | None = None
        owned = isinstance(settings.camera, str)
        tally = FrameTally()
        try:
            try:
                if isinstance(settings.camera, str):
                    camera = CameraReader(await _open(open_camera, settings.camera))
                else:
                    camera = settings.camera
                camera_name.append(camera.name)
                camera_done.set()
                with camera.subscribe() as frames:
                    deadline = time.monotonic() + settings.camera_seconds
                    while time.monotonic() < deadline:
                        frame = await frames.recv()
                        tally.add(frame, time.monotonic())
                error = None
            except ProctorError as exc:
                error = exc.message
            reporter.finished(ev.evaluate_camera(tally.figures(error)))
        finally:
            camera_done.set()
            measured["camera"].set()
            if camera is not None and owned:
                await _close(camera)

    async def microphone_part() -> None:
        microphone: Microphone | None = None
        owned = isinstance(settings.microphone, str)
        try:
            try:
                if isinstance(settings.microphone, str):
                    microphone = await _open(open_microphone, settings.microphone)
                else:
                    microphone = settings.microphone
                assert microphone is not None
                chunks = []
                deadline = time.monotonic() + settings.microphone_seconds
                while time.monotonic() < deadline:
                    chunks.append(await read_samples(microphone, 0.1))
                samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
                figures = ev.MicrophoneFigures(
                    samples.size / microphone.sample_rate,
                    loudest_window_dbfs(samples, microphone.sample_rate),
                    microphone.name,
                )
            except ProctorError as exc:
                figures = ev.MicrophoneFigures(0.0, ev.DBFS_FLOOR, error=exc.message)
            reporter.finished(ev.evaluate_microphone(figures))
        finally:
            if microphone is not None and owned:
                await _close(microphone)

    async def system_part() -> None:
        screens = _count_screens(settings.screens)
        reporter.finished(ev.evaluate_screens(screens))
        os_figures = settings.os_figures
        if os_figures is None:
            os_figures = await asyncio.to_thread(read_os_figures)
        reporter.finished(ev.evaluate_os(os_figures))
        inputs = settings.probe_inputs
        if inputs is None:
            inputs = await asyncio.to_thread(read_probe_inputs)
        signals = vm_signals(inputs)
        reporter.finished(ev.evaluate_virtual_machine(signals))
        names = settings.camera_names
        if names is None:
            names = await asyncio.to_thread(list_camera_names)
        await camera_done.wait()
        in_use = camera_name[0] if camera_name else None
        reporter.finished(ev.evaluate_virtual_cameras(in_use, names))
        all_names = list(dict.fromkeys([*names, *camera_name]))
        device.update(build_device_signals(os_figures, all_names, signals, screens))

    async def live_media_part() -> None:
        if not reached:
            reporter.finished(
                evaluate_live_media(ProbeResult(error="the server could not be reached"))
            )
            return
        camera = settings.camera if isinstance(settings.camera, CameraReader) else None
        test_camera = CameraReader(SyntheticCamera()) if camera is None else None
        sources = MediaSources(camera=camera or test_camera, microphone=ToneMicrophone())
        try:
            result = await probe_live_media(address, sources, seconds=settings.live_media_seconds)
        finally:
            if test_camera is not None:
                await test_camera.aclose()
        reporter.finished(evaluate_live_media(result))

    async def network_part() -> None:
        try:
            await network_measures()
        finally:
            measured["network"].set()

    async def network_measures() -> None:
        latency = await measure_latency(address, timeout_s=min(1.5, settings.latency_time_box))
        reporter.finished(ev.evaluate_latency(latency.figures))
        reporter.finished(ev.evaluate_clock(latency.offset_s))
        if latency.figures.replies == 0:
            reason = latency.figures.error or "the server did not answer"
            reporter.finished(ev.evaluate_download(None, reason))
            reporter.finished(ev.evaluate_upload(None, reason))
            return
        reached.append(True)
        download = await measure_download(address, seconds=settings.download_seconds)
        reporter.finished(ev.evaluate_download(download.mbps, download.error))
        upload = await measure_upload(address, seconds=settings.upload_seconds)
        reporter.finished(ev.evaluate_upload(upload.mbps, upload.error))

    units = {
        CheckId.CAMERA: "fps",
        CheckId.MICROPHONE: "dBFS",
        CheckId.LATENCY: "ms",
        CheckId.CLOCK: "s",
        CheckId.DOWNLOAD: "Mb/s",
        CheckId.UPLOAD: "Mb/s",
        CheckId.SCREENS: "screens",
        CheckId.VIRTUAL_CAMERA: "cameras",
        CheckId.VIRTUAL_MACHINE: "signals",
        CheckId.LIVE_MEDIA: "frames",
    }
    network_box = (
        settings.latency_time_box + settings.download_seconds + settings.upload_seconds + 1.0
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(
            _boxed(reporter, (CheckId.CAMERA,), settings.device_time_box, camera_part, units)
        )
        group.create_task(
            _boxed(
                reporter, (CheckId.MICROPHONE,), settings.device_time_box, microphone_part, units
            )
        )
        group.create_task(
            _boxed(
                reporter,
                (CheckId.SCREENS, CheckId.OS, CheckId.VIRTUAL_MACHINE, CheckId.VIRTUAL_CAMERA),
                settings.system_time_box + settings.device_time_box,
                system_part,
                units,
            )
        )
        group.create_task(
            _boxed(
                reporter,
                (CheckId.LATENCY, CheckId.CLOCK, CheckId.DOWNLOAD, CheckId.UPLOAD),
                network_box,
                network_part,
                units,
            )
        )

        async def live_media_last() -> None:
            await asyncio.gather(*(event.wait() for event in measured.values()))
            await _boxed(
                reporter,
                (CheckId.LIVE_MEDIA,),
                settings.live_media_seconds + 2.0,
                live_media_part,
                units,
            )

        group.create_task(live_media_last())
    return CheckReport(
        sort_results(list(reporter.results.values())), time.monotonic() - started, device
    )
