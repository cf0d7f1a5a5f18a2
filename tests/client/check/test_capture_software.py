"""Screen-recording, remote-desktop and screen-sharing software: the matcher on names, and
the reader on this machine's real process list."""

from __future__ import annotations

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
    # A program named like OBS Studio's binary. A script, so that it can say when it runs: the
    # kernel names the process after the script's file, and the test reads the list only once
    # the program has announced itself (and so is running under that name).
    recorder = tmp_path / "obs"
    recorder.write_text("#!/bin/sh\necho running\nread line\n")
    recorder.chmod(0o755)
    process = subprocess.Popen(
        [str(recorder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        assert process.stdout.readline() == "running\n"
        assert "obs" in running_process_names()
        assert read_capture_software()["capture_software"] == {"screen_recording": ["obs"]}
    finally:
        process.stdin.close()
        process.wait()
    assert "capture_software" in read_capture_software()
