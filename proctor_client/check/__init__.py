"""The environment self-check (R10, R11): camera, microphone, operating system, screens,
virtual-machine and virtual-camera signs, and the connection to the exam server.

The UI calls ``run_environment_check(CheckSettings(...), progress)`` and shows the
``CheckReport``; the runtime calls ``gather_device_signals(...)`` for ``hello.client``.
See docs/environment-check.md.
"""

from proctor_client.check.model import (
    REQUIRED,
    CheckId,
    CheckReport,
    CheckResult,
    Phase,
    Progress,
    Status,
)
from proctor_client.check.runner import CheckSettings, ProgressCallback, run_environment_check
from proctor_client.check.system import gather_device_signals, read_device_signals

__all__ = [
    "REQUIRED",
    "CheckId",
    "CheckReport",
    "CheckResult",
    "CheckSettings",
    "Phase",
    "Progress",
    "ProgressCallback",
    "Status",
    "gather_device_signals",
    "read_device_signals",
    "run_environment_check",
]
