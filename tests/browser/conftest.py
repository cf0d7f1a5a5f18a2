"""The console in a real Chromium (Debian's `chromium`; Playwright drives it, no browser is
downloaded) against a real server on loopback with scripted candidates. One browser per
module; a fresh server, exam and browser context per test. Skipped, saying why, only when
Chromium or Playwright is not installed."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from proctor_server.app import Server, ServerConfig, run_server
from tests.support.clock import FakeClock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)

if not Path(CHROMIUM).exists():
    pytest.skip(
        "no Chromium at /usr/bin/chromium (tools/system-deps installs Debian's chromium)",
        allow_module_level=True,
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest_asyncio.fixture(loop_scope="module")
async def server(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    config = ServerConfig(db=tmp_path / "exam.db", port=0, nonce_rotation_s=3600)
    async with run_server(config, clock) as s:
        yield s


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en-US")
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    yield opened
    await context.close()
