"""The `Cluster` seam: what an exam-server process needs from the others, and `LocalCluster`,
the one-process case (SQLite), where there are no others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from proctor_server.cluster.signals import AttemptSignal


class Receiver(Protocol):
    """What a process does with what the others send (built by the composition root)."""

    def on_event(self, exam: str, frame: str) -> None:
        """Another process's proctors' event: hand it to the proctors connected here."""
        ...

    async def on_signal(self, signal: AttemptSignal) -> bool:
        """A signal about one attempt: act on it if its candidate is connected here (True)."""
        ...

    def present(self) -> list[str]:
        """Every attempt with a candidate's connection to this process, now."""
        ...


class Cluster(Protocol):
    @property
    def alone(self) -> bool:
        """True when this process is the only one (nothing to tell, every duty is its own)."""
        ...

    async def start(self, receiver: Receiver) -> None: ...
    async def close(self) -> None: ...

    def publish(self, exam: str, frame: bytes) -> None:
        """A proctors' event of `exam`, for the proctors connected to other processes."""
        ...

    def remote_watched(self, exam: str) -> bool:
        """Whether proctors connected to another process follow `exam`."""
        ...

    def watching(self, exams: list[str]) -> None:
        """The exams this process's proctors follow now (told to the others)."""
        ...

    def tell(self, signal: AttemptSignal) -> None:
        """Send a signal about an attempt to every other process (sent in order, not awaited)."""
        ...

    async def deliver(self, exam: str, attempt: str, message: str) -> bool:
        """Have the process holding the attempt's connection send the candidate `message`;
        True once that process says it did, False when no process did in time."""
        ...

    def leading(self, duty: str) -> AbstractAsyncContextManager[None]:
        """Enter once this process alone leads `duty` (an exam's timers); held until exit."""
        ...

    def present_elsewhere(self, attempt: str) -> bool:
        """Whether the attempt's candidate is connected to another process that is alive."""
        ...


class LocalCluster:
    """One process: it leads every duty, and there is nobody to tell."""

    alone = True

    async def start(self, receiver: Receiver) -> None:
        pass

    async def close(self) -> None:
        pass

    def publish(self, exam: str, frame: bytes) -> None:
        pass

    def remote_watched(self, exam: str) -> bool:
        return False

    def watching(self, exams: list[str]) -> None:
        pass

    def tell(self, signal: AttemptSignal) -> None:
        pass

    async def deliver(self, exam: str, attempt: str, message: str) -> bool:
        return False

    @asynccontextmanager
    async def leading(self, duty: str) -> AsyncIterator[None]:
        yield

    def present_elsewhere(self, attempt: str) -> bool:
        return False


LOCAL = LocalCluster()
