"""Server messages for the flow tests, with defaults that describe one ordinary exam."""

from __future__ import annotations

from typing import Any

from shared import protocol as p
from shared.vocabulary import Mode


def welcome(**overrides: Any) -> p.Welcome:
    fields: dict[str, Any] = {
        "session": "sess-1",
        "mode": Mode.EXAM,
        "exam": p.ExamInfo(
            id="ex1",
            title="Cloud Practitioner",
            starts_at="2026-07-25T14:00:00.000Z",
            entry_opens_at="2026-07-25T13:30:00.000Z",
            entry_closes_at="2026-07-25T14:30:00.000Z",
            ends_at="2026-07-25T15:00:00.000Z",
        ),
        "server_time": "2026-07-25T13:50:00.000Z",
        "snapshot_interval_s": 30,
        "watermark": p.WatermarkInfo(text="C001 · 张* · Cloud", nonce="n1"),
        "candidate": p.CandidateInfo(code="C001", name="张*"),
        "state": "waiting",
    }
    fields.update(overrides)
    return p.Welcome(**fields)


def paper(saved: dict[str, list[str]] | None = None, **overrides: Any) -> p.Paper:
    fields: dict[str, Any] = {
        "questions": [
            p.PaperQuestion(
                id="qa",
                text="Which port does HTTPS use?",
                multiple=False,
                options=[p.PaperOption("o1", "21"), p.PaperOption("o2", "443")],
            ),
            p.PaperQuestion(
                id="qb",
                text="Pick both colours",
                multiple=True,
                options=[
                    p.PaperOption("c1", "red"),
                    p.PaperOption("c2", "seven"),
                    p.PaperOption("c3", "blue"),
                ],
                points=2,
            ),
        ],
        "ends_at": "2026-07-25T15:00:00.000Z",
        "server_time": "2026-07-25T14:00:00.000Z",
        "saved": saved or {},
    }
    fields.update(overrides)
    return p.Paper(**fields)
