"""Device signals during an attempt: read them now and then, and report a change.

The first figures go in `hello.client`; afterwards, every `interval_s`, the watch reads them
again (cameras, virtual machine and camera signs, screens, capture software, whether the window
is kept out of screen captures) and sends a `device_signal` event when they differ from the
last ones the server has. The server judges the figures; the app never blocks on them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from proctor_client.core.flow import OPEN_PHASES
from proctor_client.runtime.model import EventKind, ExamRuntimeAPI

log = logging.getLogger(__name__)

SignalSource = Callable[[], Awaitable[dict[str, Any]]]
INTERVAL_S = 30.0


class DeviceWatch:
    def __init__(
        self,
        runtime: ExamRuntimeAPI,
        source: SignalSource,
        *,
        sent: Mapping[str, Any] | None = None,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.runtime = runtime
        self.source = source
        self.sent: dict[str, Any] = dict(sent or {})  # the figures the server has (hello)
        self.interval_s = interval_s
        self.reports = 0

    async def check(self) -> bool:
        """Read the figures once; report them if they changed. True when reported."""
        try:
            figures = await self.source()
        except Exception as exc:  # evidence, never a reason to stop the exam
            log.info("device signals could not be read: %s", exc)
            return False
        if figures == self.sent or self.runtime.state.phase not in OPEN_PHASES:
            return False
        changed = sorted(
            k for k in figures.keys() | self.sent.keys() if figures.get(k) != self.sent.get(k)
        )
        self.runtime.report_event(EventKind.DEVICE_SIGNAL, {**figures, "changed": changed})
        self.sent = figures
        self.reports += 1
        return True

    async def run(self) -> None:
        """Check every `interval_s` until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(self.interval_s)
