"""The Qt binding itself: a signal emitted from Python must not leak references (PySide6
6.12.0 lost one reference to True per emit, and the app aborted after a few minutes)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    fired = Signal()
    carried = Signal(object)


def test_emitting_signals_keeps_reference_counts(qapp: object) -> None:
    emitter = Emitter()
    received: list[object] = []
    emitter.fired.connect(lambda: received.append(None))
    emitter.carried.connect(received.append)
    before_true, before_false = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        emitter.fired.emit()
        emitter.carried.emit(True)
    assert len(received) == 1000
    received.clear()
    assert abs(sys.getrefcount(True) - before_true) < 50
    assert abs(sys.getrefcount(False) - before_false) < 50
