"""Countdown text without Qt: seconds -> "1:02:03" / "04:05"."""

from __future__ import annotations

import math
from datetime import tzinfo

from shared.timeutil import from_wire


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


def local_time(wire: str, tz: tzinfo | None = None) -> str:
    """A wire time (UTC, Z) shown in the candidate's time zone: "2026-07-25 14:00 (UTC+08:00)"."""
    moment = from_wire(wire).astimezone(tz)
    offset = moment.strftime("%z")
    label = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{moment:%Y-%m-%d %H:%M} ({label})"
