"""Countdown text without Qt: seconds -> "1:02:03" / "04:05"."""

from __future__ import annotations

import math


def format_countdown(seconds: float | None) -> str:
    """Whole seconds left, rounded up (a countdown shows 0:00 only when time is really up)."""
    if seconds is None:
        return "--:--"
    total = max(0, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
