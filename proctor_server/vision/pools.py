"""What runs the analysis jobs: `VisionPool` (worker processes of this server) or `QueuePool`
(analysis workers anywhere, through the PostgreSQL queue). Both are a `JobPool`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class JobPool(Protocol):
    def warm(self) -> None:
        """Have the models loaded before the first job, if this pool can (returns at once)."""
        ...

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def close(self) -> None: ...
