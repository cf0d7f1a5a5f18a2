"""Time on the wire: UTC ISO 8601 with a trailing Z. Staff input: ISO 8601 with an offset."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.errors import ConfigError, ProtocolError


def to_wire(moment: datetime) -> str:
    """Format an aware datetime as UTC ISO 8601 with milliseconds and a Z."""
    if moment.tzinfo is not UTC:  # the server's own times are UTC already: no conversion
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


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
