"""The public-holiday list that exam staff maintain (R2, R18, R19).

The file is plain text: one ISO date (`YYYY-MM-DD`) per line; `#` starts a comment, anywhere
on a line; blank lines are ignored. Anything else is an error that names the file and the
line, so a typo never silently moves an exam day. Parsing is pure; reading the file is the
caller's business (see `proctor_server.programme.files`).
"""

from __future__ import annotations

import re
from datetime import date

from shared.errors import ConfigError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Holidays = frozenset[date]

NO_HOLIDAYS: Holidays = frozenset()


def parse_holidays(text: str, *, source: str = "holiday list") -> Holidays:
    """Parse a holiday list; ConfigError names `source` and the first bad line."""
    days: set[date] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _ISO_DATE.fullmatch(line):
            raise ConfigError(
                f"{source}:{number}: expected a date such as 2026-10-01, got {line!r}"
            )
        try:
            days.add(date.fromisoformat(line))
        except ValueError:
            raise ConfigError(f"{source}:{number}: no such date: {line!r}") from None
    return frozenset(days)
