"""The programme's rows and records: each table's column list, and the mapping of a row (read
by column name) to its record (`core.programme_records`)."""

from __future__ import annotations

from datetime import date

from proctor_server.core.programme_records import Candidate, Certificate, Registration
from proctor_server.store.sealing import Fields
from proctor_server.store.sql import rows
from shared.programme_rules import Kind, RegState
from shared.timeutil import from_wire

CANDIDATE = ("id", "name", "id_number", "phone", "email")
REGISTRATION = (
    "id",
    "candidate_id",
    "kind",
    "retake_of",
    "city",
    "sitting",
    "state",
    "registered_at",
    "paid_at",
    "refunded_at",
    "deferred_from",
    "exam_id",
    "ticket_token",
    "candidate_code",
    "score",
    "max_score",
    "no_show",
    "result_at",
)
CERTIFICATE = (
    "number",
    "candidate_id",
    "registration_id",
    "exam_date",
    "published_at",
    "e_available_from",
    "paper_due",
    "expires_on",
    "paper_mailed_at",
)
CANDIDATE_SQL = f"SELECT {rows.columns(CANDIDATE)} FROM programme_candidates"
REGISTRATION_SQL = f"SELECT {rows.columns(REGISTRATION)} FROM programme_registrations"
HELD_SQL = (
    "SELECT "
    + ", ".join(f"c.{name}" for name in CERTIFICATE)
    + ", p.id AS holder_id, p.name, p.id_number, p.phone, p.email "
    "FROM programme_certificates c JOIN programme_candidates p ON p.id = c.candidate_id"
)


def candidate(r: rows.Row, fields: Fields, id_column: str = "id") -> Candidate:
    """A candidate, name and contacts opened (sealed by identity number: `personal.py`)."""
    key = (r["id_number"],)
    name, phone, email = (
        fields.text(r[c], "programme_candidates", c, key) for c in ("name", "phone", "email")
    )
    return Candidate(r[id_column], name, r["id_number"], phone, email)


def registration(r: rows.Row) -> Registration:
    return Registration(
        id=r["id"],
        candidate_id=r["candidate_id"],
        kind=Kind(r["kind"]),
        retake_of=r["retake_of"],
        city=r["city"],
        sitting=r["sitting"],
        state=RegState(r["state"]),
        registered_at=from_wire(r["registered_at"]),
        paid_at=rows.dt(r["paid_at"]),
        refunded_at=rows.dt(r["refunded_at"]),
        deferred_from=r["deferred_from"],
        exam_id=r["exam_id"],
        ticket_token=r["ticket_token"],
        candidate_code=r["candidate_code"],
        score=r["score"],
        max_score=r["max_score"],
        no_show=None if r["no_show"] is None else bool(r["no_show"]),
        result_at=rows.dt(r["result_at"]),
    )


def certificate(r: rows.Row) -> Certificate:
    return Certificate(
        number=r["number"],
        candidate_id=r["candidate_id"],
        registration_id=r["registration_id"],
        exam_date=date.fromisoformat(r["exam_date"]),
        published_at=from_wire(r["published_at"]),
        e_available_from=from_wire(r["e_available_from"]),
        paper_due=from_wire(r["paper_due"]),
        expires_on=date.fromisoformat(r["expires_on"]),
        paper_mailed_at=rows.dt(r["paper_mailed_at"]),
    )
