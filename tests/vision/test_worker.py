"""When a snapshot gets an identity descriptor (the slowest step)."""

from __future__ import annotations

import pytest

from proctor_server.vision.worker import EmbedWhen, analyze_job, embed_job, overlap
from shared.vision.faces import Face
from shared.vision.models import FaceModels
from tests.shared.vision import frames as F


def face(x: int, y: int, w: int = 120, counted: bool = True) -> Face:
    return Face((x, y, w, w), 1.0, w / 640, counted)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),
        ((0, 0, 10, 10), (20, 20, 10, 10), 0.0),
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),
    ],
)
def test_overlap(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int], expected: float
) -> None:
    assert overlap(a, b) == pytest.approx(expected)


@pytest.mark.parametrize(
    "policy, faces, embed",
    [
        (EmbedWhen(always=True, box=(100, 100, 120, 120)), [face(100, 100)], True),
        (EmbedWhen(always=False, box=None), [face(100, 100)], True),  # no descriptor yet
        (EmbedWhen(always=False, box=(100, 100, 120, 120)), [face(105, 102)], False),  # still
        (EmbedWhen(always=False, box=(100, 100, 120, 120)), [face(300, 100)], True),  # moved
        # two faces: identity is not judged; the analysis describes the candidate's face itself
        # when the other is wide enough to be a reflection
        (EmbedWhen(always=False, box=(100, 100, 120, 120)), [face(100, 100), face(400, 90)], False),
        (EmbedWhen(always=False, box=None), [face(100, 100), face(400, 90)], True),
        (
            EmbedWhen(always=False, box=(100, 100, 120, 120)),
            [face(100, 100), face(400, 90, 60, False)],
            False,
        ),
    ],
)
def test_embed_when(policy: EmbedWhen, faces: list[Face], embed: bool) -> None:
    assert policy(faces) is embed


def test_jobs_refuse_non_images_and_skip_still_faces(models: FaceModels) -> None:
    assert analyze_job(b"nonsense") is None
    assert embed_job(b"nonsense") is None
    assert embed_job(F.jpeg(F.empty_room())) is None
    jpeg = F.jpeg(F.candidate())
    first = analyze_job(jpeg)
    assert first is not None and first.embedding is not None
    box = first.faces[0].box
    again = analyze_job(jpeg, embed=EmbedWhen(always=False, box=box))
    assert again is not None and again.embedding is None


def crash_job() -> None:
    import os

    os._exit(3)  # a worker killed mid-job (out of memory, a signal)


async def test_a_dead_worker_is_replaced() -> None:
    from proctor_server.vision.worker import VisionPool

    pool = VisionPool()
    try:
        assert await pool.run(analyze_job, b"nonsense") is None  # no models needed
        with pytest.raises(Exception, match="terminated abruptly"):
            await pool.run(crash_job)  # dies again in the new pool too: reported, not hidden
        assert pool.restarts == 1
        assert await pool.run(analyze_job, b"nonsense") is None  # the new pool works
    finally:
        await pool.close()
        await pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        await pool.run(analyze_job, b"nonsense")


def niceness_job() -> int:
    import os

    return os.nice(0)


async def test_workers_yield_the_cores_to_the_server() -> None:
    """The analysis runs at a lower priority than the server's event loop, in a real worker
    process, and a replaced pool's workers too."""
    import os

    from proctor_server.vision.worker import WORKER_NICE, VisionPool

    pool = VisionPool()
    try:
        assert await pool.run(niceness_job) == min(os.nice(0) + WORKER_NICE, 19)
        with pytest.raises(Exception, match="terminated abruptly"):
            await pool.run(crash_job)
        assert await pool.run(niceness_job) == min(os.nice(0) + WORKER_NICE, 19)
    finally:
        await pool.close()
