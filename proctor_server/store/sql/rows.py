"""Rows to records and back: each table's column list, and the mapping of a row (read by
column name) to its record. Every query names its columns; none selects `*`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import msgspec

from proctor_server.core.audit import AuditEntry
from proctor_server.core.records import (
    AttemptRecord,
    CalibrationRecord,
    ExamRecord,
    PhotoRecord,
    ProctorRecord,
    ProctorRole,
    TicketRecord,
    ViolationRecord,
)
from proctor_server.store.sealing import Fields
from proctor_server.store.sql import connection
from shared.protocol import WarningLimitAction
from shared.questions import Question, parse_bank
from shared.shuffle import PaperOrder, compact
from shared.states import AttemptState
from shared.timeutil import from_wire, to_wire
from shared.vocabulary import Mode, Source, ViolationKind

Row = connection.Row


def t(moment: datetime | None) -> str | None:
    """A moment as stored (UTC ISO 8601 with a Z), or NULL."""
    return None if moment is None else to_wire(moment)


def dt(text: str | None) -> datetime | None:
    return None if text is None else from_wire(text)


def columns(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def marks(names: tuple[str, ...]) -> str:
    return ",".join("?" * len(names))


def _bank(text: str) -> list[Question]:
    return parse_bank(text, source="stored bank")


EXAM = (
    "id",
    "title",
    "starts_at",
    "duration_s",
    "questions",
    "trial_questions",
    "pass_score",
    "snapshot_interval_s",
    "warning_limit",
    "created_at",
    "on_warning_limit",
    "retention_days",
)


def exam(r: Row) -> ExamRecord:
    return ExamRecord(
        id=r["id"],
        title=r["title"],
        starts_at=from_wire(r["starts_at"]),
        duration=timedelta(seconds=r["duration_s"]),
        questions=_bank(r["questions"]),
        trial_questions=_bank(r["trial_questions"]),
        pass_score=r["pass_score"],
        snapshot_interval_s=r["snapshot_interval_s"],
        warning_limit=r["warning_limit"],
        created_at=from_wire(r["created_at"]),
        on_warning_limit=WarningLimitAction(r["on_warning_limit"]),
        retention_days=r["retention_days"],
    )


TICKET = (
    "token",
    "exam_id",
    "candidate_code",
    "name",
    "email",
    "phone",
    "reference_photo",
    "revoked",
    "trial_only",
)


def ticket(r: Row, fields: Fields) -> TicketRecord:
    """A ticket, its name and contacts opened (`personal.py`: sealed by exam and code)."""
    key = (r["exam_id"], r["candidate_code"])
    return TicketRecord(
        token=r["token"],
        exam_id=r["exam_id"],
        candidate_code=r["candidate_code"],
        name=fields.text(r["name"], "tickets", "name", key),
        email=fields.open(r["email"], "tickets", "email", key),
        phone=fields.open(r["phone"], "tickets", "phone", key),
        reference_photo=r["reference_photo"],
        revoked=bool(r["revoked"]),
        trial_only=bool(r["trial_only"]),
    )


ATTEMPT = (
    "id",
    "exam_id",
    "ticket",
    "mode",
    "state",
    "seed",
    "paper_order",
    "created_at",
    "ends_at",
    "started_at",
    "finished_at",
    "score",
    "max_score",
    "passed",
    "identity_accepted",
    "profile_saved",
    "warnings_used",
    "consent_version",
)


def attempt(r: Row) -> AttemptRecord:
    return AttemptRecord(
        id=r["id"],
        exam_id=r["exam_id"],
        ticket=r["ticket"],
        mode=Mode(r["mode"]),
        state=AttemptState(r["state"]),
        seed=r["seed"],
        order=compact(msgspec.json.decode(r["paper_order"], type=PaperOrder)),
        created_at=from_wire(r["created_at"]),
        ends_at=from_wire(r["ends_at"]),
        started_at=dt(r["started_at"]),
        finished_at=dt(r["finished_at"]),
        score=r["score"],
        max_score=r["max_score"],
        passed=None if r["passed"] is None else bool(r["passed"]),
        identity_accepted=bool(r["identity_accepted"]),
        profile_saved=bool(r["profile_saved"]),
        warnings_used=r["warnings_used"],
        consent_version=r["consent_version"],
    )


def attempt_values(a: AttemptRecord) -> tuple[object, ...]:
    """An attempt's values in `ATTEMPT` order (plain strings: the driver adapts an enum
    member on every bind)."""
    return (
        a.id,
        a.exam_id,
        a.ticket,
        a.mode.value,
        a.state.value,
        a.seed,
        msgspec.json.encode(a.order).decode(),
        to_wire(a.created_at),
        to_wire(a.ends_at),
        t(a.started_at),
        t(a.finished_at),
        a.score,
        a.max_score,
        a.passed,
        int(a.identity_accepted),
        int(a.profile_saved),
        a.warnings_used,
        a.consent_version,
    )


PHOTO = (
    "id",
    "attempt_id",
    "kind",
    "client_id",
    "path",
    "sha256",
    "size",
    "received_at",
    "accepted",
    "reasons",
)


PHOTO_READ = (*PHOTO, "purged_at")


def photo(r: Row) -> PhotoRecord:
    return PhotoRecord(
        id=r["id"],
        attempt_id=r["attempt_id"],
        kind=r["kind"],
        client_id=r["client_id"],
        path=r["path"],
        sha256=r["sha256"],
        size=r["size"],
        received_at=from_wire(r["received_at"]),
        accepted=None if r["accepted"] is None else bool(r["accepted"]),
        reasons=list(json.loads(r["reasons"])),
        purged_at=dt(r["purged_at"]) if "purged_at" in r.keys() else None,
    )


VIOLATION = (
    "id",
    "attempt_id",
    "kind",
    "source",
    "server_at",
    "client_at",
    "ended_at",
    "confidence",
    "evidence",
)


def violation(r: Row) -> ViolationRecord:
    return ViolationRecord(
        id=r["id"],
        attempt_id=r["attempt_id"],
        kind=ViolationKind(r["kind"]),
        source=Source(r["source"]),
        server_at=from_wire(r["server_at"]),
        client_at=r["client_at"],
        ended_at=dt(r["ended_at"]),
        confidence=r["confidence"],
        evidence=json.loads(r["evidence"]),
    )


CALIBRATION = (
    "attempt_id",
    "source",
    "yaw",
    "pitch",
    "brightness",
    "sharpness",
    "embedding",
    "samples",
)


def calibration(r: Row, fields: Fields) -> CalibrationRecord:
    embedding = fields.open(r["embedding"], "vision_calibrations", "embedding", (r["attempt_id"],))
    return CalibrationRecord(
        source=r["source"],
        yaw=r["yaw"],
        pitch=r["pitch"],
        brightness=r["brightness"],
        sharpness=r["sharpness"],
        embedding=None if embedding is None else list(json.loads(embedding)),
        samples=r["samples"],
    )


PROCTOR = ("id", "name", "role", "exam_id", "created_at", "revoked_at")


def proctor(r: Row) -> ProctorRecord:
    return ProctorRecord(
        id=r["id"],
        name=r["name"],
        role=ProctorRole(r["role"]),
        exam_id=r["exam_id"],
        created_at=from_wire(r["created_at"]),
        revoked_at=dt(r["revoked_at"]),
    )


AUDIT = ("chain", "seq", "at", "actor", "action", "detail", "prev_hash", "hash")


def audit_entry(r: Row) -> AuditEntry:
    return AuditEntry(
        chain=r["chain"] if r["chain"] is not None else "",
        seq=r["seq"] if r["seq"] is not None else 0,
        at=r["at"],
        actor=r["actor"],
        action=r["action"],
        detail=json.loads(r["detail"]),
        prev_hash=r["prev_hash"] or "",
        hash=r["hash"] or "",
    )
