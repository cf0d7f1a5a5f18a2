"""A real store in a temporary folder, with the vision objects built as the server builds them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proctor_server.store import AttemptRecord, ExamRecord, SqliteStore, TicketRecord
from proctor_server.vision import build_analysis
from proctor_server.vision.analyzer import VisionAnalyzer
from proctor_server.vision.identity import FaceIdentityChecker
from proctor_server.vision.worker import VisionPool
from shared.shuffle import PaperOrder
from shared.states import AttemptState
from shared.vision.models import FaceModels, load_models
from shared.vocabulary import Mode
from tests.shared.vision import frames as F


@pytest.fixture(scope="session")
def models() -> FaceModels:
    return load_models()


T0 = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)


@dataclass
class World:
    store: SqliteStore
    identity: FaceIdentityChecker
    analyzer: VisionAnalyzer

    async def attempt(
        self,
        name: str,
        mode: Mode = Mode.EXAM,
        reference: bytes | None = None,
        ticket: str | None = None,
    ) -> str:
        token = ticket or f"t-{name}"
        if await self.store.get_ticket(token) is None:
            path = None
            if reference is not None:
                path = f"references/{token}.jpg"
                self.store.blobs.write(path, reference)
            await self.store.create_ticket(
                TicketRecord(token, "exam1", f"C-{name}", name, reference_photo=path)
            )
        attempt_id = f"a-{name}-{mode}"
        await self.store.create_attempt(
            AttemptRecord(
                id=attempt_id,
                exam_id="exam1",
                ticket=token,
                mode=mode,
                state=AttemptState.WAITING,
                seed="s",
                order=PaperOrder(questions=[], options=[]),
                created_at=T0,
                ends_at=T0 + timedelta(hours=2),
            )
        )
        return attempt_id


@pytest.fixture
async def world(tmp_path: Path, models: FaceModels) -> AsyncIterator[World]:
    store = SqliteStore(tmp_path / "exam.db")
    await store.open()
    await store.create_exam(
        ExamRecord("exam1", "Cloud", T0, timedelta(hours=2), [], [], 0, created_at=T0)
    )
    # the models are already loaded in this process: a thread pool keeps the tests fast; one
    # test runs the real process pool
    pool = VisionPool(ThreadPoolExecutor(max_workers=1))
    identity, analyzer, _ = build_analysis(store, pool=pool)
    assert isinstance(identity, FaceIdentityChecker) and isinstance(analyzer, VisionAnalyzer)
    yield World(store, identity, analyzer)
    await analyzer.close()
    await store.close()


def snapshot(image: object, seed: int) -> bytes:
    import numpy as np

    return F.camera(image, np.random.default_rng(seed))  # type: ignore[arg-type]
