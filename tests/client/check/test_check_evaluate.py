"""Pure evaluation, table-driven: every threshold at the value below, at and above it."""

from __future__ import annotations

import pytest

from proctor_client.check import evaluate as ev
from proctor_client.check.model import CheckId, CheckReport, CheckResult, Status
from proctor_client.check.probes import VmSignal

P, W, F = Status.PASS, Status.WARN, Status.FAIL
EPS = 1e-6


def camera(**overrides: object) -> ev.CameraFigures:
    values: dict[str, object] = {
        "frames": 30,
        "fps": 15.0,
        "width": 640,
        "height": 480,
        "brightness": 100.0,
        "change": 3.0,
    }
    values.update(overrides)
    return ev.CameraFigures(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("figures", "status", "advice_key"),
    [
        (camera(), P, ""),
        (camera(frames=0, fps=0.0, width=0, height=0), F, "camera_connect"),
        (camera(error="busy"), F, "camera_connect"),
        # black: below, at, above BLACK_BRIGHTNESS
        (camera(brightness=ev.BLACK_BRIGHTNESS - EPS), F, "camera_black"),
        (camera(brightness=ev.BLACK_BRIGHTNESS), P, ""),
        (camera(brightness=ev.BLACK_BRIGHTNESS + 1), P, ""),
        # frozen: below, at, above FROZEN_CHANGE
        (camera(change=ev.FROZEN_CHANGE - EPS), F, "camera_frozen"),
        (camera(change=ev.FROZEN_CHANGE), P, ""),
        (camera(change=ev.FROZEN_CHANGE + 1), P, ""),
        (
            camera(frames=1, fps=0.0, change=0.0),
            F,
            "camera_too_weak",
        ),  # one frame: not frozen, too slow
        # frame rate: MIN_FPS and GOOD_FPS
        (camera(fps=ev.MIN_FPS - EPS), F, "camera_too_weak"),
        (camera(fps=ev.MIN_FPS), W, "camera_low_quality"),
        (camera(fps=ev.GOOD_FPS - EPS), W, "camera_low_quality"),
        (camera(fps=ev.GOOD_FPS), P, ""),
        (camera(fps=ev.GOOD_FPS + 1), P, ""),
        # resolution: MIN_PIXELS (320×240) and GOOD_PIXELS (640×480)
        (camera(width=319, height=240), F, "camera_too_weak"),
        (camera(width=320, height=240), W, "camera_low_quality"),
        (camera(width=639, height=480), W, "camera_low_quality"),
        (camera(width=640, height=480), P, ""),
        (camera(width=1280, height=720), P, ""),
    ],
)
def test_camera(figures: ev.CameraFigures, status: Status, advice_key: str) -> None:
    result = ev.evaluate_camera(figures)
    assert (result.status, result.advice_key) == (status, advice_key)
    assert result.id is CheckId.CAMERA and result.unit == "fps"
    assert result.details["width"] == figures.width


def test_camera_black_wins_over_frozen() -> None:
    result = ev.evaluate_camera(camera(brightness=1.0, change=0.0))
    assert result.advice_key == "camera_black"


@pytest.mark.parametrize(
    ("peak", "status", "key"),
    [
        (ev.SILENCE_DBFS - 0.1, W, "mic_silent"),
        (ev.SILENCE_DBFS, P, ""),
        (ev.SILENCE_DBFS + 0.1, P, ""),
        (ev.DBFS_FLOOR, W, "mic_silent"),
        (-3.0, P, ""),
    ],
)
def test_microphone_level(peak: float, status: Status, key: str) -> None:
    result = ev.evaluate_microphone(ev.MicrophoneFigures(2.5, peak, "Mic"))
    assert (result.status, result.advice_key) == (status, key)
    assert result.figure == round(peak, 1) and result.unit == "dBFS"


@pytest.mark.parametrize(
    "figures",
    [ev.MicrophoneFigures(0.0, ev.DBFS_FLOOR), ev.MicrophoneFigures(2.0, -10.0, error="unplugged")],
)
def test_microphone_without_audio_fails(figures: ev.MicrophoneFigures) -> None:
    result = ev.evaluate_microphone(figures)
    assert (result.status, result.advice_key, result.figure) == (F, "mic_connect", None)


