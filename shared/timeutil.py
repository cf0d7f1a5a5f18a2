"""Time on the wire: UTC ISO 8601 with a trailing Z. Staff input: ISO 8601 with an offset."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.errors import ConfigError, ProtocolError

_MILLIS = tuple(f".{k:03d}Z" for k in range(1000))
# Seconds formatted lately (a busy second's messages and writes share one), by (second, minute,
# hour, day, month, year); cleared when it grows.
_SECONDS: dict[tuple[int, int, int, int, int, int], str] = {}


def to_wire(moment: datetime) -> str:
    """Format an aware datetime as UTC ISO 8601 with milliseconds (truncated) and a Z. The
    date and time to the second are formatted once per second and the milliseconds looked up:
    about 1 µs a call instead of 4-5 µs for `isoformat` each time, on every stored row and
    sent message."""
    if moment.tzinfo is not UTC:  # the server's own times are UTC already: no conversion
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        moment = moment.astimezone(UTC)
    key = (moment.second, moment.minute, moment.hour, moment.day, moment.month, moment.year)
    second = _SECONDS.get(key)
    if second is None:
        if len(_SECONDS) >= 256:
            _SECONDS.clear()
        second = _SECONDS[key] = moment.isoformat(timespec="seconds")[:19]
    return second + _MILLIS[moment.microsecond // 1000]


def from_wire(text: str) -> datetime:
    """Parse a wire time (Z or an explicit offset); ProtocolError when it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ProtocolError(f"time without offset: {text!r}")
    return moment.astimezone(UTC)


def parse_with_offset(text: str) -> datetime:
    """Parse staff input such as 2026-07-25T14:00:00+08:00; an offset is required."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ConfigError(f"time needs an offset such as +08:00: {text!r}")
    return moment.astimezone(UTC)
