"""Pure evaluation: measured figures in, a pass / warn / fail result with advice out.

No I/O, no clocks. Every threshold is a module constant, documented in
docs/environment-check.md and tested at the value below, at and above it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from proctor_client.check.model import REQUIRED, CheckId, CheckResult, Status
from proctor_client.check.probes import VmSignal, is_virtual_camera_name

# Camera
BLACK_BRIGHTNESS = 20.0  # mean grey level 0..255; a darker picture is "black"
FROZEN_CHANGE = 0.5  # mean absolute grey change between frames; less is "frozen"
MIN_PIXELS = 320 * 240  # fewer pixels fail
GOOD_PIXELS = 640 * 480  # fewer pixels warn
MIN_FPS = 5.0  # fewer frames a second fail
GOOD_FPS = 10.0  # fewer warn
# Microphone
SILENCE_DBFS = -50.0  # the loudest 100 ms quieter than this is "silence" (warn)
DBFS_FLOOR = -120.0  # digital silence is reported as this figure
# Network (R11)
MIN_DOWNLOAD_MBPS = 1.0
MIN_UPLOAD_MBPS = 0.25  # below: snapshots and the identity photo cannot get through
GOOD_UPLOAD_MBPS = 1.0  # below: the live video may stutter
SLOW_RTT_MS = 300.0  # warn at or above
MAX_RTT_MS = 1500.0  # fail at or above
MAX_CLOCK_OFFSET_S = 5.0  # warn above
# Windows 7 is NT 6.1 (R10)
MIN_WINDOWS_NT = (6, 1)


def _result(
    check: CheckId,
    status: Status,
    figure: float | int | str | None,
    unit: str,
    message: str,
    advice: str = "",
    advice_key: str = "",
    *,
    details: dict[str, Any] | None = None,
) -> CheckResult:
    return CheckResult(
        check, status, figure, unit, message, advice, advice_key, dict(details or {})
    )


def not_measured(check: CheckId, reason: str, unit: str = "") -> CheckResult:
    """A check that could not run (timed out or crashed): a failure when it is required."""
    status = Status.FAIL if check in REQUIRED else Status.WARN
    return _result(
        check,
        status,
        None,
        unit,
        f"Could not be checked: {reason}",
        "Run the check again. If this repeats, contact the exam support team.",
        "retry",
    )


# ---------------------------------------------------------------------------- camera


@dataclass(frozen=True, slots=True)
class CameraFigures:
    frames: int
    fps: float
    width: int = 0
    height: int = 0
    brightness: float = 0.0  # the brightest frame's mean grey level
    change: float = 0.0  # the largest mean grey change between consecutive frames
    error: str | None = None  # why the camera could not be opened or read


def evaluate_camera(f: CameraFigures) -> CheckResult:
    c = CheckId.CAMERA
    info: dict[str, Any] = {
        "frames": f.frames,
        "width": f.width,
        "height": f.height,
        "brightness": round(f.brightness, 1),
        "change": round(f.change, 2),
    }
    fps = round(f.fps, 1)
    if f.error is not None or f.frames == 0:
        return _result(
            c,
            Status.FAIL,
            None,
            "fps",
            f"The camera gave no picture: {f.error or 'no frames'}.",
            "Connect a camera, close other programs that use it, and allow this app to use it.",
            "camera_connect",
            details=info,
        )
    size = f"{f.width}×{f.height}"
    if f.brightness < BLACK_BRIGHTNESS:
        return _result(
            c,
            Status.FAIL,
            fps,
            "fps",
            f"The camera picture is black ({size}).",
            "Uncover the camera lens and turn on a light in front of you.",
            "camera_black",
            details=info,
        )
    if f.frames >= 2 and f.change < FROZEN_CHANGE:
        return _result(
            c,
            Status.FAIL,
            fps,
            "fps",
            f"The camera picture does not change ({size}).",
            "Close other programs that use the camera, then unplug and reconnect it.",
            "camera_frozen",
            details=info,
        )
    pixels = f.width * f.height
    if pixels < MIN_PIXELS or f.fps < MIN_FPS:
        return _result(
            c,
            Status.FAIL,
            fps,
            "fps",
            f"The camera gives {size} at {fps} frames a second, too little.",
            "Use a camera with at least 320×240 pixels and 5 frames a second.",
            "camera_too_weak",
            details=info,
        )
    if pixels < GOOD_PIXELS or f.fps < GOOD_FPS:
        return _result(
            c,
            Status.WARN,
            fps,
            "fps",
            f"The camera works: {size} at {fps} frames a second (low).",
            "Better light and a 640×480 camera at 10 frames a second or more help the proctor.",
            "camera_low_quality",
            details=info,
        )
    return _result(
        c,
        Status.PASS,
        fps,
        "fps",
        f"The camera works: {size} at {fps} frames a second.",
        details=info,
    )


# ---------------------------------------------------------------------------- microphone


def dbfs(rms: float) -> float:
    """An int16 RMS level in dB relative to full scale, floored at DBFS_FLOOR."""
    if rms <= 0:
        return DBFS_FLOOR
    return max(DBFS_FLOOR, 20 * math.log10(rms / 32768.0))


@dataclass(frozen=True, slots=True)
class MicrophoneFigures:
    seconds: float
    peak_dbfs: float  # the loudest 100 ms window's level
    name: str = ""
    error: str | None = None


def evaluate_microphone(f: MicrophoneFigures) -> CheckResult:
    c = CheckId.MICROPHONE
    level = round(f.peak_dbfs, 1)
    info = {"seconds": round(f.seconds, 2), "device": f.name}
    if f.error is not None or f.seconds <= 0:
        return _result(
            c,
            Status.FAIL,
            None,
            "dBFS",
            f"The microphone gave no sound: {f.error or 'no audio'}.",
            "Connect a microphone, allow this app to use it, and choose it as the input device.",
            "mic_connect",
            details=info,
        )
    if f.peak_dbfs < SILENCE_DBFS:
        return _result(
            c,
            Status.WARN,
            level,
            "dBFS",
            f"The microphone is silent (loudest {level} dBFS).",
            "Check that the microphone is not muted, then say a few words during the check.",
            "mic_silent",
            details=info,
        )
    return _result(
        c,
        Status.PASS,
        level,
        "dBFS",
        f"The microphone hears sound (loudest {level} dBFS).",
        details=info,
    )


# ---------------------------------------------------------------------------- operating system


@dataclass(frozen=True, slots=True)
class OsFigures:
    system: str  # platform.system(): "Windows", "Darwin", "Linux", ...
    release: str  # platform.release(): "10", "7", "23.4.0", "6.8.0-45-generic"
    version: str  # platform.version() on Windows ("10.0.19045"), mac_ver()[0] on macOS


def _nt_version(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return None


def os_label(f: OsFigures) -> str:
    if f.system == "Darwin":
        return f"macOS {f.version}".strip()
    if f.system == "Windows":
        return f"Windows {f.release}".strip()
    return f"{f.system} {f.release}".strip()


def evaluate_os(f: OsFigures) -> CheckResult:
    c = CheckId.OS
    label = os_label(f)
    upgrade = "Use a computer with Windows 7 or later, or macOS."
    if f.system == "Windows":
        nt = _nt_version(f.version)
        if nt is None:
            too_old = f.release.upper() in {"XP", "VISTA", "2000", "ME", "98", "95", "NT"}
        else:
            too_old = nt < MIN_WINDOWS_NT
        if too_old:
            return _result(
                c,
                Status.FAIL,
                label,
                "",
                f"{label} is older than Windows 7.",
                upgrade,
                "os_upgrade",
            )
        return _result(c, Status.PASS, label, "", f"{label} is supported.")
    if f.system == "Darwin":
        return _result(c, Status.PASS, label, "", f"{label} is supported.")
    if f.system == "Linux":
        return _result(
            c,
            Status.WARN,
            label,
            "",
            "Linux is not an officially supported exam platform; it works for practice and demos.",
            "For the real exam, use Windows 7 or later, or macOS.",
            "os_linux_unofficial",
        )
    return _result(c, Status.FAIL, label, "", f"{label} is not supported.", upgrade, "os_upgrade")


# ---------------------------------------------------------------------------- network


def evaluate_download(mbps: float | None, error: str | None = None) -> CheckResult:
    c = CheckId.DOWNLOAD
    if mbps is None:
        return _result(
            c,
            Status.FAIL,
            None,
            "Mb/s",
            f"The download speed could not be measured: {error or 'no data'}.",
            "Check your internet connection and that the exam server address is right.",
            "net_unreachable",
        )
    figure = round(mbps, 2)
    if mbps < MIN_DOWNLOAD_MBPS:
        return _result(
            c,
            Status.FAIL,
            figure,
            "Mb/s",
            f"Download speed {figure} Mb/s is below the 1 Mb/s needed.",
            "Move closer to the Wi-Fi router or use a cable, and stop other downloads and videos.",
            "net_too_slow",
        )
    return _result(c, Status.PASS, figure, "Mb/s", f"Download speed {figure} Mb/s.")


def evaluate_upload(mbps: float | None, error: str | None = None) -> CheckResult:
    c = CheckId.UPLOAD
    if mbps is None:
        return _result(
            c,
            Status.FAIL,
            None,
            "Mb/s",
            f"The upload speed could not be measured: {error or 'no data'}.",
            "Check your internet connection and that the exam server address is right.",
            "net_unreachable",
        )
    figure = round(mbps, 2)
    if mbps < MIN_UPLOAD_MBPS:
        return _result(
            c,
            Status.FAIL,
            figure,
            "Mb/s",
            f"Upload speed {figure} Mb/s is too slow to send your photos.",
            "Move closer to the Wi-Fi router or use a cable, and stop uploads and video calls.",
            "net_too_slow",
        )
    if mbps < GOOD_UPLOAD_MBPS:
        return _result(
            c,
            Status.WARN,
            figure,
            "Mb/s",
            f"Upload speed {figure} Mb/s; the live video may stutter.",
            "Stop uploads, backups and video calls during the exam.",
            "net_upload_low",
        )
    return _result(c, Status.PASS, figure, "Mb/s", f"Upload speed {figure} Mb/s.")


@dataclass(frozen=True, slots=True)
class LatencyFigures:
    sent: int
    replies: int
    rtt_ms: float | None  # the median round trip of the replies
    error: str | None = None


def evaluate_latency(f: LatencyFigures) -> CheckResult:
    c = CheckId.LATENCY
    info = {"sent": f.sent, "replies": f.replies}
    if f.replies == 0 or f.rtt_ms is None:
        return _result(
            c,
            Status.FAIL,
            None,
            "ms",
            f"The exam server did not answer: {f.error or 'no reply'}.",
            "Check your internet connection and that the exam server address is right.",
            "net_unreachable",
            details=info,
        )
    rtt = round(f.rtt_ms, 1)
    if f.rtt_ms >= MAX_RTT_MS:
        return _result(
            c,
            Status.FAIL,
            rtt,
            "ms",
            f"Round trip to the server takes {rtt} ms, too long.",
            "Use a cable or a better network; a mobile hotspot far from the mast is too slow.",
            "net_high_latency",
            details=info,
        )
    if f.replies < f.sent:
        return _result(
            c,
            Status.WARN,
            rtt,
            "ms",
            f"The connection is unstable: {f.sent - f.replies} of {f.sent} requests got no answer.",
            "Use a cable or move closer to the Wi-Fi router.",
            "net_unstable",
            details=info,
        )
    if f.rtt_ms >= SLOW_RTT_MS:
        return _result(
            c,
            Status.WARN,
            rtt,
            "ms",
            f"Round trip to the server takes {rtt} ms (slow).",
            "Use a cable or move closer to the Wi-Fi router.",
            "net_slow_latency",
            details=info,
        )
    return _result(c, Status.PASS, rtt, "ms", f"The server answers in {rtt} ms.", details=info)


def evaluate_clock(offset_s: float | None) -> CheckResult:
    """``offset_s``: the server's clock minus this computer's (positive: the computer is behind)."""
    c = CheckId.CLOCK
    if offset_s is None:
        return _result(
            c,
            Status.WARN,
            None,
            "s",
            "The computer clock could not be compared with the server.",
            "Set the computer clock to update automatically.",
            "clock_sync",
        )
    figure = round(offset_s, 2) + 0.0  # never "-0.0"
    if abs(offset_s) > MAX_CLOCK_OFFSET_S:
        way = "behind" if offset_s > 0 else "ahead of"
        return _result(
            c,
            Status.WARN,
            figure,
            "s",
            f"The computer clock is {abs(figure)} s {way} the server.",
            "Set the computer clock to update automatically. The exam uses the server's time.",
            "clock_sync",
        )
    return _result(
        c, Status.PASS, figure, "s", f"The computer clock is within {abs(figure)} s of the server."
    )


# ---------------------------------------------------------------------------- screens, cameras, VM


def evaluate_screens(count: int | None) -> CheckResult:
    c = CheckId.SCREENS
    if count is None or count < 1:
        return _result(
            c,
            Status.WARN,
            count,
            "screens",
            "The number of screens could not be counted here.",
            "During the exam, use exactly one screen.",
            "screens_unknown",
        )
    if count > 1:
        return _result(
            c,
            Status.FAIL,
            count,
            "screens",
            f"{count} screens are connected; the exam allows one.",
            "Disconnect the extra screen (and turn off screen mirroring), then check again.",
            "screens_disconnect_extra",
        )
    return _result(c, Status.PASS, 1, "screens", "One screen is connected.")


def evaluate_virtual_cameras(in_use: str | None, names: list[str]) -> CheckResult:
    """``in_use``: the name of the camera the exam will use; ``names``: every camera attached."""
    c = CheckId.VIRTUAL_CAMERA
    virtual = [
        name
        for name in dict.fromkeys([*([in_use] if in_use else []), *names])
        if is_virtual_camera_name(name)
    ]
    info = {"cameras": list(dict.fromkeys(names)), "virtual": virtual, "in_use": in_use}
    if in_use and is_virtual_camera_name(in_use):
        return _result(
            c,
            Status.FAIL,
            len(virtual),
            "cameras",
            f"The chosen camera {in_use!r} is a virtual camera.",
            "Choose your real camera and close programs such as OBS, ManyCam or DroidCam.",
            "vcam_in_use",
            details=info,
        )
    if virtual:
        listed = ", ".join(repr(name) for name in virtual)
        return _result(
            c,
            Status.WARN,
            len(virtual),
            "cameras",
            f"Virtual camera software is installed: {listed}.",
            "Close it before the exam; using it during the exam is a violation.",
            "vcam_installed",
            details=info,
        )
    return _result(c, Status.PASS, 0, "cameras", "No virtual camera found.", details=info)


def evaluate_virtual_machine(signals: list[VmSignal]) -> CheckResult:
    c = CheckId.VIRTUAL_MACHINE
    info = {"signals": [s.to_json() for s in signals]}
    strong = [s for s in signals if s.strong]
    if strong:
        named = "; ".join(f"{s.signal} = {s.value!r}" for s in strong)
        return _result(
            c,
            Status.FAIL,
            len(signals),
            "signals",
            f"This computer looks like a virtual machine ({named}).",
            "Take the exam on a real computer, not inside a virtual machine.",
            "vm_detected",
            details=info,
        )
    if signals:
        named = "; ".join(f"{s.signal} = {s.value!r}" for s in signals)
        return _result(
            c,
            Status.WARN,
            len(signals),
            "signals",
            f"Possible signs of virtualisation ({named}).",
            "If you run the exam inside a virtual machine, move to the real computer.",
            "vm_possible",
            details=info,
        )
    return _result(c, Status.PASS, 0, "signals", "No sign of a virtual machine.", details=info)
