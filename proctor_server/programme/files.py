"""Reading the staff's holiday list and the time zone setting (the I/O around `shared`)."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.calendar import exam_zone
from shared.errors import ConfigError
from shared.holidays import NO_HOLIDAYS, Holidays, parse_holidays

TZ_ENV = "PROCTOR_EXAM_TZ"  # the exam body's zone when --tz is not given
HOLIDAYS_ENV = "PROCTOR_HOLIDAYS"  # the holiday file when --holidays is not given


def read_holidays(path: Path | str | None) -> Holidays:
    """The holiday list in `path` (or $PROCTOR_HOLIDAYS); none when neither is set."""
    chosen = path if path is not None else os.environ.get(HOLIDAYS_ENV) or None
    if chosen is None:
        return NO_HOLIDAYS
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such holiday file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the holiday file: {exc.strerror}") from None
    return parse_holidays(text, source=str(file))


def zone(name: str | None) -> ZoneInfo:
    """--tz, else $PROCTOR_EXAM_TZ, else Asia/Shanghai."""
    return exam_zone(name or os.environ.get(TZ_ENV) or None)
