"""Screens: the ``Screens`` interface lives in ``base``; the Qt-backed implementation lives in
``proctor_client/ui`` (Qt stays there). This module holds the fake that ships."""

from __future__ import annotations

from collections.abc import Sequence

from proctor_client.devices.base import ScreenGeometry
from shared.errors import ConfigError


class FixedScreens:
    """A fixed set of screens: ``FixedScreens.count(2)`` for two side-by-side 1920×1080 screens."""

    def __init__(self, screens: Sequence[ScreenGeometry]) -> None:
        self._screens = list(screens)

    @classmethod
    def count(cls, n: int, *, width: int = 1920, height: int = 1080) -> FixedScreens:
        if n < 0:
            raise ConfigError(f"a screen count cannot be negative: {n}")
        return cls(
            [ScreenGeometry(i * width, 0, width, height, f"Screen {i + 1}") for i in range(n)]
        )

    def geometries(self) -> list[ScreenGeometry]:
        return list(self._screens)
