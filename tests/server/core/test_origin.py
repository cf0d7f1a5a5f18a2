"""Same-origin checks for browser requests, table-driven."""

from __future__ import annotations

import pytest

from proctor_server.origin import origin_allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "exam.example.org", True),  # the candidate app, a script
        ("https://exam.example.org", "exam.example.org", True),
        ("https://exam.example.org", "exam.example.org:443", True),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", True),
        ("http://127.0.0.1:8765", "127.0.0.1:9999", False),
        ("https://EXAM.example.org", "exam.example.org", True),
        ("https://evil.example.com", "exam.example.org", False),
        ("https://exam.example.org.evil.com", "exam.example.org", False),
        ("null", "exam.example.org", False),  # a sandboxed frame, a file:// page
        ("file://", "exam.example.org", False),
        ("https://exam.example.org", None, False),
        ("http://[::1]:8765", "[::1]:8765", True),
        ("http://[::1]:8765", "[::1]:8766", False),
    ],
)
def test_origin_allowed(origin: str | None, host: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, host) is allowed


def test_an_operator_may_list_another_origin() -> None:
    assert origin_allowed(
        "https://console.example.org", "exam.example.org", {"https://console.example.org"}
    )
