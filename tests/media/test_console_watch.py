"""The proctor's console page itself (not the bare test page) watches a candidate who publishes
from a test camera: a real Chromium signs in, clicks the row's watch button, and the row's
<video> decodes frames that advance."""

from __future__ import annotations

from proctor_server.app import Server
from tests.media.test_browser_watch import CHROMIUM, CHROMIUM_ARGS, live_candidate, pytestmark
from tests.support.exam_env import Env

__all__ = ["pytestmark"]  # skipped, as the bare page's test, without chromium


async def test_the_console_shows_a_candidates_live_video(server: Server, env: Env) -> None:
    from playwright.async_api import async_playwright

    attempt, token = await live_candidate(server, env)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1600, "height": 1000})
            await page.goto(f"{server.url}/login?token={token}")
            row = page.locator(f'#grid [data-attempt="{attempt}"]')
            await row.locator('[data-action="watch"]').click(timeout=15_000)
            frames = (
                f"document.querySelector('#grid [data-attempt=\"{attempt}\"] video')"
                ".getVideoPlaybackQuality().totalVideoFrames"
            )
            await page.wait_for_function(f"{frames} > 5", timeout=20_000)
            first = await page.evaluate(frames)
            await page.wait_for_function(f"{frames} > {first + 10}", timeout=10_000)
            stats = server.media.stats(attempt)
            assert stats is not None and stats.watchers == 1
        finally:
            await browser.close()
