"""Import rules: the check and the devices stay free of Qt; the evaluation core stays free of I/O."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in out.stdout.split()}


@pytest.mark.parametrize(
    "module",
    ["proctor_client.check.command", "proctor_client.check.runner", "proctor_client.devices"],
)
def test_no_qt(module: str) -> None:
    assert not imported_after(module) & {"PySide6", "shiboken6", "qasync"}


@pytest.mark.parametrize(
    "module",
    ["proctor_client.check.model", "proctor_client.check.evaluate", "proctor_client.check.probes"],
)
def test_the_evaluation_core_does_no_io(module: str) -> None:
    loaded = imported_after(module)
    assert not loaded & {"asyncio", "socket", "subprocess", "websockets", "cv2", "sqlite3"}
