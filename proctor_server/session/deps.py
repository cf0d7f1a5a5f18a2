"""What a candidate session uses, and nothing more: the store, the clock, the loaded exams,
and the device-signal judge (identity checks go through the exam's analysis queue). The server builds one `SessionDeps`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from proctor_server.analysis import ClientSignals
from proctor_server.clock import Clock
from proctor_server.exams import ExamRuntime
from proctor_server.media.gateway import NO_MEDIA, MediaGateway
from proctor_server.store import Store


class ExamDirectory(Protocol):
    """The exams this process runs."""

    def loaded(self, exam_id: str) -> ExamRuntime | None:
        """The runtime of an exam already loaded, or None."""
        ...

    async def load(self, exam_id: str) -> ExamRuntime | None:
        """The runtime of an exam, loading it from the store; None when there is no such exam."""
        ...


@dataclass(frozen=True, slots=True)
class SessionDeps:
    store: Store
    clock: Clock
    exams: ExamDirectory
    signals: ClientSignals
    hello_timeout_s: float
    media: MediaGateway = NO_MEDIA  # live audio and video (session/media.py)
