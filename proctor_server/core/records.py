"""The server's records: exams, tickets, attempts, photos, violations. Plain data that the
pure core decides over and every store reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.questions import Question
from shared.rules import ExamWindow
from shared.shuffle import PaperOrder
from shared.states import AttemptState
from shared.vocabulary import Mode, Source, ViolationKind, WarningLimitAction


@dataclass(frozen=True, slots=True)
class ExamRecord:
    id: str
    title: str
    starts_at: datetime
    duration: timedelta
    questions: list[Question]
    trial_questions: list[Question]
    pass_score: int
    snapshot_interval_s: int = 30
    warning_limit: int | None = 3
    created_at: datetime | None = None
    on_warning_limit: WarningLimitAction = WarningLimitAction.ALERT
    retention_days: int = 365  # evidence and personal fields are purged this long after the end

    @property
    def window(self) -> ExamWindow:
        return ExamWindow(self.starts_at, self.duration)


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """An admission ticket, or a trial pass. `token` is the ticket's key (`ticket_key`, its
    SHA-256): the store never holds the raw ticket."""

    token: str
    exam_id: str
    candidate_code: str
    name: str
    email: str | None = None
    phone: str | None = None
    reference_photo: str | None = None  # path under the data dir
    revoked: bool = False
    trial_only: bool = False  # a trial pass (R12): the trial, never the exam


@dataclass(slots=True)
class AttemptRecord:
    id: str
    exam_id: str
    ticket: str
    mode: Mode
    state: AttemptState
    seed: str
    order: PaperOrder
    created_at: datetime
    ends_at: datetime  # the deadline of this attempt (the exam's, or the trial's)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    score: int | None = None
    max_score: int | None = None
    passed: bool | None = None
    identity_accepted: bool = False
    profile_saved: bool = False
    consent_version: str | None = None  # the rules of conduct accepted (R16), once accepted
    warnings_used: int = 0


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    id: str
    attempt_id: str
    kind: str  # identity_photo | snapshot | reference
    client_id: str
    path: str
    sha256: str
    size: int
    received_at: datetime
    accepted: bool | None = None
    reasons: list[str] = field(default_factory=list)
    purged_at: datetime | None = None  # its file was removed at the end of retention


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What `purge` removed (or would remove, with `dry_run`) from one exam."""

    exam_id: str
    photos: int
    reference_photos: int
    tickets: int  # names and contact details blanked
    addresses: int  # mailing addresses removed
    dry_run: bool
    clips: int = 0  # evidence clips of live media removed
    embeddings: int = 0  # face descriptors (biometric) removed from the calibrations


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    id: int
    attempt_id: str
    kind: ViolationKind
    source: Source
    server_at: datetime
    client_at: str | None
    ended_at: datetime | None
    confidence: float
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SavedEvent:
    """What storing a client event did: whether it was new (a resend changes nothing), and the
    client-raised violations it ended (a return to the exam screen ends the open leave)."""

    new: bool
    ended: tuple[ViolationRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ClipRecord:
    """A stretch of a candidate's live audio and video kept as evidence (a WebM file): the
    seconds around violations (`kind` "violation", linked to them) or a whole stream
    (`kind` "session", when full recording is on)."""

    id: str
    attempt_id: str
    kind: str  # violation | session
    started_at: datetime
    ended_at: datetime
    path: str
    sha256: str
    size: int
    created_at: datetime
    violations: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CalibrationRecord:
    """A candidate's neutral head pose and lighting, as face analysis measured them (stored
    per attempt, findable by ticket)."""

    source: str  # identity | trial | identity+trial
    yaw: float | None = None
    pitch: float | None = None
    brightness: float | None = None
    sharpness: float | None = None
    embedding: list[float] | None = None
    samples: int = 1


class ProctorRole(StrEnum):
    """A proctor follows the one exam they were added to; a chief follows every exam."""

    PROCTOR = "proctor"
    CHIEF = "chief"


@dataclass(frozen=True, slots=True)
class ProctorRecord:
    """A member of staff who signs in to the console (the token is kept only as a hash)."""

    id: str
    name: str
    role: ProctorRole
    exam_id: str | None  # None for a chief
    created_at: datetime
    revoked_at: datetime | None = None

    def sees(self, exam_id: str) -> bool:
        """Whether this proctor may follow and act on `exam_id`."""
        if self.revoked_at is not None:
            return False
        return self.role is ProctorRole.CHIEF or self.exam_id == exam_id
