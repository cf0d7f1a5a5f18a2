"""The whole environment check on fakes against the real server on loopback."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from proctor_client.check.evaluate import MIN_FPS, OsFigures
from proctor_client.check.model import ORDER, CheckId, CheckReport, Phase, Progress, Status
from proctor_client.check.probes import ProbeInputs
from proctor_client.check.runner import CheckSettings, run_environment_check
from proctor_client.devices import (
    BlackCamera,
    CameraReader,
    FixedScreens,
    Frame,
    FrozenCamera,
    ScreenGeometry,
    SilenceMicrophone,
    SyntheticCamera,
    ToneMicrophone,
)
from proctor_client.devices.base import DeviceError
from proctor_server.app import Server
from shared.errors import ConfigError

REAL_MACHINE = ProbeInputs(
    dmi={"sys_vendor": "Dell Inc.", "product_name": "Latitude 7420"},
    detect_virt="none\n",
    cpuinfo="flags\t: fpu vme sse2\n",
    macs={"wlan0": "3c:22:fb:12:34:56"},
)
WINDOWS_10 = OsFigures("Windows", "10", "10.0.19045")


def good_settings(url: str, **overrides: object) -> CheckSettings:
    settings = CheckSettings(
        server=url,
        camera=CameraReader(SyntheticCamera(fps=30)),
        microphone=ToneMicrophone(),
        screens=FixedScreens.count(1),
        probe_inputs=REAL_MACHINE,
        os_figures=WINDOWS_10,
        camera_names=["Integrated Webcam"],
        camera_seconds=0.6,
        microphone_seconds=0.5,
    )
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


def statuses(report: CheckReport) -> dict[str, str]:
    """Each check's status; a camera that works but whose frame rate this busy machine held
    under GOOD_FPS (the server runs in the same process) counts as a pass here."""
    out = {str(r.id): str(r.status) for r in report.checks}
    camera = report.get(CheckId.CAMERA)
    if camera is not None and camera.advice_key == "camera_low_quality":
        assert isinstance(camera.figure, float) and camera.figure >= MIN_FPS
        assert camera.details["width"] == 640  # only the rate may be low
        out["camera"] = "pass"
    return out


async def test_a_good_setup_passes_with_every_check_once_and_progress(server: Server) -> None:
    events: list[Progress] = []
    started = time.monotonic()
    report = await run_environment_check(good_settings(server.url), events.append)
    assert time.monotonic() - started < 20
    assert report.passed, statuses(report)
    assert [r.id for r in report.checks] == list(ORDER)
    assert set(statuses(report).values()) == {"pass"}, statuses(report)
    camera = report.get(CheckId.CAMERA)
    assert (
        camera is not None and isinstance(camera.figure, float) and camera.figure < 36
    )  # never faster than the camera
    assert camera.details["width"] == 640
    # Progress: every check starts once and finishes once, after it started.
    assert Counter((e.check, e.phase) for e in events) == Counter(
        {(c, p): 1 for c in ORDER for p in (Phase.STARTED, Phase.FINISHED)}
    )
    for check in ORDER:
        phases = [e.phase for e in events if e.check == check]
        assert phases == [Phase.STARTED, Phase.FINISHED]
    finished = [e for e in events if e.phase is Phase.FINISHED]
    assert [e.done for e in finished] == list(range(1, len(ORDER) + 1))
    assert finished[-1].fraction == 1.0
    assert all(e.result is not None and e.result.id == e.check for e in finished)


async def test_the_report_carries_the_device_signals(server: Server) -> None:
    settings = good_settings(
        server.url,
        camera=CameraReader(SyntheticCamera(name="HD Webcam")),
        camera_names=["HD Webcam", "OBS Virtual Camera"],
        probe_inputs=ProbeInputs(cpuinfo="flags\t: fpu hypervisor\n"),
        screens=FixedScreens.count(1),
    )
    report = await run_environment_check(settings)
    assert report.device == {
        "os": "Windows 10",
        "cameras": ["HD Webcam", "OBS Virtual Camera"],
        "virtual_cameras": ["OBS Virtual Camera"],
        "vm_signals": [{"signal": "cpu.hypervisor_flag", "value": "hypervisor", "strong": False}],
        "screens": 1,
    }
    assert report.passed  # an installed virtual camera and a weak VM sign only warn
    assert statuses(report)["virtual_camera"] == "warn"
    assert statuses(report)["virtual_machine"] == "warn"
    assert report.to_json()["device"] == report.device


@pytest.mark.parametrize(
    ("overrides", "check", "status", "key", "passed"),
    [
        ({"camera": CameraReader(FrozenCamera())}, "camera", "fail", "camera_frozen", False),
        ({"camera": CameraReader(BlackCamera())}, "camera", "fail", "camera_black", False),
        ({"camera": "synthetic"}, "camera", "pass", "", True),
        ({"camera": "/no/such/clip.mp4"}, "camera", "fail", "camera_connect", False),
        ({"microphone": SilenceMicrophone()}, "microphone", "warn", "mic_silent", True),
        ({"microphone": "tone"}, "microphone", "pass", "", True),
        ({"screens": FixedScreens.count(2)}, "screens", "fail", "screens_disconnect_extra", False),
        ({"screens": None}, "screens", "warn", "screens_unknown", True),
        (
            {"camera": CameraReader(SyntheticCamera(name="OBS Virtual Camera"))},
            "virtual_camera",
            "fail",
            "vcam_in_use",
            False,
        ),
        (
            {
                "probe_inputs": ProbeInputs(
                    dmi={"sys_vendor": "innotek GmbH", "product_name": "VirtualBox"}
                )
            },
            "virtual_machine",
            "fail",
            "vm_detected",
            False,
        ),
        (
            {"os_figures": OsFigures("Linux", "6.8.0", "")},
            "os",
            "warn",
            "os_linux_unofficial",
            True,
        ),
        (
            {"os_figures": OsFigures("Windows", "Vista", "6.0.6002")},
            "os",
            "fail",
            "os_upgrade",
            False,
        ),
    ],
)
async def test_one_problem_at_a_time(
    server: Server, overrides: dict[str, object], check: str, status: str, key: str, passed: bool
) -> None:
    report = await run_environment_check(good_settings(server.url, **overrides))
    result = report.get(CheckId(check))
    assert result is not None
    if status != "pass":
        assert (str(result.status), result.advice_key) == (status, key), result.message
    assert statuses(report)[check] == status, result.message
    assert report.passed is passed
    others = {k: v for k, v in statuses(report).items() if k != check}
    assert set(others.values()) <= {"pass"}, others


async def test_devices_given_as_objects_stay_open_and_specs_are_closed(server: Server) -> None:
    camera, microphone = SyntheticCamera(), ToneMicrophone()
    reader = CameraReader(camera)
    await run_environment_check(good_settings(server.url, camera=reader, microphone=microphone))
    assert not reader.closed and not camera.closed and not microphone.closed
    assert reader.subscribers == 0  # the check's subscription ended with it
    await reader.aclose()


async def test_the_check_shares_the_camera_with_a_running_preview(server: Server) -> None:
    reader = CameraReader(SyntheticCamera(fps=30))
    with reader.subscribe() as preview:
        report = await run_environment_check(good_settings(server.url, camera=reader))
        assert statuses(report)["camera"] == "pass"
        assert reader.subscribers == 1  # the check's subscription ended, the preview's not
        await preview.recv()  # and it still receives frames
    await reader.aclose()


class HangingCamera:
    """A driver that never delivers a frame until it is closed."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.closed = False

    @property
    def name(self) -> str:
        return "Hanging camera"

    def read(self) -> Frame:
        self.released.wait(30)
        raise DeviceError("camera stopped")

    def close(self) -> None:
        self.closed = True
        self.released.set()


