"""The hostile soak: N candidates for M minutes against a real `proctor-server serve`
subprocess on loopback, a few per cent of them hostile (`bench/hostile_candidates.py`).

Two phases of the same length in one run, each on a fresh server and database: first the
well-behaved candidates alone (the baseline), then the same number of well-behaved candidates
with the hostile ones mixed in. Each phase reports the server's resident memory over time
(VmRSS each 5 s) and its CPU, the answer-ack latencies of the well-behaved candidates (the
hostile phase's p99 against the baseline's), every refusal by behaviour and code, and the
accounting read back from the database after the server stopped: each acknowledged answer,
snapshot and event stored exactly once, and each snapshot resent under its id with other bytes
still holding the first bytes.

    python bench/hostile_soak.py                                  # 500 candidates, 30 min each
    python bench/hostile_soak.py --candidates 200 --minutes 4     # a shortened run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from hostile_candidates import BEHAVIOURS, SoakStats, Steady, merge
from load import Server, photo_jpeg, raise_open_files
from load_report import machine_busy, pct
from ramp import rss
from sitting import cpu_seconds, sitting

MB = 1024 * 1024


def scene_jpeg() -> bytes:
    """A snapshot: 320x240, other noise than the identity photo."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(11)
    image = rng.integers(60, 190, (240, 320, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return bytes(data)


def workers(pid: int) -> list[int]:
    """The server's child processes (its analysis workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def rss_or_zero(pid: int) -> int:
    try:
        return rss(pid)
    except OSError:  # ended meanwhile
        return 0


def family_cpu(pid: int, children: list[int]) -> float:
    total = cpu_seconds(pid)
    for child in children:
        try:
            total += cpu_seconds(child)
        except OSError:
            pass
    return total


async def sample(stats: SoakStats, pid: int, stop: asyncio.Event, every: float = 5.0) -> None:
    """Every `every` seconds: the server process's RSS, its workers' RSS, and the CPU of all
    of them."""
    children = workers(pid)
    last_cpu, last_t = family_cpu(pid, children), time.perf_counter()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
        now = time.perf_counter()
        try:
            children = workers(pid)
            cpu, memory = family_cpu(pid, children), rss(pid)
            helpers = sum(rss_or_zero(c) for c in children)
        except OSError:
            return
        stats.rss.append((now - stats.t0, memory))
        stats.workers_rss.append(helpers)
        stats.cpu.append((now - stats.t0, (cpu - last_cpu) / (now - last_t)))
        last_cpu, last_t = cpu, now


async def phase(
    name: str, args: argparse.Namespace, hostile: int
) -> tuple[SoakStats, dict[str, int]]:
    """One phase: `args.candidates - hostile_count(args)` well-behaved candidates, and
    `hostile` hostile ones, for `args.minutes`."""
    steady = args.candidates - hostile_count(args)
    work = Path(tempfile.mkdtemp(prefix=f"proctor-soak-{name}-"))
    db = work / "soak.db"
    tokens = await sitting(db, steady + hostile, starts_in=timedelta(minutes=-1), title=name)
    photo, scene = photo_jpeg(), scene_jpeg()
    stats = SoakStats()
    server = Server(db, work)
    pid = server.proc.pid
    busy_before = machine_busy()
    try:
        stop = asyncio.Event()
        stats.t0 = t0 = time.perf_counter()
        until = t0 + args.minutes * 60
        sampler = asyncio.create_task(sample(stats, pid, stop))
        rng = random.Random(args.seed)
        offsets = [rng.uniform(0, args.ramp) for _ in range(steady)]

        async def one(i: int) -> None:
            await asyncio.sleep(offsets[i])
            await Steady(
                server.url,
                tokens[i],
                stats,
                random.Random(rng.random() + i),
                think=(args.think[0], args.think[1]),
                photo=photo,
                until=until,
                every=args.snapshot_every,
                scene=scene,
            ).take()

        hostiles = asyncio.create_task(
            run_hostiles(
                {
                    "url": server.url,
                    "tickets": tokens[steady:],
                    "seconds": args.minutes * 60,
                    "ramp": args.ramp,
                    "seed": args.seed,
                    "photo": photo.hex(),
                    "scene": scene.hex(),
                    "behaviours": args.behaviours,
                }
            )
            if hostile
            else no_hostiles()
        )
        lag = asyncio.create_task(loop_lag(stats, stop))
        tasks = [asyncio.create_task(one(i)) for i in range(steady)]
        _, pending = await asyncio.wait(tasks, timeout=args.minutes * 60 + 180)
        for task in pending:
            task.cancel()
        stats.errors["still_running_at_budget"] += len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
        merge(stats, await hostiles)
        stats.server_cpu_s = cpu_seconds(pid)
        stop.set()
        await sampler
        await lag
        wall = time.perf_counter() - t0
        stats.machine_cores = (machine_busy() - busy_before) / wall
        stats.rss_peak = max((m for _, m in stats.rss), default=0)
    finally:
        code = server.stop()
    log = server.log.read_text(errors="replace")
    accounting = account(db, stats) | {
        "server_exit": code,
        "tracebacks": log.count("Traceback"),
    }
    shutil.rmtree(work, ignore_errors=True)
    return stats, accounting


async def run_hostiles(job: dict[str, Any]) -> dict[str, Any]:
    """The hostile candidates, in a process of their own (`hostile_candidates.py`)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("hostile_candidates.py")),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate(json.dumps(job).encode())
    if child.returncode != 0:
        raise SystemExit(
            f"hostile_soak: the hostile candidates' process failed ({child.returncode})"
        )
    found: dict[str, Any] = json.loads(out)
    return found


async def no_hostiles() -> dict[str, Any]:
    return {"snapshots": [], "events": [], "first_bytes": {}, "refusals": [], "closes": []}


async def loop_lag(stats: SoakStats, stop: asyncio.Event) -> None:
    """How late this process's 100 ms sleeps wake: the load generator's own delay, which the
    well-behaved candidates' ack latencies include."""
    while not stop.is_set():
        planned = time.perf_counter()
        await asyncio.sleep(0.1)
        stats.loop_lag.append(time.perf_counter() - planned - 0.1)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def hostile_count(args: argparse.Namespace) -> int:
    return max(1, round(args.candidates * args.hostile / 100)) if args.hostile > 0 else 0


def account(db: Path, stats: SoakStats) -> dict[str, int]:
    """Read back, with the server stopped: each acknowledged write stored exactly once."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        answers = Counter(r[0] for r in conn.execute("SELECT client_id FROM answer_log"))
        photos = Counter(
            r[0] for r in conn.execute("SELECT client_id FROM photos WHERE kind = 'snapshot'")
        )
        events = Counter(r[0] for r in conn.execute("SELECT client_id FROM events"))
        sha = dict(conn.execute("SELECT client_id, sha256 FROM photos WHERE kind = 'snapshot'"))
    finally:
        conn.close()

    def tally(acked: set[str], stored: Counter[str], what: str) -> dict[str, int]:
        return {
            f"{what}_acked": len(acked),
            f"{what}_stored_once": sum(1 for i in acked if stored[i] == 1),
            f"{what}_missing": sum(1 for i in acked if stored[i] == 0),
            f"{what}_duplicated": sum(1 for i in acked if stored[i] > 1),
        }

    resent = stats.first_bytes
    return (
        tally(stats.acked, answers, "answers")
        | tally(stats.snapshots, photos, "snapshots")
        | tally(stats.events, events, "events")
        | {
            "resent_snapshots": len(resent),
            "resent_kept_first_bytes": sum(1 for i, h in resent.items() if sha.get(i) == h),
        }
    )


def report(name: str, stats: SoakStats, accounting: dict[str, int], minutes: float) -> None:
    ack = [v * 1000 for v in stats.ack] or [float("nan")]
    print(f"\n== {name}: {minutes:g} min")
    print(
        f"  well-behaved: {stats.finished} finished, {stats.gave_up} gave up; answers acked "
        f"{len(stats.ack)}; ack ms p50 {pct(ack, 0.5):.1f} p95 {pct(ack, 0.95):.1f} "
        f"p99 {pct(ack, 0.99):.1f} max {max(ack, default=0):.1f}"
    )
    lag = [v * 1000 for v in stats.loop_lag] or [0.0]
    print(
        f"  load generator's own loop lag ms: p99 {pct(lag, 0.99):.1f}, max {max(lag):.1f} "
        "(included in the ack latencies)"
    )
    if stats.errors:
        print(f"  well-behaved errors: {dict(stats.errors)}")
    step = max(1, len(stats.rss) // 10)
    points = stats.rss[step - 1 :: step]
    print(
        "  server RSS MB over time (m:ss MB): "
        + ", ".join(f"{int(t) // 60}:{int(t) % 60:02d} {m / MB:.0f}" for t, m in points)
        + f"; peak {stats.rss_peak / MB:.0f}"
    )
    if any(stats.workers_rss):
        print(
            f"  analysis workers' RSS MB: first {stats.workers_rss[0] / MB:.0f}, last "
            f"{stats.workers_rss[-1] / MB:.0f}, peak {max(stats.workers_rss) / MB:.0f}"
        )
    cores = [c for _, c in stats.cpu]
    print(
        f"  server CPU cores (its workers included): mean {sum(cores) / max(len(cores), 1):.2f}, peak "
        f"{max(cores, default=0):.2f}; machine busy {stats.machine_cores:.2f} cores"
    )
    if stats.refusals:
        print("  refusals (behaviour: code count):")
        for (who, code), n in sorted(stats.refusals.items()):
            print(f"    {who}: {code} {n}")
    if stats.closes:
        print("  connections closed (behaviour: close code count):")
        for (who, code), n in sorted(stats.closes.items()):
            print(f"    {who}: {code} {n}")
    print("  accounting (read back from the database):")
    for what in ("answers", "snapshots", "events"):
        a = accounting
        print(
            f"    {what}: {a[f'{what}_acked']} acked, {a[f'{what}_stored_once']} stored exactly "
            f"once, {a[f'{what}_missing']} missing, {a[f'{what}_duplicated']} duplicated"
        )
    print(
        f"    snapshots resent with other bytes: {accounting['resent_snapshots']}, first bytes "
        f"kept: {accounting['resent_kept_first_bytes']}"
    )
    print(
        f"    server exit code {accounting['server_exit']}, tracebacks in its log "
        f"{accounting['tracebacks']}"
    )


def complete(accounting: dict[str, int]) -> bool:
    return (
        all(
            accounting[f"{w}_acked"] == accounting[f"{w}_stored_once"]
            for w in ("answers", "snapshots", "events")
        )
        and accounting["resent_snapshots"] == accounting["resent_kept_first_bytes"]
    )


async def run(args: argparse.Namespace) -> int:
    raise_open_files(4 * args.candidates + 256)
    print(f"load average before: {load_average()}")
    hostile = hostile_count(args)
    print(
        f"{args.candidates - hostile} well-behaved candidates in each phase, {hostile} hostile "
        f"({args.hostile:g} %) in the second; {args.minutes:g} min each"
    )
    ok = True
    if args.baseline:
        base, base_acc = await phase("baseline", args, 0)
        report("baseline (well-behaved only)", base, base_acc, args.minutes)
        ok = complete(base_acc)
    mixed, mixed_acc = await phase("hostile", args, hostile)
    report(f"with {hostile} hostile candidates", mixed, mixed_acc, args.minutes)
    print(f"\nload average after: {load_average()}")
    if args.baseline:
        b99, m99 = (pct(s.ack, 0.99) * 1000 if s.ack else float("nan") for s in (base, mixed))
        print(
            f"ack p99 of the well-behaved: {m99:.1f} ms with hostile candidates vs {b99:.1f} ms "
            f"without ({m99 / b99 if b99 else float('nan'):.2f}x)"
        )
    ok = ok and complete(mixed_acc)
    print("every acknowledged write accounted for" if ok else "ACKNOWLEDGED WRITES LOST")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=30.0, help="each phase")
    parser.add_argument(
        "--hostile",
        type=float,
        default=5.0,
        help="per cent of candidates (5 %% of 200 gives one of each of the 10 behaviours)",
    )
    parser.add_argument("--think", type=float, nargs=2, default=[2.0, 8.0], metavar=("MIN", "MAX"))
    parser.add_argument("--snapshot-every", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which they enter")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--behaviours",
        default=",".join(BEHAVIOURS),
        help="the hostile behaviours, comma-separated (default: all, in turn)",
    )
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the phase without hostile candidates first (to find a behaviour's effect "
        "alone: --no-baseline --behaviours NAME)",
    )
    args = parser.parse_args()
    args.behaviours = [b for b in args.behaviours.split(",") if b]
    unknown = set(args.behaviours) - set(BEHAVIOURS)
    if unknown or not args.behaviours:
        print(f"hostile_soak: --behaviours among {', '.join(BEHAVIOURS)}", file=sys.stderr)
        raise SystemExit(2)
    if args.candidates < 2 or args.minutes <= 0 or not 0 <= args.hostile < 50:
        print(
            "hostile_soak: --candidates >= 2, --minutes > 0, 0 <= --hostile < 50", file=sys.stderr
        )
        raise SystemExit(2)
    try:
        raise SystemExit(asyncio.run(run(args)))
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
