"""Versioned schema migrations, one list of steps per component.

Each component records its own version in `schema_versions`, so components add tables without
renumbering each other. A step is SQL run once, in order, inside the migration transaction.
Never edit a released step: add one.

The store's own components are here: "core" (exams, tickets, attempts and what they record)
and "vision" (face analysis's calibrations, which the store keeps behind `CalibrationStore`).
The steps are written in SQLite's SQL; PostgreSQL runs the same steps translated
(`postgres.schema`) and records them in the same `schema_versions`.
A feature that keeps tables of its own declares its steps in its own package and passes them
to the store when it opens it (`SqliteStore(path, components={"programme": STEPS})`); this module
imports no feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proctor_server.core.console import token_hash
from proctor_server.core.session import ticket_key
from proctor_server.store.sql.connection import SQLITE, Dialect

CORE: list[str] = [
    # 1: the exam day
    """
    CREATE TABLE exams (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        duration_s REAL NOT NULL,
        questions TEXT NOT NULL,
        trial_questions TEXT NOT NULL,
        pass_score INTEGER NOT NULL,
        snapshot_interval_s INTEGER NOT NULL,
        warning_limit INTEGER,
        created_at TEXT NOT NULL
    );
    CREATE TABLE tickets (
        token TEXT PRIMARY KEY,
        exam_id TEXT NOT NULL REFERENCES exams(id),
        candidate_code TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT,
        phone TEXT,
        reference_photo TEXT,
        revoked INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        UNIQUE (exam_id, candidate_code)
    );
    CREATE TABLE proctor_tokens (
        token TEXT PRIMARY KEY,
        exam_id TEXT NOT NULL REFERENCES exams(id),
        created_at TEXT NOT NULL
    );
    CREATE TABLE attempts (
        id TEXT PRIMARY KEY,
        exam_id TEXT NOT NULL REFERENCES exams(id),
        ticket TEXT NOT NULL REFERENCES tickets(token),
        mode TEXT NOT NULL CHECK (mode IN ('exam', 'trial')),
        state TEXT NOT NULL,
        seed TEXT NOT NULL,
        paper_order TEXT NOT NULL,
        created_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        score INTEGER,
        max_score INTEGER,
        passed INTEGER,
        identity_accepted INTEGER NOT NULL DEFAULT 0,
        profile_saved INTEGER NOT NULL DEFAULT 0,
        warnings_used INTEGER NOT NULL DEFAULT 0
    );
    -- one real attempt per ticket, trials as many as wanted
    CREATE UNIQUE INDEX attempts_one_exam_per_ticket ON attempts(ticket) WHERE mode = 'exam';
    CREATE INDEX attempts_by_exam ON attempts(exam_id, state);
    CREATE TABLE attempt_states (
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        state TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX attempt_states_by_attempt ON attempt_states(attempt_id);
    -- every client message that changed something, by its id: resends change nothing
    CREATE TABLE client_messages (
        attempt_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (attempt_id, client_id)
    );
    CREATE TABLE answers (
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        question INTEGER NOT NULL,
        choice TEXT NOT NULL,
        client_id TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (attempt_id, question)
    );
    CREATE TABLE answer_log (
        attempt_id TEXT NOT NULL,
        question INTEGER NOT NULL,
        choice TEXT NOT NULL,
        client_id TEXT NOT NULL,
        saved_at TEXT NOT NULL
    );
    CREATE TABLE events (
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        client_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        client_at TEXT,
        server_at TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX events_by_attempt ON events(attempt_id);
    CREATE TABLE violations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        server_at TEXT NOT NULL,
        client_at TEXT,
        ended_at TEXT,
        confidence REAL NOT NULL,
        evidence TEXT NOT NULL
    );
    CREATE INDEX violations_by_attempt ON violations(attempt_id);
    CREATE TABLE photos (
        id TEXT PRIMARY KEY,
        attempt_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        accepted INTEGER,
        reasons TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX photos_by_attempt ON photos(attempt_id, kind);
    CREATE TABLE profiles (
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        client_id TEXT NOT NULL,
        mail_to TEXT NOT NULL,
        saved_at TEXT NOT NULL
    );
    CREATE TABLE nonces (
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        nonce TEXT NOT NULL UNIQUE,
        live_from TEXT NOT NULL
    );
    CREATE INDEX nonces_by_attempt ON nonces(attempt_id, live_from);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    # 2: the proctor's console. Named proctors (tokens kept as SHA-256 only; the plain tokens
    # of `proctor_tokens` become proctors named "proctor"), their sign-in sessions and their
    # commands by client id (acted on once); late admissions (R15), reviews of violations,
    # verdicts on attempts; what reaching the warning limit does; the audit log's hash chain
    # (one chain per exam, its newest hash kept apart in audit_heads).
    """
    CREATE TABLE proctors (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('proctor', 'chief')),
        exam_id TEXT REFERENCES exams(id),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX proctors_by_name ON proctors(name);
    INSERT INTO proctors (id, name, role, exam_id, token_hash, created_at)
        SELECT 'pr-legacy-' || rowid, 'proctor', 'proctor', exam_id,
               proctor_token_hash(token), created_at
        FROM proctor_tokens;
    DROP TABLE proctor_tokens;
    CREATE TABLE proctor_sessions (
        id_hash TEXT PRIMARY KEY,
        proctor_id TEXT NOT NULL REFERENCES proctors(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE proctor_commands (
        proctor_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (proctor_id, client_id)
    );
    CREATE TABLE admissions (
        ticket TEXT PRIMARY KEY REFERENCES tickets(token),
        by_proctor TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE violation_reviews (
        violation_id INTEGER PRIMARY KEY REFERENCES violations(id),
        verdict TEXT NOT NULL,
        note TEXT NOT NULL,
        by_proctor TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE attempt_verdicts (
        attempt_id TEXT PRIMARY KEY REFERENCES attempts(id),
        verdict TEXT NOT NULL,
        note TEXT NOT NULL,
        by_proctor TEXT NOT NULL,
        at TEXT NOT NULL
    );
    ALTER TABLE exams ADD COLUMN on_warning_limit TEXT NOT NULL DEFAULT 'alert';
    ALTER TABLE audit ADD COLUMN chain TEXT;
    ALTER TABLE audit ADD COLUMN seq INTEGER;
    ALTER TABLE audit ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit ADD COLUMN hash TEXT;
    CREATE UNIQUE INDEX audit_by_chain ON audit(chain, seq);
    CREATE TABLE audit_heads (
        chain TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    """,
    # retention: how long an exam's evidence is kept, and what was purged when (the rows keep
    # their hashes; the files and personal fields go)
    """
    ALTER TABLE exams ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 365;
    ALTER TABLE photos ADD COLUMN purged_at TEXT;
    ALTER TABLE tickets ADD COLUMN purged_at TEXT;
    """,
    # the rules of conduct the candidate accepted (R16): which version, and when
    """
    ALTER TABLE attempts ADD COLUMN consent_version TEXT;
    ALTER TABLE attempts ADD COLUMN consented_at TEXT;
    """,
    # admission tickets kept as hashes: `tickets.token` and every column naming a ticket hold
    # `ticket_key(token)` (SHA-256, hex) from here on, never the raw ticket (the calibrations'
    # and the programme's registrations' too, when those tables exist: OPTIONAL_TABLES, so the
    # step is whole whichever command opens the database first). Reference photos
    # were named after the token's first 12 characters: renamed after the key, the renames
    # queued in `blob_renames` for the store to carry out when it opens (files are not SQL).
    # Trial passes (R12) are tickets that open the trial only. The partial index serves the
    # exam runtimes' sweep of revoked tickets.
    """
    PRAGMA defer_foreign_keys = ON;
    CREATE TABLE blob_renames (old TEXT PRIMARY KEY, new TEXT NOT NULL);
    INSERT INTO blob_renames (old, new)
        SELECT reference_photo,
               'references/' || exam_id || '/' || substr(ticket_key(token), 1, 16) || '.jpg'
        FROM tickets WHERE reference_photo IS NOT NULL;
    UPDATE tickets SET reference_photo =
        'references/' || exam_id || '/' || substr(ticket_key(token), 1, 16) || '.jpg'
        WHERE reference_photo IS NOT NULL;
    UPDATE attempts SET ticket = ticket_key(ticket);
    UPDATE admissions SET ticket = ticket_key(ticket);
    UPDATE vision_calibrations SET ticket = ticket_key(ticket) WHERE ticket IS NOT NULL;
    UPDATE programme_registrations SET ticket_token = ticket_key(ticket_token)
        WHERE ticket_token IS NOT NULL;
    UPDATE tickets SET token = ticket_key(token);
    ALTER TABLE tickets ADD COLUMN trial_only INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tickets ADD COLUMN revoked_at TEXT;
    CREATE INDEX tickets_revoked ON tickets(exam_id) WHERE revoked = 1;
    """,
    # an attempt's answers are read from their history (`answer_log`: each question's newest
    # row, written with every answer since step 1, so nothing is lost): the table of latest
    # answers, one more statement per answer, is no longer kept
    """
    DROP TABLE answers;
    """,
]

# Face analysis: each candidate's neutral head pose and lighting (from the identity photo or the
# trial exam), keyed by attempt and findable by ticket.
VISION: list[str] = [
    """
    CREATE TABLE vision_calibrations (
        attempt_id TEXT PRIMARY KEY,
        ticket TEXT,
        source TEXT NOT NULL,
        yaw REAL,
        pitch REAL,
        brightness REAL,
        sharpness REAL,
        embedding TEXT,
        samples INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX vision_calibrations_by_ticket ON vision_calibrations(ticket, updated_at);
    """,
]

# Live media's evidence: clips around violations (and whole streams when recording is on),
# each a file under the data folder, linked to the violations it shows; `purge` removes the file
# and sets `purged_at`, the row and its hash stay.
MEDIA: list[str] = [
    """
    CREATE TABLE media_clips (
        id TEXT PRIMARY KEY,
        attempt_id TEXT NOT NULL REFERENCES attempts(id),
        kind TEXT NOT NULL CHECK (kind IN ('violation', 'session')),
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        purged_at TEXT
    );
    CREATE INDEX media_clips_by_attempt ON media_clips(attempt_id, started_at);
    CREATE TABLE media_clip_violations (
        clip_id TEXT NOT NULL REFERENCES media_clips(id),
        violation_id INTEGER NOT NULL REFERENCES violations(id),
        PRIMARY KEY (clip_id, violation_id)
    );
    CREATE INDEX media_clip_violations_by_violation ON media_clip_violations(violation_id);
    """,
]

# Indexes for the hot paths, kept apart from the tables' own steps. 1: a candidate's entry
# looks up the ticket's latest attempt in a mode; without this index every join read the whole
# attempts table (10,000 joins: 50 million rows read).
LOOKUPS: list[str] = [
    """
    CREATE INDEX IF NOT EXISTS attempts_by_ticket ON attempts(ticket, mode, created_at);
    """,
    # 2: an answer's client id is claimed by its history row (one per id and attempt) instead
    # of a row of its own in client_messages: one statement fewer per answer
    """
    CREATE UNIQUE INDEX IF NOT EXISTS answer_log_once ON answer_log(attempt_id, client_id);
    """,
]

# Tables of other components that name tickets and that core step 5 rekeys when they exist
# (an older database has them; a new one gets them empty, after it): one step hashes every
# ticket column at once, whichever command opens the database first.
OPTIONAL_TABLES = {
    ("core", 5): ("vision_calibrations", "programme_registrations"),
}


# The store's own components and their steps; features pass theirs in.
STORE_COMPONENTS: dict[str, Sequence[str]] = {
    "core": CORE,
    "vision": VISION,
    "lookups": LOOKUPS,
    "media": MEDIA,
}


def migrate(
    conn: Any,
    components: Mapping[str, Sequence[str]] | None = None,
    dialect: Dialect = SQLITE,
) -> None:
    """Bring each component's tables (the store's own when None) to its newest version, each
    step in a transaction. The steps are SQLite's text; `dialect.translate` makes them
    another engine's. Each step's transaction takes the migration lock first and reads the
    version again under it, so two processes starting at once run every step once."""
    components = STORE_COMPONENTS if components is None else components
    dialect.prepare_migrations(conn, {"proctor_token_hash": token_hash, "ticket_key": ticket_key})
    conn.execute(dialect.begin)
    try:
        dialect.lock(conn, "schema_versions")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    for component, steps in components.items():
        while True:
            conn.execute(dialect.begin)
            try:
                dialect.lock(conn, "schema_versions")
                row = conn.execute(
                    "SELECT version FROM schema_versions WHERE component = ?", (component,)
                ).fetchone()
                current = row[0] if row else 0
                if current > len(steps):
                    raise RuntimeError(
                        f"the database's {component} schema is version {current}, newer than "
                        f"this server ({len(steps)}): upgrade the server"
                    )
                if current == len(steps):
                    conn.execute("COMMIT")
                    break
                version = current + 1
                optional = OPTIONAL_TABLES.get((component, version), ())
                present = dialect.tables(conn)
                for statement in _statements(dialect.translate(steps[version - 1])):
                    if _names_missing(statement, optional, present):
                        continue
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                    "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (component, version),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


def _names_missing(statement: str, optional: Sequence[str], present: set[str]) -> bool:
    """Whether this statement of a step works on one of its optional tables, absent here."""
    words = statement.split()
    return (
        len(words) > 1
        and words[0].upper() == "UPDATE"
        and (words[1] in optional and words[1] not in present)
    )


def _statements(script: str) -> list[str]:
    """Split a step into statements (our steps hold no semicolons inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
