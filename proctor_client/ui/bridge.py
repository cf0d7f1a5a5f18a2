"""The one bridge from the runtime to Qt: each state snapshot becomes Qt signals.

The runtime calls its listeners on the asyncio loop's thread, which under qasync is Qt's main
thread, so the signals are delivered directly. Widgets never subscribe to the runtime.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from proctor_client.runtime.model import ClientState, ExamRuntimeAPI, Unsubscribe, WarningView


class RuntimeBridge(QObject):
    state_changed = Signal(object)  # ClientState, every snapshot
    phase_changed = Signal(str)  # Phase value, when it changes
    warning_received = Signal(object)  # WarningView, once per new proctor warning
    online_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runtime: ExamRuntimeAPI | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._phase: str | None = None
        self._warnings_seen = 0
        self._online: bool | None = None
        self.last_state: ClientState | None = None

    @property
    def runtime(self) -> ExamRuntimeAPI | None:
        return self._runtime

    def attach(self, runtime: ExamRuntimeAPI) -> None:
        """Follow `runtime` (the previous one, if any, is let go first)."""
        self.detach()
        self._runtime = runtime
        self._phase = None
        self._warnings_seen = 0
        self._online = None
        self._unsubscribe = runtime.subscribe(self.on_state)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = None
        self._runtime = None
        self.last_state = None

    def on_state(self, state: ClientState) -> None:
        self.last_state = state
        self.state_changed.emit(state)
        phase = state.phase.value
        if phase != self._phase:
            self._phase = phase
            self.phase_changed.emit(phase)
        online = not state.offline
        if online != self._online:
            self._online = online
            self.online_changed.emit(online)
        new: tuple[WarningView, ...] = state.warnings[self._warnings_seen :]
        self._warnings_seen = len(state.warnings)
        for warning in new:
            self.warning_received.emit(warning)
