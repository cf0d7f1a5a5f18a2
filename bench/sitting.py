"""What the server benchmarks set up before they measure: an exam with a 40-question bank and
its tickets, written in-process in one transaction, and the identity photo their candidates
send."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path


async def sitting(db: Path, count: int, *, starts_in: timedelta, title: str = "Bench") -> list[str]:
    """An exam starting `starts_in` from now (negative: already started) and `count` tickets."""
    from proctor_server import admin
    from proctor_server.store import SqliteStore
    from shared.questions import Question

    store = SqliteStore(db)
    await store.open()
    try:
        exam = await admin.create_exam(
            store,
            title=title,
            starts_at=datetime.now(UTC) + starts_in,
            duration=timedelta(hours=2),
            questions=[
                Question(
                    id=f"q{i}", text=f"Question {i}", options=["a", "b", "c", "d"], answer=[i % 4]
                )
                for i in range(40)
            ],
        )
        issued = await admin.issue_tickets(
            store, exam.id, [admin.TicketRequest(f"Candidate {i}") for i in range(count)]
        )
        return [t.token for t in issued]
    finally:
        await store.close()


@functools.cache
def identity_photo() -> bytes:
    """A plain 320×240 JPEG the basic identity check accepts."""
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((240, 320, 3), 120, np.uint8))
    assert ok
    return bytes(data)
