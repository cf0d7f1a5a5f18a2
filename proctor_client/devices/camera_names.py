"""The names the operating system gives the attached cameras (the environment check looks
for virtual cameras among them). Each source's text is parsed by a pure function; the thin
readers below fetch that text and never raise."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

V4L_ROOT = Path("/sys/class/video4linux")
WINDOWS_COMMAND = [
    "powershell",
    "-NoProfile",
    "-Command",
    "Get-CimInstance Win32_PnPEntity | Where-Object { $_.PNPClass -in 'Camera','Image' }"
    " | Select-Object -ExpandProperty Name",
]
MACOS_COMMAND = ["system_profiler", "SPCameraDataType"]


def parse_v4l_names(entries: Mapping[str, str]) -> list[str]:
    """``{"video0": "<contents of name>"}`` → names in device order, one per device.

    A USB camera often registers two nodes (capture and metadata) with the same name; it is
    listed once.
    """

    def order(item: tuple[str, str]) -> tuple[int, str]:
        digits = "".join(ch for ch in item[0] if ch.isdigit())
        return (int(digits) if digits else 1 << 30, item[0])

    names: list[str] = []
    for _node, text in sorted(entries.items(), key=order):
        name = text.strip()
        if name and name not in names:
            names.append(name)
    return names


def parse_windows_names(text: str) -> list[str]:
    """One device name per line (PowerShell's ``Select-Object -ExpandProperty Name``)."""
    names: list[str] = []
    for line in text.splitlines():
        name = line.strip()
        if name and name not in names:
            names.append(name)
    return names


def parse_macos_names(text: str) -> list[str]:
    """``system_profiler SPCameraDataType``: each camera is a heading indented one level."""
    names: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if stripped.endswith(":") and 2 <= indent <= 6 and ": " not in stripped:
            name = stripped[:-1].strip()
            if name and name not in names:
                names.append(name)
    return names


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("%s failed: %s", command[0], exc)
        return ""
    return done.stdout


def read_v4l_entries(root: Path = V4L_ROOT) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        nodes = list(root.iterdir())
    except OSError:
        return entries
    for node in nodes:
        try:
            entries[node.name] = (node / "name").read_text(errors="replace")
        except OSError:
            continue
    return entries


def list_camera_names(platform: str = sys.platform) -> list[str]:
    """Names of the attached cameras; an empty list when the system cannot tell."""
    if platform.startswith("linux"):
        return parse_v4l_names(read_v4l_entries())
    if platform == "win32":
        return parse_windows_names(_run(WINDOWS_COMMAND))
    if platform == "darwin":
        return parse_macos_names(_run(MACOS_COMMAND))
    return []


def v4l_name(index: int, root: Path = V4L_ROOT) -> str | None:
    """The name of /dev/video<index> on Linux, when the system publishes it."""
    try:
        return (root / f"video{index}" / "name").read_text(errors="replace").strip() or None
    except OSError:
        return None
