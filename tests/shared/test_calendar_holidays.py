"""The staff's holiday list file: dates, comments, and one-line errors naming file and line."""

from __future__ import annotations

from datetime import date

import pytest

from shared.errors import ConfigError
from shared.holidays import parse_holidays


def test_dates_comments_and_blank_lines() -> None:
    text = (
        "# public holidays 2026\n"
        "2026-01-01\n"
        "\n"
        "   2026-10-01   # National Day\n"
        "2026-10-01\n"  # a repeat is harmless
        "\t2026-12-26\t\n"
    )
    assert parse_holidays(text) == frozenset(
        {date(2026, 1, 1), date(2026, 10, 1), date(2026, 12, 26)}
    )


def test_empty_file_means_no_holidays() -> None:
    assert parse_holidays("") == frozenset()
    assert parse_holidays("# nothing yet\n\n") == frozenset()


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("2026-01-01\n2026/10/01\n", 2, "expected a date"),
        ("2026-02-30\n", 1, "no such date"),
        ("2024-02-29\n2023-02-29\n", 2, "no such date"),  # leap day only in a leap year
        ("# ok\n\n2026-10-01 2026-10-02\n", 3, "expected a date"),
        ("26-10-01\n", 1, "expected a date"),
        ("2026-1-1\n", 1, "expected a date"),
        ("holiday\n", 1, "expected a date"),
    ],
)
def test_bad_lines_name_the_file_and_line(text: str, line: int, what: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_holidays(text, source="holidays-2026.txt")
    message = info.value.message
    assert message.startswith(f"holidays-2026.txt:{line}: {what}")
    assert "\n" not in message


def test_the_shipped_example_list_parses_and_moves_september() -> None:
    from pathlib import Path

    from shared.calendar import sitting_date

    path = Path(__file__).parents[2] / "examples" / "holidays-2026.txt"
    days = parse_holidays(path.read_text(encoding="utf-8"), source=str(path))
    assert date(2026, 10, 1) in days and len(days) == 33
    assert sitting_date(2026, 9, days) == date(2026, 9, 19)  # Mid-Autumn on the 26th
    assert sitting_date(2026, 10, days) == date(2026, 10, 31)
