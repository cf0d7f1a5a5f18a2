"""Automated detection on the server: faces, identity, gaze, frozen or covered cameras,
virtual cameras and machines; violations that last; a risk score per attempt.

`build_analysis(store)` gives the server its three analysis objects (see
proctor_server/analysis.py). The pure image functions live in `shared/vision/`.
"""

from __future__ import annotations

from proctor_server.analysis import ClientSignals, IdentityChecker, SnapshotAnalyzer
from proctor_server.store import Store
from proctor_server.vision.analyzer import VisionAnalyzer
from proctor_server.vision.calibration import CalibrationStore, CalibrationTable
from proctor_server.vision.identity import FaceIdentityChecker
from proctor_server.vision.pools import JobPool
from proctor_server.vision.risk import Risk, risk_score
from proctor_server.vision.signals import DeviceSignals
from proctor_server.vision.speech import SpeechRecorder
from proctor_server.vision.worker import VisionPool


def build_analysis(
    store: Store,
    *,
    pool: JobPool | None = None,
    calibrations: CalibrationStore | None = None,
) -> tuple[IdentityChecker, SnapshotAnalyzer, ClientSignals]:
    """The identity checker, snapshot analyzer and device-signal judge for a server. They share
    one pool (by default one worker process of this server, models loaded once there; the
    PostgreSQL queue's `QueuePool` for analysis workers elsewhere) and the calibration table;
    `analyzer.close()` stops both. Calibrations are kept by `calibrations`, by default the store itself (every
    store of this project implements `CalibrationStore`)."""
    if calibrations is None:
        if not isinstance(store, CalibrationStore):
            raise TypeError(f"{type(store).__name__} keeps no calibrations: pass calibrations=")
        calibrations = store
    if pool is None:
        pool = VisionPool()
        pool.warm()
    table = CalibrationTable(calibrations)
    identity = FaceIdentityChecker(store, pool, table)
    analyzer = VisionAnalyzer(store, pool, table)
    return identity, analyzer, DeviceSignals()


__all__ = [
    "DeviceSignals",
    "FaceIdentityChecker",
    "Risk",
    "SpeechRecorder",
    "VisionAnalyzer",
    "VisionPool",
    "build_analysis",
    "risk_score",
]
