"""Helpers for tests against a real exam server on 127.0.0.1: the questions, exams, tickets and
runtimes wired to fake devices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from proctor_client.core.conduct import RULES_VERSION
from proctor_client.devices.camera_reader import CameraReader
from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.runtime.backoff import Backoff
from proctor_client.runtime.runtime import ExamRuntime
from proctor_client.runtime.snapshots import CameraPhotos
from proctor_server import admin
from proctor_server.app import Server
from shared.questions import Question

QUESTIONS = [
    Question(id="q1", text="Which port does HTTPS use?", options=["21", "80", "443"], answer=[2]),
    Question(
        id="q2",
        text="Pick the colours",
        options=["red", "seven", "blue", "table"],
        answer=[0, 2],
        points=2,
    ),
    Question(id="q3", text="2 + 2", options=["3", "4"], answer=[1]),
    Question(id="q4", text="Capital of France", options=["Paris", "Rome", "Oslo"], answer=[0]),
]


def correct_texts(questions: list[Question] = QUESTIONS) -> dict[str, list[str]]:
    """The answer key by question text -> option texts (the wire ids are per attempt)."""
    return {q.text: [q.options[i] for i in q.answer] for q in questions}


@dataclass
class Env:
    server: Server
    tmp: Path
    runtimes: list[ExamRuntime] = field(default_factory=list)

    async def exam(
        self, *, starts_in: float = -1.0, minutes: float = 5, **kwargs: Any
    ) -> tuple[str, str]:
        """Create an exam starting `starts_in` seconds from now; return (exam id, ticket)."""
        exam = await admin.create_exam(
            self.server.store,
            title="Cloud Practitioner",
            starts_at=datetime.now(UTC) + timedelta(seconds=starts_in),
            duration=timedelta(minutes=minutes),
            questions=QUESTIONS,
            **kwargs,
        )
        ticket = await admin.issue_ticket(self.server.store, exam.id, name="张三丰")
        return exam.id, ticket.token

    def runtime(
        self,
        ticket: str,
        *,
        url: str | None = None,
        outbox: Path | None = None,
        photos: bool = True,
        rules: bool = True,
        **kwargs: Any,
    ) -> ExamRuntime:
        """A headless candidate app. `rules`: the candidate accepts the rules of conduct at
        once, as the app's rules screen has them do before entry (R16)."""
        runtime = ExamRuntime(
            url or self.server.ws_url,
            ticket,
            outbox_path=outbox or self.tmp / "outbox.sqlite3",
            photos=CameraPhotos(CameraReader(SyntheticCamera(realtime=False))) if photos else None,
            backoff=Backoff(base=0.02, cap=0.2),
            **kwargs,
        )
        if rules:
            runtime.accept_rules(RULES_VERSION)
        self.runtimes.append(runtime)
        return runtime


def synthetic_photo() -> Callable[[], bytes]:
    """A function that returns a new JPEG from the synthetic camera at each call."""
    from proctor_client.devices.jpeg import encode_jpeg

    camera = SyntheticCamera(realtime=False)
    return lambda: encode_jpeg(camera.read())
