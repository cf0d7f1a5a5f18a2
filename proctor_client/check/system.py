"""Thin readers of this computer's facts: the texts the pure probes parse, the operating
system, and the device signals the runtime sends in ``hello.client``. Readers never raise:
a source that cannot be read counts as saying nothing."""

from __future__ import annotations

import asyncio
import logging
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proctor_client.check.evaluate import OsFigures, os_label
from proctor_client.check.probes import (
    DMI_FIELDS,
    ProbeInputs,
    VmSignal,
    is_virtual_camera_name,
    parse_ifconfig_macs,
    vm_signals,
)
from proctor_client.devices.base import ScreenGeometry, Screens
from proctor_client.devices.camera_names import list_camera_names

log = logging.getLogger(__name__)

DMI_ROOT = Path("/sys/class/dmi/id")
NET_ROOT = Path("/sys/class/net")
COMMAND_TIMEOUT_S = 4.0
WINDOWS_SYSTEM_COMMAND = [
    "powershell",
    "-NoProfile",
    "-Command",
    "Get-CimInstance Win32_ComputerSystem | Format-List Manufacturer,Model,HypervisorPresent",
]
MACOS_SYSCTLS = ("kern.hv_vmm_present", "hw.model", "machdep.cpu.features")


def run_text(command: list[str]) -> str | None:
    """A command's standard output, or None when it is missing, fails to start or times out."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("%s: %s", command[0], exc)
        return None
    return done.stdout


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def read_linux_macs(root: Path = NET_ROOT) -> dict[str, str]:
    macs: dict[str, str] = {}
    try:
        interfaces = sorted(root.iterdir())
    except OSError:
        return macs
    for interface in interfaces:
        if interface.name == "lo":
            continue
        text = _read(interface / "address")
        if text and text.strip() and text.strip() != "00:00:00:00:00:00":
            macs[interface.name] = text.strip()
    return macs


def read_probe_inputs(platform_name: str = sys.platform) -> ProbeInputs:
    """Gather the probes' input texts for this computer (cheap: a few files and commands)."""
    if platform_name.startswith("linux"):
        dmi = {name: text for name in DMI_FIELDS if (text := _read(DMI_ROOT / name)) is not None}
        detect = None
        if shutil.which("systemd-detect-virt"):
            detect = run_text(["systemd-detect-virt", "--vm"])
        return ProbeInputs(
            dmi=dmi,
            detect_virt=detect,
            cpuinfo=_read(Path("/proc/cpuinfo")) or "",
            macs=read_linux_macs(),
        )
    if platform_name == "win32":
        return ProbeInputs(windows_system=run_text(WINDOWS_SYSTEM_COMMAND) or "")
    if platform_name == "darwin":
        sysctl = {name: run_text(["sysctl", "-n", name]) or "" for name in MACOS_SYSCTLS}
        return ProbeInputs(
            macos_sysctl=sysctl, macs=parse_ifconfig_macs(run_text(["ifconfig"]) or "")
        )
    return ProbeInputs()


DRM_ROOT = Path("/sys/class/drm")


def parse_drm_connectors(statuses: Mapping[str, str]) -> list[str]:
    """``{"card0-HDMI-A-1": "<contents of status>"}`` → the connected connectors' names."""
    return sorted(name for name, text in statuses.items() if text.strip() == "connected")


class DrmScreens:
    """Linux without Qt: the connected display connectors under /sys/class/drm (geometry
    unknown, so reported as 0×0). The GUI uses Qt's own screen list instead."""

    def __init__(self, root: Path = DRM_ROOT) -> None:
        self.root = root

    def geometries(self) -> list[ScreenGeometry]:
        statuses: dict[str, str] = {}
        try:
            connectors = [p for p in self.root.iterdir() if "-" in p.name]
        except OSError:
            return []
        for connector in connectors:
            text = _read(connector / "status")
            if text is not None:
                statuses[connector.name] = text
        return [ScreenGeometry(0, 0, 0, 0, name) for name in parse_drm_connectors(statuses)]


def default_screens(platform_name: str = sys.platform) -> Screens | None:
    """The screen counter the command line can use without Qt, or None when there is none."""
    if platform_name.startswith("linux") and DrmScreens().geometries():
        return DrmScreens()
    return None


def read_os_figures() -> OsFigures:
    system = platform.system()
    if system == "Darwin":
        return OsFigures(system, platform.release(), platform.mac_ver()[0])
    return OsFigures(system, platform.release(), platform.version())


def build_device_signals(
    os_figures: OsFigures,
    cameras: list[str],
    signals: list[VmSignal],
    screens: int | None,
) -> dict[str, Any]:
    """The ``hello.client`` device summary (pure): see docs/environment-check.md."""
    return {
        "os": os_label(os_figures),
        "cameras": list(cameras),
        "virtual_cameras": [name for name in cameras if is_virtual_camera_name(name)],
        "vm_signals": [s.to_json() for s in signals],
        "screens": screens,
    }


def read_device_signals(
    screens: Screens | None = None,
    *,
    camera_in_use: str | None = None,
    probe_inputs: ProbeInputs | None = None,
    cameras: list[str] | None = None,
) -> dict[str, Any]:
    """Read this computer's device signals. Blocking; from the event loop use
    ``gather_device_signals``.

    ``probe_inputs`` and ``cameras`` replace what would be read (tests, fakes);
    ``camera_in_use`` (the open camera's ``name``) is added to the camera list.
    """
    inputs = probe_inputs if probe_inputs is not None else read_probe_inputs()
    names = cameras if cameras is not None else list_camera_names()
    if camera_in_use:
        names = list(dict.fromkeys([*names, camera_in_use]))
    count = len(screens.geometries()) if screens is not None else None
    return build_device_signals(read_os_figures(), names, vm_signals(inputs), count)


async def gather_device_signals(
    screens: Screens | None = None,
    *,
    camera_in_use: str | None = None,
    probe_inputs: ProbeInputs | None = None,
    cameras: list[str] | None = None,
) -> dict[str, Any]:
    """The ``hello.client`` device summary, for the runtime: the screens are counted on the
    calling thread (Qt's list lives on the GUI thread), everything else in a worker thread."""
    count = len(screens.geometries()) if screens is not None else None
    data = await asyncio.to_thread(
        read_device_signals,
        None,
        camera_in_use=camera_in_use,
        probe_inputs=probe_inputs,
        cameras=cameras,
    )
    data["screens"] = count
    return data
