"""The exam server's event loop: uvloop (libuv, in C) where it is installed and nothing in the
process needs asyncio's own loop; asyncio's otherwise.

Every candidate's connection is a `websockets` connection whose transport, callbacks and
timers are the event loop's: on asyncio's loop they are Python, on uvloop C. With uvloop the
exam server's event loop spends about a tenth less CPU on each join, a few per cent less on
each answer (docs/benchmarks.md): more candidates get in within the first seconds. aiortc
stays on asyncio's loop (its ICE transport was reported to fail under uvloop, aiortc issue
429): the media process (`proctor-server media`), a process of its own, always runs
asyncio's, and `auto` means uvloop unless live media is received in this process
(`--media-in-process`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from shared.errors import ConfigError

T = TypeVar("T")

CHOICES = ("auto", "uvloop", "asyncio")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def _uvloop() -> LoopFactory | None:
    try:
        import uvloop
    except ImportError:  # not installed (it has no Windows build)
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def choose(choice: str, *, aiortc_here: bool) -> tuple[str, LoopFactory]:
    """The loop `serve --event-loop CHOICE` runs on, by name, and how to make it; ConfigError
    for uvloop where it cannot serve."""
    if choice not in CHOICES:
        raise ConfigError(f"--event-loop {choice}: one of {', '.join(CHOICES)}")
    if choice == "asyncio" or (choice == "auto" and aiortc_here):
        return "asyncio", asyncio.new_event_loop
    factory = _uvloop()
    if choice == "uvloop":
        if aiortc_here:
            raise ConfigError(
                "--event-loop uvloop: live media received in this process (aiortc) needs "
                "asyncio's loop; leave out --media-in-process, or use --event-loop asyncio"
            )
        if factory is None:
            raise ConfigError("--event-loop uvloop: uvloop is not installed (pip install uvloop)")
    if factory is None:
        return "asyncio", asyncio.new_event_loop
    return "uvloop", factory


def run(main: Coroutine[Any, Any, T], factory: LoopFactory) -> T:
    """`asyncio.run(main)` on the loop `factory` makes."""
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
