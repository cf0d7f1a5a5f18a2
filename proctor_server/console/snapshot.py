"""The feed's first message: every ticket of an exam as one grid row, built in one pass.

One store read (`Store.exam_grid`: each ticket with the attempt its row shows, and the
violations of those attempts), then one loop that writes each row straight as the array the
wire carries (`shared.proctor_protocol.seat_row`), then one encode. No record is built for a
ticket or an attempt, and the risk is scored only for attempts with violations. What only the
process knows (connected or not, round trip, reconnects, media) comes from the exam's runtime.

Rows come most suspicious first, then in candidate-code order (the page sorts them again as
its proctor chooses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from proctor_server.console.quality import Quality
from proctor_server.core.console import ExamGrid
from proctor_server.core.records import ExamRecord
from proctor_server.vision.risk import risk_score
from shared import proctor_protocol as pp
from shared.timeutil import from_wire, to_wire

NOT_ENTERED = pp.SeatState.NOT_ENTERED.value


def snapshot_frame(
    exam: ExamRecord,
    grid: ExamGrid,
    connected: set[str] | dict[str, Any],
    quality: Quality,
    now: datetime,
) -> pp.SnapshotFrame:
    """The snapshot of `exam` at `now`; `connected` holds the attempts with a live socket."""
    rows: list[list[Any]] = []  # rows without risk, in candidate-code order
    risky: list[tuple[float, list[Any]]] = []  # rows with risk, sorted below
    append = rows.append
    seat_row = pp.seat_row
    for s in grid.seats:
        if s.attempt is None:
            append(seat_row([s.candidate, s.name, NOT_ENTERED, "", "exam", False, None, 0, 0,
                             0.0, [], None, 0, None, None, bool(s.admitted)]))  # fmt: skip
            continue
        found = grid.violations.get(s.attempt)
        if found:
            # a finished attempt's risk is the one it had when it finished, however late
            risk = risk_score(found, from_wire(s.finished_at) if s.finished_at else now)
            score, reasons, count = risk.score, risk.reasons, len(found)
        else:
            score, reasons, count = 0.0, [], 0
        rtt, reconnects, media, media_reason = quality.row(s.attempt)
        passed = None if s.passed is None else bool(s.passed)
        row = seat_row([s.candidate, s.name, s.state, s.attempt, s.mode,
                        s.attempt in connected, s.ends_at, s.warnings or 0, count, score,
                        reasons, rtt, reconnects, media, media_reason, bool(s.admitted),
                        s.verdict, s.score, s.max_score, passed])  # fmt: skip
        if score > 0:
            risky.append((score, row))
        else:
            append(row)
    risky.sort(key=lambda pair: -pair[0])  # the most suspicious first (stable: by code)
    return pp.SnapshotFrame(
        server_time=to_wire(now),
        exam=pp.ExamSummary(
            id=exam.id,
            title=exam.title,
            starts_at=to_wire(exam.starts_at),
            ends_at=to_wire(exam.window.ends_at),
        ),
        attempts=[row for _, row in risky] + rows,
    )
