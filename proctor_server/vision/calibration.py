"""Each candidate's neutral direction of gaze (head pose plus eyes) and lighting, measured on the identity photo and during
the trial exam; that candidate's thresholds start from them. Kept by the store behind the
`CalibrationStore` port (keyed by attempt id, findable by ticket)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from proctor_server.core.records import CalibrationRecord
from shared.vision.frame import FrameAnalysis
from shared.vision.quality import DEFAULT_THRESHOLDS, QualityThresholds
from shared.vision.rules import Neutral


@dataclass(frozen=True, slots=True)
class Calibration(CalibrationRecord):
    """A calibration record with what analysis derives from it."""

    @property
    def neutral(self) -> Neutral:
        return Neutral(self.yaw or 0.0, self.pitch or 0.0)

    @property
    def thresholds(self) -> QualityThresholds:
        return DEFAULT_THRESHOLDS.calibrated(self.brightness, self.sharpness)


def direction(frame: FrameAnalysis) -> tuple[float, float] | None:
    """Where the candidate looks in a frame (yaw, pitch): the gaze when the eyes were measured,
    else the head pose. The neutral direction is calibrated on this, so that a candidate whose
    camera sits beside or below the screen, and whose eyes rest a little up or down, is judged
    from their own way of looking at the screen."""
    if frame.gaze is not None and frame.gaze.eyes > 0:
        return frame.gaze.yaw, frame.gaze.pitch
    if frame.pose is not None:
        return frame.pose.yaw, frame.pose.pitch
    return None


def from_frame(frame: FrameAnalysis, source: str) -> Calibration:
    looks = direction(frame)
    return Calibration(
        source=source,
        yaw=None if looks is None else looks[0],
        pitch=None if looks is None else looks[1],
        brightness=frame.quality.brightness,
        sharpness=frame.quality.sharpness,
        embedding=frame.embedding,
    )


@dataclass(slots=True)
class TrialSamples:
    """Good frames seen during a trial exam; their medians are the calibration."""

    yaw: list[float] = field(default_factory=list)
    pitch: list[float] = field(default_factory=list)
    brightness: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)

    def add(self, frame: FrameAnalysis) -> None:
        looks = direction(frame)
        if looks is None or not frame.quality.ok or frame.face_count != 1:
            return
        for values, value in (
            (self.yaw, looks[0]),
            (self.pitch, looks[1]),
            (self.brightness, frame.quality.brightness),
            (self.sharpness, frame.quality.sharpness),
        ):
            values.append(value)
            del values[:-50]

    def calibration(self) -> Calibration | None:
        if not self.yaw:
            return None
        return Calibration(
            source="trial",
            yaw=statistics.median(self.yaw),
            pitch=statistics.median(self.pitch),
            brightness=statistics.median(self.brightness),
            sharpness=statistics.median(self.sharpness),
            samples=len(self.yaw),
        )


def merge(identity: Calibration | None, trial: Calibration | None) -> Calibration | None:
    """The attempt's own identity photo wins for the face; the trial's many frames give a
    steadier neutral pose when there are enough of them."""
    if identity is None:
        return trial
    if trial is None or trial.samples < 3:
        return identity
    return Calibration(
        source="identity+trial",
        yaw=trial.yaw,
        pitch=trial.pitch,
        brightness=min(v for v in (identity.brightness, trial.brightness) if v is not None)
        if identity.brightness is not None or trial.brightness is not None
        else None,
        sharpness=trial.sharpness if trial.sharpness is not None else identity.sharpness,
        embedding=identity.embedding,
        samples=trial.samples,
    )


@runtime_checkable
class CalibrationStore(Protocol):
    """What calibrations need from the store: one per attempt, the newest trial's per ticket."""

    async def put_calibration(
        self, attempt_id: str, ticket: str | None, cal: CalibrationRecord, at: datetime
    ) -> None: ...
    async def calibration(self, attempt_id: str) -> CalibrationRecord | None: ...
    async def trial_calibration(self, ticket: str) -> CalibrationRecord | None: ...


def _calibration(record: CalibrationRecord | None) -> Calibration | None:
    if record is None or isinstance(record, Calibration):
        return record
    return Calibration(
        source=record.source,
        yaw=record.yaw,
        pitch=record.pitch,
        brightness=record.brightness,
        sharpness=record.sharpness,
        embedding=record.embedding,
        samples=record.samples,
    )


class CalibrationTable:
    """The analysis's calibrations, kept by the store (`CalibrationStore`)."""

    def __init__(self, store: CalibrationStore):
        self.store = store

    async def put(
        self, attempt_id: str, ticket: str | None, cal: Calibration, at: datetime
    ) -> None:
        await self.store.put_calibration(attempt_id, ticket, cal, at)

    async def get(self, attempt_id: str) -> Calibration | None:
        return _calibration(await self.store.calibration(attempt_id))

    async def trial_of_ticket(self, ticket: str) -> Calibration | None:
        """The newest trial calibration of a ticket."""
        return _calibration(await self.store.trial_calibration(ticket))

    async def close(self) -> None:
        """Nothing of its own to close: the store's owner closes the store."""
