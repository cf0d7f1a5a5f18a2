"""A real Chromium (Debian's `chromium`, driven by Playwright) signs in as a proctor on the
live-video test page, watches a candidate publishing from a test camera, and its <video>
decodes frames that advance and show the camera's colours.

Skipped where Playwright or /usr/bin/chromium is missing (tools/system-deps installs the
browser; browser downloads are not needed)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from proctor_server import admin
from proctor_server.app import Server
from tests.media.fakes import PALETTE_BGR
from tests.media.peers import palette_sources
from tests.support.exam_env import Env

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="needs Playwright for Python and Debian's chromium",
)
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    # host candidates on 127.0.0.1 as they are, not hidden behind mDNS names
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
]

FRAMES_JS = "el => el.getVideoPlaybackQuality().totalVideoFrames"
COLOUR_JS = """el => {
  const c = document.createElement('canvas');
  c.width = el.videoWidth; c.height = el.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(el, 0, 0);
  const d = g.getImageData(c.width / 2, c.height / 2, 1, 1).data;
  return [d[0], d[1], d[2], el.videoWidth, el.videoHeight];
}"""


async def live_candidate(server: Server, env: Env) -> tuple[str, str]:
    """A candidate publishing the test palette and a tone; (their attempt, a proctor token)."""
    exam_id, ticket = await env.exam()
    runtime = env.runtime(ticket, media=palette_sources())
    runtime.start()
    async with asyncio.timeout(20):
        state = await runtime.wait_for(lambda s: s.media == "live")
    assert state.session is not None
    return state.session, await admin.proctor_token(server.store, exam_id)


async def test_chromium_watches_a_candidate(server: Server, env: Env) -> None:
    from playwright.async_api import async_playwright

    attempt, token = await live_candidate(server, env)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{server.url}/media-test?token={token}")
            card = page.locator(f'[data-attempt="{attempt}"]')
            await card.locator('[data-action="watch"]').click(timeout=10_000)
            video = card.locator("video")
            await page.wait_for_function(
                f"document.querySelector('[data-attempt=\"{attempt}\"] video')"
                ".getVideoPlaybackQuality().totalVideoFrames > 5",
                timeout=20_000,
            )
            first = await video.evaluate(FRAMES_JS)
            await page.wait_for_function(
                f"document.querySelector('[data-attempt=\"{attempt}\"] video')"
                f".getVideoPlaybackQuality().totalVideoFrames > {first + 10}",
                timeout=10_000,
            )
            red, green, blue, width, height = await video.evaluate(COLOUR_JS)
            assert (width, height) == (320, 240)
            distance = min(
                max(abs(red - r), abs(green - g), abs(blue - b)) for b, g, r in PALETTE_BGR
            )
            assert distance < 45, (red, green, blue)
            stats = server.media.stats(attempt)
            assert stats is not None and stats.watchers == 1
        finally:
            await browser.close()
