"""Screen-recording, remote-desktop and screen-sharing software running on this computer:
the process names per kind, a pure matcher, and a reader of the running processes.

The lockdown browsers look for the same programs; this app does not stop them, it reports
what is running as evidence for the proctor (a `device_signal` with `capture_software`).
Reading the process list never blocks the exam: it runs in a worker thread with a timeout,
and a failure is reported as such.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Process names (lower case, without ".exe" or ".app"), per kind.
CAPTURE_PROGRAMS: dict[str, frozenset[str]] = {
    "screen_recording": frozenset(
        {
            "obs",
            "obs64",
            "obs32",
            "obs-studio",
            "bandicam",
            "bdcam",
            "camtasia",
            "camrec",
            "camtasiastudio",
            "fraps",
            "sharex",
            "simplescreenrecorder",
            "kazam",
            "vokoscreen",
            "vokoscreenng",
            "recordmydesktop",
            "gtk-recordmydesktop",
            "peek",
            "kooha",
            "screenflow",
            "snagit32",
            "snagiteditor",
            "snagit",
            "xsplit.core",
            "screencast-o-matic",
            "loom",
            "apowerrec",
            "evcapture",
            "ffmpeg",
        }
    ),
    "remote_desktop": frozenset(
        {
            "teamviewer",
            "teamviewer_service",
            "anydesk",
            "rustdesk",
            "mstsc",
            "rdpclip",
            "vncviewer",
            "vncserver",
            "x11vnc",
            "xvnc",
            "winvnc",
            "tvnserver",
            "xrdp",
            "remoting_host",
            "chrome-remote-desktop-host",
            "splashtop",
            "srserver",
            "parsecd",
            "sunloginclient",
            "todesk",
            "awesun",
            "nomachine",
            "nxserver",
            "remotepc",
            "logmein",
        }
    ),
    "screen_sharing": frozenset(
        {
            "zoom",
            "zoom.us",
            "teams",
            "ms-teams",
            "skype",
            "discord",
            "webex",
            "ciscowebexstart",
            "gotomeeting",
            "wemeetapp",
            "wemeet",
            "tencentmeeting",
            "dingtalk",
            "feishu",
            "lark",
            "facetime",
        }
    ),
}
LIST_TIMEOUT_S = 5.0


def normalise(name: str) -> str:
    base = name.strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    for suffix in (".exe", ".app"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


def find_capture_software(process_names: list[str]) -> dict[str, list[str]]:
    """The running programs of each kind (pure): {kind: [names]}, kinds with none left out."""
    running = {normalise(n) for n in process_names if n.strip()}
    found: dict[str, list[str]] = {}
    for kind, programs in CAPTURE_PROGRAMS.items():
        names = sorted(running & programs)
        if names:
            found[kind] = names
    return found


def running_process_names(proc: Path = Path("/proc")) -> list[str]:
    """The names of the processes running now. Blocking; OSError when they cannot be read."""
    if sys.platform.startswith("linux") and proc.is_dir():
        names = []
        for entry in proc.iterdir():
            if entry.name.isdigit():
                try:
                    names.append((entry / "comm").read_text().strip())
                except OSError:
                    continue  # the process ended meanwhile, or is not ours to read
        return names
    if sys.platform == "win32":
        out = _run(["tasklist", "/fo", "csv", "/nh"])
        return [line.split('","')[0].strip('"') for line in out.splitlines() if line]
    out = _run(["ps", "-axo", "comm="])  # macOS and other Unix
    return [line.strip() for line in out.splitlines() if line.strip()]


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT_S,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except (subprocess.SubprocessError, FileNotFoundError) as exc:
        raise OSError(f"{command[0]}: {exc}") from None
    return done.stdout


def read_capture_software() -> dict[str, object]:
    """`{"capture_software": {kind: [names]}}`, or `{"capture_software_error": why}`."""
    try:
        return {"capture_software": find_capture_software(running_process_names())}
    except OSError as exc:
        return {"capture_software_error": str(exc)}
