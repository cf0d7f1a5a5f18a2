"""Event latency from a candidate's message to the proctor's page, with 1,000 candidates in the
exam, one proctor against twenty (aim: p95 under 100 ms with twenty). Figures, not a test.

The exam server (`proctor-server serve`) runs in its own process; this process holds the
1,000 candidates (seated as the app does: rules, address, identity photo, paper) and, in the
second phase, 19 more proctor feeds over websockets that read every frame. One real Chromium
page (`/usr/bin/chromium`) is signed in as a proctor throughout. In each phase `--events`
candidates, one every `--gap-ms`, send an `event` (focus back); the time is taken when it is
sent, and again when the page's feed socket delivers the matching `event` to the page
(`performance.timeOrigin + performance.now()`, set against this process's clock by a round
trip measured before each phase). The same run measures one proctor, then twenty.

What the latency holds: the candidate socket, the event stored and committed
(synchronous=FULL) before it is acknowledged and published, the bus (each event encoded once
for every proctor), each proctor's socket, and the page's main thread receiving it.

    python bench/console_fanout.py [--candidates 1000] [--proctors 20] [--events 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_load import drain, exam_server, prepare, seat_all
from playwright.async_api import Page, async_playwright
from sitting import load_average, pct
from websockets.asyncio.client import ClientConnection, connect

from shared import protocol as p
from shared.vocabulary import EventKind

# Every `event` the page's feed socket delivers: its candidate and arrival (epoch ms).
RECORDER = """
(() => {
  const Native = window.WebSocket;
  window.__arrivals = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (m) => {
        const at = performance.timeOrigin + performance.now();
        if (typeof m.data === "string" && m.data.startsWith('{"type":"event"')) {
          const e = JSON.parse(m.data);
          window.__arrivals.push([e.candidate, e.kind, at]);
        }
      });
    }
  };
})();
"""


async def clock_offset(page: Page) -> float:
    """The page's epoch clock minus ours, in ms, from the best of a few round trips."""
    best = (float("inf"), 0.0)
    for _ in range(15):
        before = time.time() * 1000
        theirs = await page.evaluate("performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        best = min(best, (after - before, theirs - (before + after) / 2))
    return best[1]


async def feed_reader(ws: ClientConnection, arrivals: list[tuple[str, float]]) -> None:
    try:
        async for frame in ws:
            if isinstance(frame, str) and frame.startswith('{"type":"event"'):
                code = frame.split('"candidate":"', 1)[1].split('"', 1)[0]
                arrivals.append((code, time.time() * 1000))
    except Exception:
        return


async def phase(
    page: Page,
    codes: list[tuple[str, ClientConnection]],
    events: int,
    gap_ms: float,
    feeds: list[list[tuple[str, float]]],
) -> tuple[list[float], list[float]]:
    """Send `events` events; latencies (ms) to the page, and to the other feeds."""
    offset = await clock_offset(page)
    await page.evaluate("window.__arrivals = []")
    for arrived in feeds:
        arrived.clear()
    sent: dict[str, float] = {}
    chosen = random.sample(codes, events)
    for code, ws in chosen:
        sent[code] = time.time() * 1000
        await ws.send(p.encode(p.Event(id=uuid.uuid4().hex, kind=EventKind.FOCUS_BACK)))
        await asyncio.sleep(gap_ms / 1000)
    await page.wait_for_function(f"window.__arrivals.length >= {events}", timeout=60_000)
    arrivals = await page.evaluate("window.__arrivals")
    to_page = [at - offset - sent[code] for code, _, at in arrivals if code in sent]
    to_feeds = [at - sent[code] for arrived in feeds for code, at in arrived if code in sent]
    return to_page, to_feeds


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none"
    return (
        f"{name}: n={len(values)} p50 {statistics.median(values):.1f} ms, "
        f"p95 {pct(values, 0.95):.1f} ms, max {max(values):.1f} ms"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        s = await prepare(db, args.candidates)
        server = exam_server(db)
        feeds: list[ClientConnection] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            await seat_all(server.ws, s)
            tasks += [asyncio.create_task(drain(ws)) for ws in s.candidates]
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=args.chromium)
                context = await browser.new_context(viewport={"width": 1600, "height": 1000})
                await context.add_init_script(RECORDER)
                page = await context.new_page()
                await page.goto(f"{server.http}/login?token={s.proctor_token}")
                await page.wait_for_selector('body[data-ready="true"]')
                coded = s.seated
                results = {}
                arrived: list[list[tuple[str, float]]] = []
                results[1] = await phase(page, coded, args.events, args.gap_ms, arrived)
                url = f"{server.ws}/ws/proctor?token={s.proctor_token}"
                for _ in range(args.proctors - 1):
                    ws = await connect(url, compression=None, max_size=None)
                    await ws.recv()  # its snapshot
                    feeds.append(ws)
                    arrived.append([])
                    tasks.append(asyncio.create_task(feed_reader(ws, arrived[-1])))
                results[args.proctors] = await phase(page, coded, args.events, args.gap_ms, arrived)
                await browser.close()
            print(
                f"{args.candidates} candidates in the exam; {args.events} events a phase, one "
                f"every {args.gap_ms:.0f} ms; load average {load_average()}"
            )
            for n, (to_page, to_feeds) in results.items():
                print(f"  {n:2d} proctor(s): {summary('to the page', to_page)}")
                if to_feeds:
                    print(f"               {summary('to the other feeds', to_feeds)}")
        finally:
            for task in tasks:
                task.cancel()
            for ws in feeds:
                await ws.close()
            await s.close()
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--proctors", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