@pytest.mark.parametrize(
    ("rms", "expected"),
    [
        (0.0, ev.DBFS_FLOOR),
        (-1.0, ev.DBFS_FLOOR),
        (32768.0, 0.0),
        (3276.8, -20.0),
        (1e-9, ev.DBFS_FLOOR),
    ],
)
def test_dbfs(rms: float, expected: float) -> None:
    assert ev.dbfs(rms) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("figures", "status", "label"),
    [
        (ev.OsFigures("Windows", "XP", "5.1.2600"), F, "Windows XP"),
        (ev.OsFigures("Windows", "Vista", "6.0.6002"), F, "Windows Vista"),
        (ev.OsFigures("Windows", "7", "6.1.7601"), P, "Windows 7"),  # the rule's limit
        (ev.OsFigures("Windows", "8.1", "6.3.9600"), P, "Windows 8.1"),
        (ev.OsFigures("Windows", "10", "10.0.19045"), P, "Windows 10"),
        (ev.OsFigures("Windows", "11", "10.0.22631"), P, "Windows 11"),
        (ev.OsFigures("Windows", "Vista", "garbled"), F, "Windows Vista"),
        (ev.OsFigures("Windows", "10", ""), P, "Windows 10"),
        (ev.OsFigures("Darwin", "23.4.0", "14.4.1"), P, "macOS 14.4.1"),
        (ev.OsFigures("Darwin", "10.8.0", "10.6.8"), P, "macOS 10.6.8"),
        (ev.OsFigures("Linux", "6.8.0-45-generic", "#45-Ubuntu"), W, "Linux 6.8.0-45-generic"),
        (ev.OsFigures("FreeBSD", "14.0-RELEASE", ""), F, "FreeBSD 14.0-RELEASE"),
    ],
)
def test_os(figures: ev.OsFigures, status: Status, label: str) -> None:
    result = ev.evaluate_os(figures)
    assert (result.status, result.figure) == (status, label)
    if status is F:
        assert result.advice_key == "os_upgrade"


def test_linux_warns_in_plain_words() -> None:
    result = ev.evaluate_os(ev.OsFigures("Linux", "6.8.0", ""))
    assert "not an officially supported" in result.message
    assert result.advice_key == "os_linux_unofficial"


@pytest.mark.parametrize(
    ("mbps", "status"),
    [
        (None, F),
        (0.0, F),
        (ev.MIN_DOWNLOAD_MBPS - 0.01, F),
        (ev.MIN_DOWNLOAD_MBPS, P),
        (ev.MIN_DOWNLOAD_MBPS + 0.01, P),
        (500.0, P),
    ],
)
def test_download(mbps: float | None, status: Status) -> None:
    result = ev.evaluate_download(mbps, "refused" if mbps is None else None)
    assert result.status is status
    assert result.unit == "Mb/s"
    if mbps is None:
        assert "refused" in result.message and result.advice_key == "net_unreachable"


@pytest.mark.parametrize(
    ("mbps", "status", "key"),
    [
        (None, F, "net_unreachable"),
        (ev.MIN_UPLOAD_MBPS - 0.01, F, "net_too_slow"),
        (ev.MIN_UPLOAD_MBPS, W, "net_upload_low"),
        (ev.GOOD_UPLOAD_MBPS - 0.01, W, "net_upload_low"),
        (ev.GOOD_UPLOAD_MBPS, P, ""),
        (ev.GOOD_UPLOAD_MBPS + 0.01, P, ""),
    ],
)
def test_upload(mbps: float | None, status: Status, key: str) -> None:
    result = ev.evaluate_upload(mbps)
    assert (result.status, result.advice_key) == (status, key)


@pytest.mark.parametrize(
    ("figures", "status", "key"),
    [
        (ev.LatencyFigures(5, 0, None, "connection refused"), F, "net_unreachable"),
        (ev.LatencyFigures(5, 5, ev.SLOW_RTT_MS - 0.1), P, ""),
        (ev.LatencyFigures(5, 5, ev.SLOW_RTT_MS), W, "net_slow_latency"),
        (ev.LatencyFigures(5, 5, ev.SLOW_RTT_MS + 0.1), W, "net_slow_latency"),
        (ev.LatencyFigures(5, 5, ev.MAX_RTT_MS - 0.1), W, "net_slow_latency"),
        (ev.LatencyFigures(5, 5, ev.MAX_RTT_MS), F, "net_high_latency"),
        (ev.LatencyFigures(5, 5, ev.MAX_RTT_MS + 0.1), F, "net_high_latency"),
        (ev.LatencyFigures(5, 4, 20.0, "no answer in time"), W, "net_unstable"),
        (ev.LatencyFigures(5, 4, ev.MAX_RTT_MS), F, "net_high_latency"),
    ],
)
def test_latency(figures: ev.LatencyFigures, status: Status, key: str) -> None:
    result = ev.evaluate_latency(figures)
    assert (result.status, result.advice_key) == (status, key)
    assert result.details == {"sent": figures.sent, "replies": figures.replies}


