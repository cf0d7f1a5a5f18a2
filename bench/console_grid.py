"""Time to the first full grid, and the bytes sent, for a proctor joining an exam of 1,000
candidates (aim: under 300 ms, under 300 KB). Figures, not a test.

1,000 tickets (`bench/sitting.py`), of which `--seated` are in the exam (identity photo, a
snapshot, a third with a violation), the rest absent; real SQLite file, real clock. Where the
server runs is the layout (`--layout`, several may be compared in the same run):

- `separate` (as in production): the exam server in its own process (`proctor-server
  serve`), the candidates in another, Chromium in its own;
- `in-process`: the server in this process, beside the candidates and Playwright's driver
  (how this benchmark measured before).

A real Chromium signs in (`/login?token=`, which sets the session cookie and redirects to `/`),
once unmeasured (the browser's and the server's first time), then `--runs` times, each in a
fresh browser context and, unless `--warm`, once the server's last read of the grid is too old
to be given out (`console/grid_cache.py`): every visit's snapshot is then a read of its own, as
for the first proctor to open an exam. Measured, per run:

- first grid on screen: from the navigation's start (the sign-in's redirect included) to the
  paint of the first rows, as the browser reports it (Element Timing on the rows' candidate
  codes, `window.__console.painted`, on the page's own clock): the rows the server wrote into
  the page (`console/first_screen.py`), or where there are none the first snapshot's;
  "written" is when the first snapshot's rows were filled in the DOM
  (`window.__console.loaded`), before the browser laid them out and painted; "document
  answered" is the time from the page's request to its first byte (the server's work for it,
  the grid's read included when it writes the first screen);
- bytes: every HTTP response the page fetched by then, as sent (headers and bodies, gzipped
  where they were), plus the feed's frames (the snapshot, and the events that came in
  meanwhile), without the thumbnails (images load lazily, only for the rows on screen, and
  are reported apart).

`--phases` prints each run's timeline: the page's requests, the feed's socket open, its first
frame (the snapshot) received, parsed, and the grid drawn.

    python bench/console_grid.py [--tickets 1000] [--seated 600] [--runs 5]
        [--layout separate --layout in-process] [--warm] [--phases]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Response, WebSocket, async_playwright
from websockets.asyncio.client import ClientConnection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code
sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_load import Sitting, drain, exam_server, prepare, seat
from sitting import ROOT, identity_photo, load_average

from proctor_server.console.grid_cache import MAX_AGE
from shared import protocol as p
from shared.vocabulary import EventKind

# the document's answer (request sent to its first byte: the server's work for it) and its end
DOCUMENT = """(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return { answered: nav.responseStart - nav.requestStart, received: nav.responseEnd };
})()"""
PHASES = """(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const f = (k) => `${k} ${nav[k].toFixed(0)}`;
  const out = [`doc ${nav.name.slice(-12)} ` + ["redirectEnd", "fetchStart", "requestStart", "responseStart", "responseEnd", "domInteractive", "domContentLoadedEventStart", "domContentLoadedEventEnd"].map(f).join(" ")];
  for (const r of performance.getEntriesByType("resource"))
    out.push(`  ${r.name.replace(location.origin, "")} ${r.startTime.toFixed(0)}-${r.responseEnd.toFixed(0)} ${r.encodedBodySize}B`);
  for (const m of performance.getEntriesByType("mark")) out.push(`  mark ${m.name} ${m.startTime.toFixed(0)}`);
  return out.join("\\n");
})()"""


# ---------------------------------------------------------------- the candidates


async def seat_candidates(
    url: str, tickets: list[str], concurrency: int = 40
) -> list[ClientConnection]:
    """Each ticket's candidate through entry, with a snapshot; a third report a violation.
    What the server pushes to them is read and dropped."""
    queue = list(enumerate(tickets))
    sockets: list[ClientConnection] = []
    readers: list[asyncio.Task[None]] = []

    async def worker() -> None:
        while queue:
            n, ticket = queue.pop()
            ws = await seat(url, ticket)
            snap = p.ImageHeader(type="snapshot", id=uuid.uuid4().hex)
            await ws.send(p.encode_image(snap, identity_photo()))
            if n % 3 == 0:
                await ws.send(p.encode(p.Event(id=uuid.uuid4().hex, kind=EventKind.FOCUS_LOST)))
            sockets.append(ws)
            readers.append(asyncio.create_task(drain(ws)))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await asyncio.sleep(1)  # their acks and violations stored
    return sockets


async def candidates_main(url: str, tickets: list[str]) -> None:
    """`--candidates`: this process holds the candidates until its stdin closes."""
    await seat_candidates(url, tickets)
    print("seated", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@asynccontextmanager
async def candidates_elsewhere(url: str, tickets: list[str], tmp: Path) -> AsyncIterator[None]:
    listed = tmp / "tickets.json"
    listed.write_text(json.dumps(tickets))
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--candidates", url, str(listed),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    line = await child.stdout.readline()
    assert line.strip() == b"seated", line
    try:
        yield
    finally:
        child.stdin.close()
        await asyncio.wait_for(child.wait(), 60)


@asynccontextmanager
async def server_for(
    layout: str, db: Path, s: Sitting, seated: int, options: list[str]
) -> AsyncIterator[str]:
    """The exam server's base URL, its candidates seated, in the layout asked for (`options`
    given to `serve` in the separate layout)."""
    tickets = s.tickets[:seated]
    if layout == "separate":
        server = exam_server(db, *options)
        try:
            async with candidates_elsewhere(server.ws, tickets, db.parent):
                yield server.http
        finally:
            server.stop()
        return
    from proctor_server.app import ServerConfig, run_server

    config = ServerConfig(db=db, port=0, analysis="basic")
    async with run_server(config) as running:
        sockets = await seat_candidates(running.ws_url, tickets)
        try:
            yield running.url
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# ---------------------------------------------------------------- the proctor's page


async def measure(args: argparse.Namespace) -> None:
    results: dict[str, tuple[list[float], list[float], list[int], list[int]]] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=args.chromium)
        for layout in args.layout:
            with tempfile.TemporaryDirectory(prefix="proctor-grid-") as tmp:
                db = Path(tmp) / "exam.db"
                s = await prepare(db, args.tickets)
                async with server_for(layout, db, s, args.seated, args.serve_arg) as url:
                    print(f"{layout}: {args.tickets} tickets, {args.seated} in the exam; "
                          f"load average {load_average()}")  # fmt: skip
                    results[layout] = await runs(browser, url, s.proctor_token, args)
        await browser.close()
    print(f"load average at the end {load_average()}")
    for layout, (times, written, sizes, images) in results.items():
        t = sorted(times)
        print(
            f"{layout}: first grid on screen min {t[0]:.0f} / median {statistics.median(t):.0f} / "
            f"max {t[-1]:.0f} ms (written: median {statistics.median(written):.0f} ms); "
            f"{statistics.median(sizes) / 1024:.0f} KB "
            f"(thumbnails apart: {statistics.median(images) / 1024:.0f} KB)"
        )


async def runs(
    browser: Browser, url: str, token: str, args: argparse.Namespace
) -> tuple[list[float], list[float], list[int], list[int]]:
    times: list[float] = []
    written: list[float] = []
    sizes: list[int] = []
    images: list[int] = []
    answered: list[float] = []
    for n in range(args.runs + 1):  # the first warms the browser and the server, not counted
        if not args.warm:  # the server's last read of the grid too old: this visit reads it
            await asyncio.sleep(MAX_AGE.total_seconds() + 0.2)
        # a first visit in a fresh browser context, counting what it receives
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})
        page = await context.new_page()
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
        tracing = args.trace is not None and n == args.runs  # the last visit
        if tracing:
            await browser.start_tracing(
                page=page,
                categories=[
                    "devtools.timeline",
                    "blink.user_timing",
                    "loading",
                    "disabled-by-default-devtools.timeline",
                    "v8.execute",
                    "blink",
                    "fonts",
                ],
            )
        await page.goto(f"{url}/login?token={token}")
        # the page's own promise, not a polling wait (which runs in the page every frame)
        shown = await page.evaluate("window.__consoleFirstGrid")
        loaded, painted = shown["loaded"], shown["painted"]
        framed = shown["framed"] if shown["framed"] is not None else float("nan")
        document = await page.evaluate(DOCUMENT)
        if args.phases:
            print(await page.evaluate(PHASES))
        rows = await page.locator("#grid .row:not([hidden])").count()
        await page.wait_for_timeout(300)
        if tracing:
            trace = await browser.stop_tracing()
            await asyncio.to_thread(Path(args.trace).write_bytes, trace)
        await context.close()
        if n == 0:
            continue
        times.append(painted)
        written.append(loaded)
        answered.append(document["answered"])
        sizes.append(counted["http"] + counted["ws"])
        images.append(counted["img"])
        print(
            f"  first grid on screen {painted:6.0f} ms (written {loaded:4.0f}, framed {framed:4.0f};"
            f" document answered in {document['answered']:3.0f}, received {document['received']:3.0f});"
            f" {counted['http'] / 1024:6.1f} KB HTTP +"
            f" {counted['ws'] / 1024:6.1f} KB feed; {rows} rows drawn;"
            f" thumbnails {counted['img'] / 1024:.0f} KB"
        )
    print(f"  document answered in: median {statistics.median(answered):.0f} ms")
    return times, written, sizes, images


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--candidates":
        asyncio.run(candidates_main(sys.argv[2], json.loads(Path(sys.argv[3]).read_text())))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--seated", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--layout", action="append", choices=["separate", "in-process"])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--phases", action="store_true", help="print each run's timeline")
    parser.add_argument(
        "--trace", metavar="FILE", help="write Chromium's trace of the last visit (JSON) here"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="visits one after the other, each given the last read (console/grid_cache.py)",
    )
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        metavar="OPTION",
        help="an option of `proctor-server serve` (separate layout), e.g. --serve-arg=--grid-warm=0 "
        "for the first proctor of an exam nobody followed (every visit waits for a read)",
    )
    args = parser.parse_args()
    args.layout = args.layout or ["separate"]
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
