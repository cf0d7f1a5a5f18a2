"""The environment check's result model: plain values the CLI prints and the UI shows.

Every check has a stable ``id`` and every piece of advice a stable ``advice_key`` so the UI can
translate by (id, status) or advice_key; the English ``message`` and ``advice`` are the
defaults. ``required`` marks checks whose failure makes the whole check fail; a warning never
does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


class CheckId(StrEnum):
    CAMERA = "camera"
    MICROPHONE = "microphone"
    OS = "os"
    DOWNLOAD = "download"
    UPLOAD = "upload"
    LATENCY = "latency"
    CLOCK = "clock"
    SCREENS = "screens"
    VIRTUAL_CAMERA = "virtual_camera"
    VIRTUAL_MACHINE = "virtual_machine"
    LIVE_MEDIA = "live_media"


TITLES: dict[CheckId, str] = {
    CheckId.CAMERA: "Camera",
    CheckId.MICROPHONE: "Microphone",
    CheckId.OS: "Operating system",
    CheckId.DOWNLOAD: "Download speed",
    CheckId.UPLOAD: "Upload speed",
    CheckId.LATENCY: "Connection to the exam server",
    CheckId.CLOCK: "Computer clock",
    CheckId.SCREENS: "Screens",
    CheckId.VIRTUAL_CAMERA: "Virtual cameras",
    CheckId.VIRTUAL_MACHINE: "Virtual machine",
    CheckId.LIVE_MEDIA: "Live video to the exam server",
}

# Checks whose failure fails the whole check (R10, R11 and the exam's integrity rules).
# The clock is advice only: the server owns exam time. Live media is advice too: the exam goes
# on without it (snapshots keep flowing), but the candidate should fix it before exam day.
REQUIRED: frozenset[CheckId] = frozenset(CheckId) - {CheckId.CLOCK, CheckId.LIVE_MEDIA}

# The order the screen and the JSON list them in.
ORDER: tuple[CheckId, ...] = (
    CheckId.OS,
    CheckId.CAMERA,
    CheckId.VIRTUAL_CAMERA,
    CheckId.MICROPHONE,
    CheckId.SCREENS,
    CheckId.VIRTUAL_MACHINE,
    CheckId.LATENCY,
    CheckId.DOWNLOAD,
    CheckId.UPLOAD,
    CheckId.LIVE_MEDIA,
    CheckId.CLOCK,
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: CheckId
    status: Status
    figure: float | int | str | None  # what was measured, in ``unit``; None when unmeasured
    unit: str
    message: str  # what was found, in English
    advice: str = ""  # what to do about it, in English ("" when nothing)
    advice_key: str = ""  # stable key for the advice ("" when nothing)
    details: dict[str, Any] = field(default_factory=dict)  # further figures, JSON-safe

    @property
    def required(self) -> bool:
        return self.id in REQUIRED

    @property
    def title(self) -> str:
        return TITLES[self.id]

    @property
    def blocks(self) -> bool:
        """True when this result makes the whole check fail."""
        return self.required and self.status is Status.FAIL

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "title": self.title,
            "status": str(self.status),
            "required": self.required,
            "figure": self.figure,
            "unit": self.unit,
            "message": self.message,
            "advice": self.advice,
            "advice_key": self.advice_key,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    checks: tuple[CheckResult, ...]
    elapsed_s: float = 0.0
    # The device signals for ``hello.client`` (os, cameras, virtual_cameras, vm_signals,
    # screens), gathered on the way.
    device: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(result.blocks for result in self.checks)

    def get(self, check: CheckId) -> CheckResult | None:
        return next((result for result in self.checks if result.id == check), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "elapsed_s": round(self.elapsed_s, 3),
            "checks": [result.to_json() for result in self.checks],
            "device": self.device,
        }


def sort_results(results: list[CheckResult]) -> tuple[CheckResult, ...]:
    return tuple(sorted(results, key=lambda result: ORDER.index(result.id)))


class Phase(StrEnum):
    STARTED = "started"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a running check, for a progress display.

    ``STARTED`` comes once per check as it begins (``result`` is None); ``FINISHED`` once as it
    ends, with its result. ``done`` of ``total`` checks have finished.
    """

    check: CheckId
    phase: Phase
    done: int
    total: int
    result: CheckResult | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0
