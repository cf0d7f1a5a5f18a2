"""The snapshot analyzer (the shell around the pure parts): runs the analysis in the vision
pool, turns each frame into conditions, feeds the attempt's tracker and writes violations
through the store (one row per lasting condition, opened then closed). When the attempt
finishes, its open violations end at the last frame that showed them (never after the finish)
and later snapshots of it raise nothing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np

from proctor_server.analysis import ViolationDraft
from proctor_server.store import Store
from proctor_server.vision.calibration import (
    Calibration,
    CalibrationTable,
    TrialSamples,
    merge,
)
from proctor_server.vision.pools import JobPool
from proctor_server.vision.worker import EmbedWhen, analyze_job, embed_job
from shared.vision.frame import FrameAnalysis
from shared.vision.quality import DEFAULT_THRESHOLDS
from shared.vision.rules import Before, Neutral, conditions
from shared.vision.tracker import Action, AttemptTracker, Close, Open

log = logging.getLogger(__name__)

IDLE_AFTER = timedelta(minutes=15)  # an attempt without frames this long is closed and dropped
IDENTITY_EVERY = 4  # a descriptor at least every 4th snapshot (2 min at the default 30 s)


@dataclass(slots=True)
class _Attempt:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaded: bool = False
    ticket: str | None = None
    mode: str = "exam"
    calibration: Calibration | None = None
    references: dict[str, list[float]] = field(default_factory=dict)
    tracker: AttemptTracker = field(default_factory=AttemptTracker)
    open_ids: dict[str, int] = field(default_factory=dict)
    previous: np.ndarray | None = None
    before: Before | None = None
    trial: TrialSamples = field(default_factory=TrialSamples)
    last_at: datetime | None = None
    embedded_box: tuple[int, int, int, int] | None = None  # where the last descriptor's face was
    since_embedding: int = 0  # frames analysed since the last descriptor


class VisionAnalyzer:
    """`SnapshotAnalyzer` with faces. Snapshots of one attempt are analysed in order."""

    def __init__(self, store: Store, pool: JobPool, calibrations: CalibrationTable):
        self.store = store
        self.pool = pool
        self.calibrations = calibrations
        self._attempts: dict[str, _Attempt] = {}
        self._finished: set[str] = set()  # attempts that ended: their snapshots raise nothing
        self._closed = False

    async def analyze(
        self, attempt_id: str, snapshot_id: str, jpeg: bytes, at: datetime
    ) -> list[ViolationDraft]:
        if self._closed or attempt_id in self._finished:
            return []
        await self._drop_idle(at)
        state = self._attempts.setdefault(attempt_id, _Attempt())
        async with state.lock:
            if not state.loaded:
                await self._load(attempt_id, state)
            thresholds = (
                state.calibration.thresholds
                if state.calibration is not None
                else DEFAULT_THRESHOLDS
            )
            frame = await self.pool.run(
                analyze_job, jpeg, thresholds, state.previous, self._embed_when(state)
            )
            state.last_at = at
            if frame is None:
                log.warning("snapshot %s of %s is not an image", snapshot_id, attempt_id)
                return []
            state.previous = frame.signature
            counted = [f for f in frame.faces if f.counted]
            if frame.embedding is not None and counted:
                state.embedded_box, state.since_embedding = counted[0].box, 0
            else:
                state.since_embedding += 1
            if state.mode == "trial":
                await self._calibrate_trial(attempt_id, state, frame_at=at, frame=frame)
            neutral = state.calibration.neutral if state.calibration is not None else Neutral()
            active, unknown = conditions(frame, neutral, state.references, state.before)
            state.before = Before.of(frame)
            actions = state.tracker.observe(at, snapshot_id, active, unknown)
            return await self._apply(attempt_id, state, actions)

    def _embed_when(self, state: _Attempt) -> EmbedWhen | bool:
        """Descriptors cost 120–250 ms: take one when the face moved or the count changed,
        while an identity doubt is being confirmed, and at least every `IDENTITY_EVERY`."""
        if not state.references:
            return False
        due = state.since_embedding + 1 >= IDENTITY_EVERY
        doubt = state.tracker.running("identity_mismatch")
        return EmbedWhen(always=due or doubt, box=state.embedded_box)

    async def _load(self, attempt_id: str, state: _Attempt) -> None:
        """The attempt's ticket, calibration and reference descriptors (once)."""
        state.loaded = True
        attempt = await self.store.get_attempt(attempt_id)
        if attempt is not None:
            state.ticket, state.mode = attempt.ticket, attempt.mode
        own = await self.calibrations.get(attempt_id)
        trial = (
            await self.calibrations.trial_of_ticket(state.ticket)
            if state.ticket is not None and state.mode == "exam"
            else None
        )
        state.calibration = merge(own if own is not None and own.source != "trial" else None, trial)
        if own is not None and own.embedding:
            state.references["identity"] = own.embedding
        if state.ticket is not None:
            ticket = await self.store.get_ticket(state.ticket)
            if ticket is not None and ticket.reference_photo:
                try:
                    loop = asyncio.get_running_loop()
                    data = await loop.run_in_executor(
                        None, self.store.blobs.read, ticket.reference_photo
                    )
                except OSError as exc:
                    log.warning("reference photo of %s unreadable: %s", state.ticket, exc)
                    data = None
                descriptor = await self.pool.run(embed_job, data) if data else None
                if descriptor is not None:
                    state.references["reference"] = descriptor

    async def _calibrate_trial(
        self, attempt_id: str, state: _Attempt, frame_at: datetime, frame: FrameAnalysis
    ) -> None:
        state.trial.add(frame)
        cal = state.trial.calibration()
        if cal is not None:
            await self.calibrations.put(attempt_id, state.ticket, cal, frame_at)

    async def _apply(
        self, attempt_id: str, state: _Attempt, actions: list[Action]
    ) -> list[ViolationDraft]:
        drafts: list[ViolationDraft] = []
        for action in actions:
            if isinstance(action, Open):
                violation_id = await self.store.add_violation(
                    attempt_id,
                    action.kind,
                    "server",
                    action.started_at,
                    confidence=action.confidence,
                    evidence=action.evidence,
                )
                state.open_ids[action.kind] = violation_id
                drafts.append(
                    ViolationDraft(
                        action.kind, action.confidence, action.started_at, None, action.evidence
                    )
                )
            elif isinstance(action, Close):
                violation_id = state.open_ids.pop(action.kind, -1)
                if violation_id >= 0:
                    await self.store.end_violation(violation_id, action.ended_at, action.evidence)
        return drafts

    async def _drop_idle(self, now: datetime) -> None:
        for attempt_id, state in list(self._attempts.items()):
            if state.last_at is not None and now - state.last_at > IDLE_AFTER:
                if not state.lock.locked():
                    del self._attempts[attempt_id]
                    await self._apply(attempt_id, state, state.tracker.finish_all())

    async def finish(self, attempt_id: str, at: datetime) -> None:
        """The attempt finished at `at`: close its open violations at the last frame that
        showed them (never after `at`) and forget it."""
        self._finished.add(attempt_id)
        await self._end(attempt_id, at)

    async def _end(self, attempt_id: str, at: datetime | None) -> None:
        state = self._attempts.pop(attempt_id, None)
        if state is not None:
            async with state.lock:
                actions = [
                    replace(a, ended_at=min(a.ended_at, at))
                    if isinstance(a, Close) and at is not None
                    else a
                    for a in state.tracker.finish_all()
                ]
                await self._apply(attempt_id, state, actions)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for attempt_id in list(self._attempts):
            try:
                await self._end(attempt_id, None)
            except RuntimeError as exc:  # the store closed first
                log.warning("could not close violations of %s: %s", attempt_id, exc)
        await self.pool.close()
        await self.calibrations.close()
