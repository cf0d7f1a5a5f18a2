"""Device signals from the running app: a change of the figures during an attempt reaches the
server as one `device_signal`; an unchanged reading sends nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from proctor_client.core.state import Phase
from proctor_client.runtime.device_watch import DeviceWatch
from tests.client.runtime.test_runtime_exam import enter
from tests.support.exam_env import Env

HELLO = {"cameras": ["Integrated Camera"], "virtual_cameras": [], "vm_signals": [], "screens": 1}


async def test_a_change_is_reported_once_and_judged_by_the_server(
    env: Env, photo: Callable[[], bytes]
) -> None:
    _, ticket = await env.exam(starts_in=600)
    runtime = env.runtime(ticket, photos=False)
    readings: list[dict[str, Any]] = [HELLO, HELLO]

    async def source() -> dict[str, Any]:
        return readings.pop(0)

    watch = DeviceWatch(runtime, source, sent=HELLO, interval_s=0.01)
    assert not await watch.check()  # nothing open yet: not sent (the hello carries it)
    runtime.start()
    state = await enter(runtime, photo)
    assert state.phase is Phase.WAITING_ROOM
    assert not await watch.check()  # the same figures: nothing to say
    vm = {"signal": "dmi.sys_vendor", "value": "VMware, Inc."}
    readings.append({**HELLO, "vm_signals": [vm], "screens": 2})
    assert await watch.check()
    async with asyncio.timeout(10):
        await runtime.wait_for(lambda s: s.pending == 0)  # the server acknowledged it
    assert state.session is not None
    events = await env.server.store.events(state.session)
    (event,) = [e for e in events if e["kind"] == "device_signal"]
    assert event["detail"]["changed"] == ["screens", "vm_signals"]
    violations = await env.server.store.violations(state.session)
    assert [v.kind for v in violations] == ["virtual_machine"]


async def test_a_reader_that_fails_sends_nothing(env: Env) -> None:
    _, ticket = await env.exam()
    runtime = env.runtime(ticket, photos=False)

    async def broken() -> dict[str, Any]:
        raise OSError("no /proc")

    assert not await DeviceWatch(runtime, broken).check()
