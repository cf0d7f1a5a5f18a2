"""The heavy work, run in a process pool: dlib holds the GIL for the whole of a detection or an
embedding (measured: the event loop stalls 150 ms per call from a thread), so analysis runs in
worker processes and the server's loop only awaits results. Each worker loads the models once,
on its first job. The job functions are plain top-level functions (picklable)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from shared.vision.faces import Face, box_overlap, face_distance
from shared.vision.frame import FrameAnalysis, analyze_image, decode_image
from shared.vision.models import load_models
from shared.vision.quality import DEFAULT_THRESHOLDS, QualityThresholds

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EmbedWhen:
    """When a snapshot gets an identity descriptor (the slowest step, 120–250 ms): `always`,
    before the first one (`box` None), or when the candidate's face is alone and not where it
    was at the last descriptor (`box`). With two faces identity is not judged (whose face is
    whose is unclear): the analysis describes the candidate's face only when another face is
    wide enough to be compared with it (a reflection: `frame.analyze_image`)."""

    always: bool = True
    box: tuple[int, int, int, int] | None = None

    def __call__(self, faces: list[Face]) -> bool:
        counted = [f for f in faces if f.counted]
        if self.always or self.box is None:
            return True
        if len(counted) != 1:
            return False
        return overlap(self.box, counted[0].box) < SAME_PLACE


SAME_PLACE = 0.6  # intersection over union of two boxes of the same seated person


overlap = box_overlap  # the name the tests and callers know


def analyze_job(
    jpeg: bytes,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    previous: np.ndarray | None = None,
    embed: bool | EmbedWhen = True,
) -> FrameAnalysis | None:
    """One snapshot; None when the bytes are not an image."""
    image = decode_image(jpeg)
    if image is None:
        return None
    return analyze_image(image, thresholds=thresholds, embed=embed, previous=previous)


@dataclass(frozen=True, slots=True)
class IdentityFigures:
    """What the identity step measured: the photo, and the reference photo when there is one."""

    photo: FrameAnalysis | None  # None: not an image
    reference: FrameAnalysis | None  # None: no reference, or not an image
    reference_given: bool
    distance: float | None  # photo to reference, when both have a usable face


def identity_job(photo: bytes, reference: bytes | None) -> IdentityFigures:
    figures = analyze_job(photo)
    ref = analyze_job(reference) if reference else None
    distance = None
    if figures is not None and ref is not None and figures.embedding and ref.embedding:
        distance = face_distance(figures.embedding, ref.embedding)
    return IdentityFigures(figures, ref, reference is not None, distance)


def embed_job(data: bytes) -> list[float] | None:
    """The descriptor of the main face of an image (a reference photo); None without one."""
    analysis = analyze_job(data, thresholds=QualityThresholds(dark=10.0, sharpness=1.0))
    return None if analysis is None else analysis.embedding


def warm_job() -> None:
    load_models()


WORKER_NICE = 10  # analysis waits; the exam server's acks go first (as the media process's)


def _start_worker() -> None:
    """In a worker: Ctrl+C at the terminal reaches the whole process group; the server stops
    its workers in order, so a worker ignores the signal instead of dying with a traceback.
    A worker runs at a lower priority than the server, so that a burst of snapshots to
    analyse takes the cores the exam server's event loop leaves, never its turn."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)


class VisionPool:
    """An executor for the jobs above; `close()` is idempotent. A worker process that dies
    (killed, out of memory) breaks a process pool for good: the pool is then replaced and the
    job tried once more."""

    def __init__(self, executor: Executor | None = None, workers: int = 1):
        self._workers = workers
        self._owned = executor is None
        self._executor = executor if executor is not None else self._new_executor()
        self._closed = False
        self.restarts = 0

    def _new_executor(self) -> Executor:
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        return ProcessPoolExecutor(
            max_workers=self._workers, mp_context=context, initializer=_start_worker
        )

    def warm(self) -> None:
        """Start the workers and load their models now, so that the first identity photo of
        the day does not wait for them (about three seconds); returns at once."""
        if not self._closed:
            self._executor.submit(warm_job)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError("vision pool closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except BrokenExecutor:
            if not self._owned or self._closed:
                raise
            log.warning("a vision worker died; starting a new pool")
            broken, self._executor = self._executor, self._new_executor()
            self.restarts += 1
            broken.shutdown(wait=False)
            return await loop.run_in_executor(self._executor, fn, *args)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
