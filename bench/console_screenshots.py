"""Screenshots of the proctor's console for docs/console.md: a grid of 30 candidates in mixed
states (English and Chinese; one streaming live video, one whose video stopped when its network
dropped), a candidate's panel, an action dialog, and the first screen the
server writes into the page (seen with scripts off), taken in a real
Chromium against a real server on loopback with scripted candidates.

    python bench/console_screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from proctor_server.app import Server, ServerConfig, run_server
from tests.browser.sitting import mixed, open_sitting
from tests.media.peers import Streaming, poll
from tests.server.scripted import Candidate
from tests.server.scripted_proctor import Proctor


async def shoot(out: Path, chromium: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = ServerConfig(db=Path(tmp) / "exam.db", port=0, nonce_rotation_s=3600)
        async with run_server(config) as server:
            sitting = await open_sitting(server)
            await mixed(sitting, 30)
            proctor, snapshot = await Proctor.sign_in(server, sitting.token)
            rows = {a.candidate: a for a in snapshot.attempts}
            codes = list(sitting.tickets)
            await proctor.ok("warn", attempt=rows[codes[1]].attempt, text="Please face the camera.")
            await proctor.ok("terminate", attempt=rows[codes[9]].attempt, reason="phone in hand")
            await proctor.ok("extend", attempt=rows[codes[2]].attempt, minutes=10, reason="outage")
            await proctor.close()
            # live media, real aiortc streams of test pictures: one candidate streaming, and
            # one whose network drops once while streaming (the server says why the video
            # stopped), back on a new connection
            live_code, again_code = codes[1], codes[4]  # the first: the panel shown below
            live = Streaming(sitting.seated[live_code][0])
            dropped = Streaming(sitting.seated[again_code][0])
            async with asyncio.timeout(30):
                for attempt in (rows[live_code].attempt, rows[again_code].attempt):
                    await poll(functools.partial(_has_frames, server, attempt))
                first, welcome = sitting.seated.pop(again_code)
                first.vanish()
                await poll(lambda: not server.media.streaming(rows[again_code].attempt))
            await dropped.stop()
            again = await Candidate.connect(server.ws_url)
            await again.enter(sitting.tickets[again_code])
            sitting.seated[again_code] = (again, welcome)
            # each live socket's round trip measured now (a ping and its pong) rather than at
            # the next keepalive
            runtime = await server.runtime_for(sitting.exam.id)
            assert runtime is not None
            for attempt in list(runtime.sessions):
                await runtime.quality.measure(attempt)
            try:
                await _pages(server.url, sitting.token, codes, out, chromium)
            finally:
                await live.stop()


def _has_frames(server: Server, attempt: str) -> bool:
    """Whether the attempt's stream has brought video frames to the server."""
    stats = server.media.stats(attempt)
    return stats is not None and stats.video_frames > 0


async def _pages(url: str, token: str, codes: list[str], out: Path, chromium: str) -> None:
    """The grid, a panel and a dialog in both languages, and the first screen unscripted."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium)
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})
        page = await context.new_page()
        await page.goto(f"{url}/login?token={token}")
        for lang in ("en", "zh"):
            await set_lang(page, lang)
            await page.wait_for_timeout(600)  # thumbnails
            await page.screenshot(path=out / f"console-grid-{lang}.png")
            await page.click(f'[data-candidate="{codes[1]}"] [data-action="open"]')
            await page.wait_for_selector("#panel .violations, #panel .panel-section")
            await page.wait_for_timeout(500)
            await page.screenshot(path=out / f"console-panel-{lang}.png")
            await page.click('#panel [data-panel-action="terminate"]')
            await page.fill("#action-dialog [name=reason]", reason(lang))
            await page.screenshot(path=out / f"console-dialog-{lang}.png")
            await page.click('#action-dialog [data-dialog="cancel"]')
            await page.click('#panel [data-panel-action="close"]')
        # the first screen as the server writes it into the page, before any script
        plain = await browser.new_context(
            viewport={"width": 1600, "height": 1000}, java_script_enabled=False
        )
        unscripted = await plain.new_page()
        await unscripted.goto(f"{url}/login?token={token}")
        await unscripted.screenshot(path=out / "console-first-screen-en.png")
        await browser.close()


def reason(lang: str) -> str:
    return "考试中使用手机" if lang == "zh" else "using a phone during the exam"


async def set_lang(page: Page, lang: str) -> None:
    if await page.evaluate("document.documentElement.lang") != ("zh-CN" if lang == "zh" else "en"):
        await page.click("#lang")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(args.out, args.chromium))


if __name__ == "__main__":
    main()