@pytest.mark.parametrize(
    ("offset", "status", "word"),
    [
        (None, W, "could not"),
        (0.0, P, "within"),
        (ev.MAX_CLOCK_OFFSET_S - 0.01, P, "within"),
        (ev.MAX_CLOCK_OFFSET_S, P, "within"),
        (ev.MAX_CLOCK_OFFSET_S + 0.01, W, "behind"),
        (-(ev.MAX_CLOCK_OFFSET_S + 0.01), W, "ahead of"),
        (-ev.MAX_CLOCK_OFFSET_S, P, "within"),
    ],
)
def test_clock(offset: float | None, status: Status, word: str) -> None:
    result = ev.evaluate_clock(offset)
    assert result.status is status and word in result.message
    assert not result.required


@pytest.mark.parametrize(
    ("count", "status", "key"),
    [
        (None, W, "screens_unknown"),
        (0, W, "screens_unknown"),
        (1, P, ""),
        (2, F, "screens_disconnect_extra"),
        (3, F, "screens_disconnect_extra"),
    ],
)
def test_screens(count: int | None, status: Status, key: str) -> None:
    result = ev.evaluate_screens(count)
    assert (result.status, result.advice_key) == (status, key)
    if status is F:
        assert "Disconnect the extra screen" in result.advice


@pytest.mark.parametrize(
    ("in_use", "names", "status", "virtual"),
    [
        ("Integrated Camera", ["Integrated Camera"], P, []),
        (None, [], P, []),
        (
            "Integrated Camera",
            ["Integrated Camera", "OBS Virtual Camera"],
            W,
            ["OBS Virtual Camera"],
        ),
        ("ManyCam Virtual Webcam", ["Integrated Camera"], F, ["ManyCam Virtual Webcam"]),
        ("DroidCam Source 3", ["DroidCam Source 3", "DroidCam Source 3"], F, ["DroidCam Source 3"]),
    ],
)
def test_virtual_cameras(
    in_use: str | None, names: list[str], status: Status, virtual: list[str]
) -> None:
    result = ev.evaluate_virtual_cameras(in_use, names)
    assert result.status is status
    assert result.details["virtual"] == virtual
    assert result.figure == len(virtual)


@pytest.mark.parametrize(
    ("signals", "status", "key"),
    [
        ([], P, ""),
        ([VmSignal("cpu.hypervisor_flag", "hypervisor", strong=False)], W, "vm_possible"),
        ([VmSignal("dmi.sys_vendor", "QEMU")], F, "vm_detected"),
        (
            [
                VmSignal("dmi.sys_vendor", "QEMU"),
                VmSignal("mac.eth0", "52:54:00:12:34:56 (QEMU/KVM)", False),
            ],
            F,
            "vm_detected",
        ),
    ],
)
def test_virtual_machine_names_the_signal(
    signals: list[VmSignal], status: Status, key: str
) -> None:
    result = ev.evaluate_virtual_machine(signals)
    assert (result.status, result.advice_key) == (status, key)
    for signal in signals:
        if (status is F and signal.strong) or status is W:
            assert signal.signal in result.message and signal.value in result.message
    assert result.details["signals"] == [s.to_json() for s in signals]


def test_not_measured_fails_required_checks_and_warns_on_advice() -> None:
    assert ev.not_measured(CheckId.CAMERA, "it took too long").status is F
    clock = ev.not_measured(CheckId.CLOCK, "it took too long", "s")
    assert clock.status is W and "took too long" in clock.message


def _result(check: CheckId, status: Status) -> CheckResult:
    return CheckResult(check, status, None, "", "m")


@pytest.mark.parametrize(
    ("results", "passed"),
    [
        ([], True),
        ([_result(CheckId.CAMERA, P), _result(CheckId.OS, W)], True),
        ([_result(CheckId.CLOCK, F)], True),  # advice only
        ([_result(CheckId.CAMERA, P), _result(CheckId.SCREENS, F)], False),
    ],
)
def test_report_passes_unless_a_required_check_fails(
    results: list[CheckResult], passed: bool
) -> None:
    report = CheckReport(tuple(results))
    assert report.passed is passed
    assert report.to_json()["passed"] is passed


def test_every_result_has_a_stable_json_shape() -> None:
    result = ev.evaluate_screens(2)
    data = CheckReport((result,)).to_json()["checks"][0]
    assert {"id", "status", "figure", "unit", "message", "advice", "advice_key", "required"} <= set(
        data
    )
    assert data["id"] == "screens" and data["status"] == "fail" and data["required"] is True