async def test_a_hanging_camera_is_time_boxed(server: Server) -> None:
    camera = HangingCamera()
    reader = CameraReader(camera)
    started = time.monotonic()
    report = await run_environment_check(
        good_settings(server.url, camera=reader, device_time_box=1.0)
    )
    camera.close()
    await reader.aclose()
    assert time.monotonic() - started < 10
    result = report.get(CheckId.CAMERA)
    assert result is not None and result.status is Status.FAIL
    assert "took too long" in result.message
    assert len(report.checks) == len(ORDER)


async def test_an_unreachable_server_fails_the_network_checks_only(unused_tcp_port: int) -> None:
    report = await run_environment_check(good_settings(f"http://127.0.0.1:{unused_tcp_port}"))
    assert not report.passed
    got = statuses(report)
    assert {got[c] for c in ("latency", "download", "upload")} == {"fail"}
    assert got["clock"] == "warn"
    assert got["camera"] == "pass" and got["microphone"] == "pass"
    latency = report.get(CheckId.LATENCY)
    assert latency is not None and "refused" in latency.message


async def test_a_broken_progress_callback_does_not_break_the_check(server: Server) -> None:
    def broken(progress: Progress) -> None:
        raise RuntimeError("display gone")

    report = await run_environment_check(good_settings(server.url), broken)
    assert report.passed


async def test_a_bad_server_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        await run_environment_check(good_settings("ftp://nowhere"))


class BrokenScreens:
    def geometries(self) -> list[ScreenGeometry]:
        raise RuntimeError("QtScreens needs a QGuiApplication")


async def test_screens_that_cannot_be_counted_only_warn(server: Server) -> None:
    report = await run_environment_check(good_settings(server.url, screens=BrokenScreens()))
    got = statuses(report)
    assert got.pop("screens") == "warn"
    assert set(got.values()) == {"pass"}, got
