"""The runtime's small parts: backoff with full jitter, server URLs, the import rules."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from proctor_client.runtime.backoff import Backoff
from proctor_client.runtime.connection import candidate_url
from shared.errors import ConfigError


def test_backoff_grows_exponentially_up_to_the_cap_with_full_jitter() -> None:
    backoff = Backoff(base=0.5, cap=10.0, rng=random.Random(7))
    assert [backoff.ceiling(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(0.0 <= d <= backoff.ceiling(n) for n, d in enumerate(delays))
    late = delays[10:]
    assert max(late) > 9.0 and min(late) < 1.0  # jitter spreads over the whole range
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_backoff_is_never_stuck_at_zero_or_unbounded() -> None:
    assert Backoff(rng=random.Random(1)).ceiling(10_000) == 10.0
    with pytest.raises(ValueError):
        Backoff(base=0)
    with pytest.raises(ValueError):
        Backoff(base=5, cap=1)


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("http://127.0.0.1:8765", "ws://127.0.0.1:8765/ws/candidate"),
        ("https://exam.example.org/", "wss://exam.example.org/ws/candidate"),
        ("ws://h:1/ws/candidate", "ws://h:1/ws/candidate"),
        ("h:1", "ws://h:1/ws/candidate"),
        ("wss://h/base", "wss://h/base/ws/candidate"),
    ],
)
def test_candidate_url(given: str, url: str) -> None:
    assert candidate_url(given) == url


@pytest.mark.parametrize(
    ("given", "message"),
    [("ftp://h", "use http://"), ("http://", "names no host"), ("http://h:port", "bad port")],
)
def test_bad_server_urls(given: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        candidate_url(given)


def _imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "module",
    [
        "proctor_client.runtime.runtime",
        "proctor_client.runtime.command",
        "proctor_client.runtime.model",
        "proctor_client.outbox",
    ],
)
def test_the_runtime_stays_free_of_qt(module: str) -> None:
    loaded = _imported_after(module)
    assert not {m for m in loaded if m.split(".")[0] in ("PySide6", "qasync", "shiboken6")}


def test_the_flow_is_pure() -> None:
    loaded = _imported_after("proctor_client.core.flow")
    forbidden = {"asyncio", "socket", "sqlite3", "websockets", "PySide6", "threading"}
    assert not {m for m in loaded if m.split(".")[0] in forbidden}
