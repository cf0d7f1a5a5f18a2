"""What the GUI says about its devices: the hello carries the figures its own check reads, and
the window asks to be kept out of screen captures (and says what the system answered)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from proctor_client.runtime.model import Mode
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.ui.app import make_runtime_factory
from proctor_client.ui.capture_guard import EXCLUDED, exclude_from_capture
from proctor_client.ui.main_window import MainWindow


def test_the_hello_carries_the_device_figures_last_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCTOR_CLIENT_HOME", str(tmp_path))
    figures = {"vm_signals": [{"signal": "dmi.sys_vendor", "value": "QEMU"}], "screens": 2}
    runtime = make_runtime_factory(None, lambda: figures)("http://127.0.0.1:9", "T", Mode.EXAM)
    assert isinstance(runtime, ExamRuntime)
    assert runtime.client_info["vm_signals"] == figures["vm_signals"]
    assert runtime.client_info["screens"] == 2 and runtime.client_info["app"]


def test_the_window_asks_to_be_kept_out_of_captures(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    status = exclude_from_capture(widget)
    if sys.platform in ("win32", "darwin"):
        assert status == EXCLUDED
    else:
        assert status == f"unsupported on {sys.platform}"  # said, not hidden


async def test_the_window_reads_its_figures_with_the_capture_status(qtbot: QtBot) -> None:
    async def source() -> dict[str, Any]:
        return {"screens": 1, "capture_exclusion": window.capture_exclusion}

    window = MainWindow(device_signals=source)
    qtbot.addWidget(window)
    window.show()
    figures = await window.read_device_figures()
    assert figures["capture_exclusion"] == window.capture_exclusion != ""
    assert window.device_figures == figures
