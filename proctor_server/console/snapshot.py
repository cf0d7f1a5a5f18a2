"""The feed's first message: every ticket of an exam, by columns, mostly written by SQLite.

One store read (`Store.exam_grid`) gives the columns the database knows as JSON arrays
(code, name, state, attempt, mode, deadline, warnings, admitted, verdict, score, pass), which
go into the frame as they are (`msgspec.Raw`), and the risk of the attempts with violations.
Python fills only what the database does not know, position by position: whether each
attempt is connected, its connection quality (only the attempts this process has seen), and
the violations' count and risk (only the attempts that have violations). Then one encode.

Rows come most suspicious first, then in candidate-code order (the page sorts them again as
its proctor chooses): the read scores the attempts with violations (`grid_risk`) before
SQLite writes the columns in that order."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from functools import cache
from typing import Any

import msgspec

from proctor_server.console.quality import Quality
from proctor_server.core.console import ExamGrid, GridRisk
from proctor_server.core.records import ExamRecord, ViolationRecord
from proctor_server.vision.risk import risk_score
from shared import proctor_protocol as pp
from shared.timeutil import to_wire

DEFAULTS = pp.ROW_DEFAULTS
Scored = tuple[float, list[str]]


@cache
def _all_default(field: str, rows: int) -> bytes:
    """The JSON of a column of `rows` defaults (such a column is sent as `[]`)."""
    return msgspec.json.encode([DEFAULTS[field]] * rows)


def _stored(grid: ExamGrid, field: str, rows: int) -> Any:
    """A column as the database wrote it, `[]` when it holds nothing but defaults."""
    column = grid.columns[field]
    if field in DEFAULTS and column == _all_default(field, rows):
        return []
    return msgspec.Raw(column)


def grid_risk(now: datetime) -> GridRisk:
    """How the grid's read scores an attempt at `now`: a finished attempt's risk is the one it
    had when it finished, however late."""

    def score(attempt: str, found: list[ViolationRecord], finished: datetime | None) -> Scored:
        risk = risk_score(found, finished or now)
        return risk.score, risk.reasons

    return score


def snapshot_frame(
    exam: ExamRecord,
    grid: ExamGrid,
    connected: Container[str],
    quality: Quality,
    now: datetime,
) -> pp.SnapshotFrame:
    """The snapshot of `exam` at `now`; `connected` holds the attempts with a live socket."""
    attempts = grid.attempts
    rows = len(attempts)
    where = {a: i for i, a in enumerate(attempts) if a}
    online = [a in connected for a in attempts]  # an absentee's "" is never connected
    rtt: list[int | None] = [None] * rows
    reconnects = [0] * rows
    media: list[pp.MediaStatus | None] = [None] * rows
    media_reason: list[str | None] = [None] * rows
    quality.fill(where, rtt, reconnects, media, media_reason)
    counts = [0] * rows
    risks = [0.0] * rows
    reasons: list[list[str]] = [[]] * rows  # the same empty list: only encoded
    for attempt, (count, score, why_risky) in grid.risks.items():
        i = where.get(attempt)
        if i is not None:  # not an attempt the grid does not show (a trial before the exam)
            counts[i], risks[i], reasons[i] = count, score, why_risky
    computed: dict[str, list[Any]] = {
        "connected": online, "violations": counts, "risk": risks, "risk_reasons": reasons,
        "rtt_ms": rtt, "reconnects": reconnects, "media": media, "media_reason": media_reason,
    }  # fmt: skip
    return pp.SnapshotFrame(
        server_time=to_wire(now),
        exam=pp.ExamSummary(
            id=exam.id,
            title=exam.title,
            starts_at=to_wire(exam.starts_at),
            ends_at=to_wire(exam.window.ends_at),
        ),
        columns=[
            pp.trim_column(computed[f], DEFAULTS[f]) if f in computed else _stored(grid, f, rows)
            for f in pp.SNAPSHOT_FIELDS
        ],
    )
