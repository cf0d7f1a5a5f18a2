"""The programme's tables: a migration component of its own ("programme").

Never edit a released step: add one. Times are UTC ISO 8601 with a Z; days are ISO dates.
"""

from __future__ import annotations

PROGRAMME_STEPS: list[str] = [
    # 1: candidates, sittings, registrations and their history, certificates, the outbox
    """
    CREATE TABLE programme_candidates (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        id_number TEXT NOT NULL UNIQUE,
        phone TEXT NOT NULL,
        email TEXT NOT NULL,
        identity_verified_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE programme_sittings (
        month TEXT PRIMARY KEY,
        exam_date TEXT NOT NULL,
        tz TEXT NOT NULL,
        exam_id TEXT,
        tickets_issued_at TEXT,
        results_published_at TEXT
    );
    CREATE TABLE programme_registrations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        candidate_id INTEGER NOT NULL REFERENCES programme_candidates(id),
        kind TEXT NOT NULL CHECK (kind IN ('first', 'retake')),
        retake_of INTEGER REFERENCES programme_registrations(id),
        city TEXT NOT NULL,
        sitting TEXT NOT NULL REFERENCES programme_sittings(month),
        state TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        paid_at TEXT,
        refunded_at TEXT,
        deferred_from TEXT,
        deferred_at TEXT,
        exam_id TEXT,
        ticket_token TEXT,
        candidate_code TEXT,
        score INTEGER,
        max_score INTEGER,
        no_show INTEGER,
        result_at TEXT
    );
    CREATE UNIQUE INDEX programme_one_retake ON programme_registrations(retake_of)
        WHERE retake_of IS NOT NULL;
    CREATE INDEX programme_registrations_by_sitting ON programme_registrations(sitting, state);
    CREATE INDEX programme_registrations_by_candidate ON programme_registrations(candidate_id);
    CREATE TABLE programme_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        candidate_id INTEGER NOT NULL,
        registration_id INTEGER,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX programme_history_by_registration ON programme_history(registration_id);
    CREATE TABLE programme_certificates (
        number TEXT PRIMARY KEY,
        candidate_id INTEGER NOT NULL REFERENCES programme_candidates(id),
        registration_id INTEGER NOT NULL UNIQUE REFERENCES programme_registrations(id),
        exam_date TEXT NOT NULL,
        published_at TEXT NOT NULL,
        e_available_from TEXT NOT NULL,
        paper_due TEXT NOT NULL,
        paper_mailed_at TEXT,
        expires_on TEXT NOT NULL
    );
    CREATE TABLE programme_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        candidate_id INTEGER NOT NULL REFERENCES programme_candidates(id),
        registration_id INTEGER,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE programme_deliveries (
        notice_id INTEGER NOT NULL REFERENCES programme_notices(id),
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        state TEXT NOT NULL
            CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        claimed_at TEXT,
        sent_at TEXT,
        last_error TEXT,
        PRIMARY KEY (notice_id, channel)
    );
    CREATE INDEX programme_deliveries_due ON programme_deliveries(state, next_at);
    CREATE TABLE programme_site_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        notice_id INTEGER NOT NULL UNIQUE REFERENCES programme_notices(id),
        candidate_id INTEGER NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        read_at TEXT
    )
    """,
]

# The programme's migration component, passed to the store when the programme opens it.
MIGRATIONS: dict[str, list[str]] = {"programme": PROGRAMME_STEPS}
