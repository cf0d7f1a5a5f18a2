"""Each candidate's neutral head pose and lighting, measured on the identity photo and during
the trial exam; that candidate's thresholds start from them. Stored in `vision_calibrations`
(keyed by attempt id, findable by ticket) through a connection of its own: writes are rare."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from shared.timeutil import to_wire
from shared.vision.frame import FrameAnalysis
from shared.vision.quality import DEFAULT_THRESHOLDS, QualityThresholds
from shared.vision.rules import Neutral

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Calibration:
    source: str  # identity | trial
    yaw: float | None = None
    pitch: float | None = None
    brightness: float | None = None
    sharpness: float | None = None
    embedding: list[float] | None = None
    samples: int = 1

    @property
    def neutral(self) -> Neutral:
        return Neutral(self.yaw or 0.0, self.pitch or 0.0)

    @property
    def thresholds(self) -> QualityThresholds:
        return DEFAULT_THRESHOLDS.calibrated(self.brightness, self.sharpness)


def from_frame(frame: FrameAnalysis, source: str) -> Calibration:
    return Calibration(
        source=source,
        yaw=None if frame.pose is None else frame.pose.yaw,
        pitch=None if frame.pose is None else frame.pose.pitch,
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
        if frame.pose is None or not frame.quality.ok or frame.face_count != 1:
            return
        for values, value in (
            (self.yaw, frame.pose.yaw),
            (self.pitch, frame.pose.pitch),
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


class CalibrationTable:
    """`vision_calibrations` in the store's database file (created by the store's migration)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vision-db")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            self._conn = conn
        return self._conn

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _put(self, attempt_id: str, ticket: str | None, cal: Calibration, at: datetime) -> None:
        self._connection().execute(
            "INSERT INTO vision_calibrations VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (attempt_id) DO UPDATE SET ticket=excluded.ticket, "
            "source=excluded.source, yaw=excluded.yaw, pitch=excluded.pitch, "
            "brightness=excluded.brightness, sharpness=excluded.sharpness, "
            "embedding=excluded.embedding, samples=excluded.samples, "
            "updated_at=excluded.updated_at",
            (
                attempt_id,
                ticket,
                cal.source,
                cal.yaw,
                cal.pitch,
                cal.brightness,
                cal.sharpness,
                None if cal.embedding is None else json.dumps(cal.embedding),
                cal.samples,
                to_wire(at),
            ),
        )

    def _get(self, where: str, arg: str) -> Calibration | None:
        row = (
            self._connection()
            .execute(
                "SELECT source, yaw, pitch, brightness, sharpness, embedding, samples "
                f"FROM vision_calibrations WHERE {where} ORDER BY updated_at DESC LIMIT 1",
                (arg,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Calibration(
            source=row[0],
            yaw=row[1],
            pitch=row[2],
            brightness=row[3],
            sharpness=row[4],
            embedding=None if row[5] is None else list(json.loads(row[5])),
            samples=row[6],
        )

    async def put(
        self, attempt_id: str, ticket: str | None, cal: Calibration, at: datetime
    ) -> None:
        await self._run(self._put, attempt_id, ticket, cal, at)

    async def get(self, attempt_id: str) -> Calibration | None:
        return await self._run(self._get, "attempt_id = ?", attempt_id)

    async def trial_of_ticket(self, ticket: str) -> Calibration | None:
        """The newest trial calibration of a ticket."""
        return await self._run(self._get, "ticket = ? AND source = 'trial'", ticket)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._conn is not None:
            await self._run(self._conn.close)
        self._executor.shutdown(wait=True)
