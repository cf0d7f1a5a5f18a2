"""`proctor-server calendar --year Y [--holidays FILE] [--json]`: the year's sittings (R2, R3, R8)."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from proctor_server.programme.files import read_holidays, zone
from shared.calendar import year_calendar
from shared.errors import ConfigError


def register(sub: Any) -> None:
    cal = sub.add_parser(
        "calendar", help="each month's sitting with its registration deadline and ticket date"
    )
    cal.add_argument("--year", required=True, type=int)
    cal.add_argument(
        "--holidays", type=Path, help="public holidays: one ISO date a line, # comments"
    )
    cal.add_argument("--tz", help="the exam body's time zone (default: Asia/Shanghai)")
    cal.add_argument("--json", action="store_true", help="print a JSON list")
    cal.set_defaults(run=run_calendar)


def run_calendar(args: argparse.Namespace) -> int:
    if not 1 <= args.year <= 9998:
        raise ConfigError(f"--year must be between 1 and 9998, not {args.year}")
    tz = zone(args.tz)
    holidays = read_holidays(args.holidays)
    sittings = year_calendar(args.year, holidays, tz)
    rows = [
        {
            "sitting": s.key,
            "exam_date": s.exam_date.isoformat(),
            "moved_for_holiday": s.moved_for_holiday,
            "registration_closes": s.registration_closes.isoformat(),
            "ticket_by": s.ticket_by.isoformat(),
            "result_notice_by": s.result_notice_by(holidays).isoformat(),
        }
        for s in sittings
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'sitting':8} {'exam date':15} {'registration closes':22} ticket by  (zone {tz.key})")
    for s in sittings:
        monday = (s.ticket_by - timedelta(days=1)).date()
        moved = "  moved a week earlier (holiday)" if s.moved_for_holiday else ""
        print(
            f"{s.key:8} {s.exam_date.isoformat()} {s.exam_date:%a}  "
            f"{s.registration_closes:%Y-%m-%d %H:%M %a}   "
            f"{monday.isoformat()} 24:00 {monday:%a}{moved}"
        )
    return 0
