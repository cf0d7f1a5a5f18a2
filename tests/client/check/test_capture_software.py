"""Screen-recording, remote-desktop and screen-sharing software: the matcher on names, and
the reader on this machine's real process list."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proctor_client.check.capture_software import (
    find_capture_software,
    read_capture_software,
    running_process_names,
)


@pytest.mark.parametrize(
    ("names", "found"),
    [
        ([], {}),
        (["bash", "python3", "Xorg"], {}),
        (["obs64.exe", "explorer.exe"], {"screen_recording": ["obs64"]}),
        (["C:\\Program Files\\AnyDesk\\AnyDesk.exe"], {"remote_desktop": ["anydesk"]}),
        (["/Applications/zoom.us.app"], {"screen_sharing": ["zoom.us"]}),
        (
            ["TeamViewer", "obs", "wemeetapp", "Discord"],
            {
                "screen_recording": ["obs"],
                "remote_desktop": ["teamviewer"],
                "screen_sharing": ["discord", "wemeetapp"],
            },
        ),
        (["obsidian", "zoomer", "teamsync"], {}),  # whole names only
    ],
)
def test_find_capture_software(names: list[str], found: dict[str, list[str]]) -> None:
    assert find_capture_software(names) == found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_running_recorder_is_seen_in_the_real_process_list(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    recorder = tmp_path / "obs"  # a program named like OBS Studio's binary
    shutil.copy(sleep, recorder)
    process = subprocess.Popen([str(recorder), "30"])
    try:
        assert "obs" in running_process_names()
        assert read_capture_software()["capture_software"] == {"screen_recording": ["obs"]}
    finally:
        process.kill()
        process.wait()
    assert "capture_software" in read_capture_software()
