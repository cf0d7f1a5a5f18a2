"""Time to the first full grid, and the bytes sent, for a proctor joining an exam of 1,000
candidates (aim: under 300 ms, under 300 KB). Figures, not a test.

A real server on loopback (SQLite file, real clock), 1,000 tickets of which `--seated` are in
the exam (identity photo, a snapshot, a third with a violation), the rest absent. A real
Chromium signs in with the session cookie and opens `/`; measured, per run:

- first grid: from the navigation's start to the moment the feed's snapshot is applied and
  the first rows are drawn (`window.__console.loaded`, on the page's own clock);
- bytes: every HTTP response the page fetched by then, as sent (headers and bodies, gzipped
  where they were: page, modules, `/api/exam`), plus the feed's frames (the snapshot, and the
  events that came in meanwhile), without the thumbnails (images load lazily, only for the
  rows on screen, and are reported apart).

`--phases` prints each run's timeline: the page's requests, the feed's socket open, its first
frame (the snapshot) received, parsed, and the grid drawn.

    python bench/console_grid.py [--tickets 1000] [--seated 600] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Response, WebSocket, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from proctor_server.app import ServerConfig, run_server
from shared import protocol as p
from shared.vocabulary import EventKind
from tests.browser.sitting import open_sitting
from tests.server.scripted import new_id

PHASES = """(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const out = [`doc ${nav.name.slice(-12)} resp ${nav.responseEnd.toFixed(0)} dcl ${nav.domContentLoadedEventEnd.toFixed(0)}`];
  for (const r of performance.getEntriesByType("resource"))
    out.push(`  ${r.name.replace(location.origin, "")} ${r.startTime.toFixed(0)}-${r.responseEnd.toFixed(0)} ${r.encodedBodySize}B`);
  for (const m of performance.getEntriesByType("mark")) out.push(`  mark ${m.name} ${m.startTime.toFixed(0)}`);
  return out.join("\\n");
})()"""


async def measure(tickets: int, seated: int, runs: int, chromium: str, verbose: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = ServerConfig(db=Path(tmp) / "exam.db", port=0, nonce_rotation_s=3600)
        async with run_server(config) as server:
            sitting = await open_sitting(server)
            for n in range(tickets):
                await sitting.ticket(f"Candidate {n:04d}")
            codes = list(sitting.tickets)
            for n, code in enumerate(codes[:seated]):
                candidate, _ = await sitting.seat(code, seed=n % 50)
                if n % 3 == 0:
                    ident = new_id()
                    await candidate.send(p.Event(id=ident, kind=EventKind.FOCUS_LOST))
                    await candidate.expect_ack(ident)
            print(f"{tickets} tickets, {seated} in the exam; {runs} runs")
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium)
                times, sizes, images = [], [], []
                for _ in range(runs):
                    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
                    page = await context.new_page()
                    # a first visit in a fresh browser context, counting what it receives
                    counted = {"http": 0, "ws": 0, "img": 0}

                    async def on_response(r: Response, counted: dict[str, int] = counted) -> None:
                        try:  # as sent: compressed where it was, headers included
                            sizes = await r.request.sizes()
                        except Exception:
                            return
                        key = "img" if "/evidence/" in r.url else "http"
                        counted[key] += sizes["responseBodySize"] + sizes["responseHeadersSize"]

                    def on_ws(ws: WebSocket, counted: dict[str, int] = counted) -> None:
                        def frame(data: str | bytes) -> None:
                            counted["ws"] += len(data.encode() if isinstance(data, str) else data)

                        ws.on("framereceived", frame)

                    page.on("response", on_response)
                    page.on("websocket", on_ws)
                    await page.goto(f"{server.url}/login?token={sitting.token}")
                    await page.wait_for_selector('body[data-ready="true"]')
                    loaded = await page.evaluate("window.__console.loaded")
                    if verbose:
                        print(await page.evaluate(PHASES))
                    rows = await page.locator("#grid .row:not([hidden])").count()
                    await page.wait_for_timeout(300)
                    times.append(loaded)
                    sizes.append(counted["http"] + counted["ws"])
                    images.append(counted["img"])
                    print(
                        f"  first grid {loaded:6.0f} ms; {counted['http'] / 1024:6.1f} KB HTTP +"
                        f" {counted['ws'] / 1024:6.1f} KB feed; {rows} rows drawn;"
                        f" thumbnails {counted['img'] / 1024:.0f} KB"
                    )
                    await context.close()
                await browser.close()
            print(
                f"median: first grid {statistics.median(times):.0f} ms, "
                f"{statistics.median(sizes) / 1024:.0f} KB (thumbnails apart: "
                f"{statistics.median(images) / 1024:.0f} KB)"
            )
            await sitting.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--seated", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--phases", action="store_true", help="print each run's timeline")
    args = parser.parse_args()
    asyncio.run(measure(args.tickets, args.seated, args.runs, args.chromium, args.phases))


if __name__ == "__main__":
    main()
