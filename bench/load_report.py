"""Figures of the exam-day load run (`bench/load.py`): what is collected, read from /proc and
from the database afterwards, and the printed report."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Stats:
    connect: list[float] = field(default_factory=list)  # TCP + WebSocket handshake
    join: list[float] = field(default_factory=list)  # hello -> welcome, first entry
    rejoin: list[float] = field(default_factory=list)  # hello -> welcome after a drop
    joined_at: list[float] = field(default_factory=list)  # when each first entry completed
    # servers' and database's CPU seconds at the exam's start (the entry phase ends there)
    cpu_at_start: tuple[float, float] | None = None
    cpu_at_begin: tuple[float, float] = (0.0, 0.0)
    photo: list[float] = field(default_factory=list)  # identity photo -> identity_result
    paper_wait: list[float] = field(default_factory=list)  # profile acked -> paper
    paper_after_start: list[float] = field(default_factory=list)  # exam start -> paper pushed
    ack: list[float] = field(default_factory=list)  # answer -> ack
    other_ack: list[float] = field(default_factory=list)  # profile, submit -> ack
    replay_ack: list[float] = field(default_factory=list)  # resent after a drop -> ack
    errors: Counter[str] = field(default_factory=Counter)
    acked: set[str] = field(default_factory=set)  # answer ids the server acknowledged
    drops: int = 0  # planned: connection aborted without a closing handshake
    unplanned: int = 0  # the server closed or lost the connection
    finished: int = 0  # result received
    gave_up: int = 0
    loop_lag: list[float] = field(default_factory=list)
    cpu_peak: float = 0.0  # server CPU over the busiest second, in cores
    server_cpu_s: float = 0.0
    db_cpu_s: float = 0.0  # PostgreSQL's own processes (0 with SQLite: inside the server)
    client_cpu_s: float = 0.0
    rss_peak: int = 0  # bytes
    t0: float = 0.0  # perf_counter at the start of the entry window
    t0_epoch: float = 0.0  # the same moment in epoch seconds (for the probe's process)
    start_s: float = 0.0  # the exam starts this long after t0
    ack_at: list[tuple[float, float]] = field(default_factory=list)  # (sent after t0, latency)
    # per second: (after t0, server cores, machine busy cores, worst loop lag)
    series: list[tuple[float, float, float, float]] = field(default_factory=list)
    watermark_at: list[float] = field(default_factory=list)  # nonce rotations received
    heartbeat_at: list[tuple[float, float]] = field(default_factory=list)  # the probe's
    checkpoints: list[float] = field(default_factory=list)  # the db file changed (after t0)


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


def modified(path: Path) -> int:
    """A file's modification time in nanoseconds."""
    return path.stat().st_mtime_ns


def server_peak_rss(pid: int) -> int:
    """VmHWM (peak resident set) in bytes, from /proc/<pid>/status; 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Verdict:
    acked: int
    in_client_messages: int
    in_answer_log: int
    duplicated_in_log: int
    attempts: int
    with_result: int
    states: dict[str, int]

    def complete(self, candidates: int) -> bool:
        stored = min(self.in_client_messages, self.in_answer_log)
        return (
            stored == self.acked and not self.duplicated_in_log and self.with_result == candidates
        )


class _Postgres:
    """The few reads below on PostgreSQL (its placeholders are %s)."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.conn = psycopg.connect(dsn)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)

    def close(self) -> None:
        self.conn.close()


def verify_store(db: Path | str, exam_id: str, acked: set[str], *, exclude: str) -> Verdict:
    """Read-only: every acknowledged answer id stored once, every exam attempt scored (but
    the `exclude` ticket's: the probe's, who never answers)."""
    conn: Any = (
        _Postgres(db)
        if isinstance(db, str) and db.startswith("postgres")
        else sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    )
    try:
        exam_attempts = (
            "SELECT id FROM attempts WHERE exam_id = ? AND mode = 'exam' AND ticket != ?"
        )
        claimed = {
            r[0]
            for r in conn.execute(
                # an answer's id is claimed by its history row (store migration "lookups" 2),
                # by a row of client_messages before that
                f"SELECT client_id FROM client_messages WHERE kind = 'answer' AND attempt_id IN ({exam_attempts}) "
                f"UNION SELECT client_id FROM answer_log WHERE attempt_id IN ({exam_attempts})",
                (exam_id, exclude, exam_id, exclude),
            )
        }
        logged = Counter(
            r[0]
            for r in conn.execute(
                f"SELECT client_id FROM answer_log WHERE attempt_id IN ({exam_attempts})",
                (exam_id, exclude),
            )
        )
        rows = conn.execute(
            "SELECT state, score IS NOT NULL, COUNT(*) FROM attempts "
            "WHERE exam_id = ? AND mode = 'exam' AND ticket != ? GROUP BY 1, 2",
            (exam_id, exclude),
        ).fetchall()
    finally:
        conn.close()
    states: Counter[str] = Counter()
    scored = 0
    for state, has_score, count in rows:
        states[state] += count
        scored += count if has_score else 0
    return Verdict(
        acked=len(acked),
        in_client_messages=len(acked & claimed),
        in_answer_log=len(acked & set(logged)),
        duplicated_in_log=sum(n - 1 for n in logged.values() if n > 1),
        attempts=sum(states.values()),
        with_result=scored,
        states=dict(states),
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def line(name: str, values: list[float], base: list[float] | None = None) -> str:
    if not values:
        return f"{name:<34} n=0"
    ms = [v * 1000 for v in values]
    text = (
        f"{name:<34} n={len(ms):<6} p50 {pct(ms, 0.5):7.1f}  p95 {pct(ms, 0.95):7.1f}  "
        f"p99 {pct(ms, 0.99):7.1f}  max {max(ms):7.1f} ms"
    )
    if base:
        text += f"  (p50 {pct(ms, 0.5) / (pct(base, 0.5) * 1000):.1f}x lone)"
    return text


def print_report(
    stats: Stats,
    baseline: dict[str, list[float]],
    verdict: Verdict,
    settings: dict[str, Any],
    wall: float,
    server_log: str,
) -> bool:
    s = settings
    n = s["candidates"]
    print(
        f"exam-day load: {n} candidates entering over {s['window']:g} s, exam starts at "
        f"+{s['window'] * s['start']:g} s, {s['questions']} questions, think {s['think'][0]:g}-"
        f"{s['think'][1]:g} s, {s['drop']:.0%} drop mid-exam and return after "
        f"{s['reconnect'][0]:g}-{s['reconnect'][1]:g} s"
    )
    print(f"setup: {n + 2} tickets in {s['tickets_s']:.1f} s; files in {s['work']}")
    base_ack = baseline.get("ack") or []
    print(line("lone candidate: answer -> ack", base_ack))
    print(line("lone candidate: hello -> welcome", baseline.get("join") or []))
    print(line("connect (TCP + WebSocket)", stats.connect))
    print(line("join: hello -> welcome", stats.join, baseline.get("join")))
    print(line("rejoin after a drop", stats.rejoin))
    print(line("identity photo -> result", stats.photo))
    print(line("waiting for the paper", stats.paper_wait))
    print(line("paper pushed after the start", stats.paper_after_start))
    print(line("ack: answer -> ack", stats.ack, base_ack))
    print(line("profile, submit -> ack", stats.other_ack))
    print(line("probe: ping -> pong", [h for _, h in stats.heartbeat_at]))
    print(line("replayed after a drop -> ack", stats.replay_ack))
    errors = ", ".join(f"{k} {v}" for k, v in stats.errors.most_common()) or "none"
    print(f"errors by code: {errors}")
    print(
        f"reconnects: {stats.drops} after planned drops, {stats.unplanned} after unplanned closes"
    )
    print(f"candidates finished (result received): {stats.finished}/{n}; gave up: {stats.gave_up}")
    print(
        f"server CPU: {stats.server_cpu_s:.1f} s over {wall:.1f} s ({stats.server_cpu_s / wall:.0%} of one core), "
        f"busiest second {stats.cpu_peak:.0%}; peak RSS (VmHWM) {stats.rss_peak / 2**20:.0f} MiB"
    )
    if stats.db_cpu_s:
        print(f"database (PostgreSQL) CPU: {stats.db_cpu_s:.1f} s")
    in_window = sum(1 for t in stats.joined_at if t <= s["window"])
    print(
        f"joined within the entry window ({s['window']:g} s): {in_window}/{n} ({in_window / n:.0%})"
    )
    if stats.cpu_at_start is not None and stats.join and stats.ack:
        (srv0, db0), (srv1, db1) = stats.cpu_at_begin, stats.cpu_at_start
        srv2, db2 = srv0 + stats.server_cpu_s, db0 + stats.db_cpu_s
        joins, acks = len(stats.join), len(stats.ack)
        print(
            f"CPU per join (entry phase: hello, photo, consent, profile): servers "
            f"{(srv1 - srv0) / joins * 1000:.2f} ms, database {(db1 - db0) / joins * 1000:.2f} ms; "
            f"per answer (after the start, submit included): servers "
            f"{(srv2 - srv1) / acks * 1000:.2f} ms, database {(db2 - db1) / acks * 1000:.2f} ms"
        )
    busy = [b for _, _, b, _ in stats.series] or [0.0]
    print(
        f"machine (all processes, {os.cpu_count()} cores): busy {sum(busy) / len(busy):.2f} cores "
        f"on average, {max(busy):.2f} at most"
    )
    lag = stats.loop_lag or [0.0]
    print(
        f"load generator: CPU {stats.client_cpu_s:.1f} s; its event loop ran late by p99 "
        f"{pct(lag, 0.99) * 1000:.0f} ms, max {max(lag) * 1000:.0f} ms (included in the latencies above)"
    )
    v = verdict
    print(
        f"database: {v.acked} acknowledged answer ids; {v.in_client_messages} claimed, "
        f"{v.in_answer_log} in answer_log, {v.duplicated_in_log} logged twice; "
        f"{v.with_result}/{v.attempts} exam attempts with a result ({v.states})"
    )
    bad_log = [ln for ln in server_log.splitlines() if "Traceback" in ln or "ERROR" in ln]
    problems = []
    if v.in_client_messages < v.acked or v.in_answer_log < v.acked:
        problems.append(
            f"{v.acked - min(v.in_client_messages, v.in_answer_log)} acknowledged answers not stored"
        )
    if v.duplicated_in_log:
        problems.append(f"{v.duplicated_in_log} resends stored twice")
    if v.with_result < n or v.attempts < n:
        problems.append(f"{n - v.with_result} candidates without a result in the database")
    if stats.finished < n:
        problems.append(f"{n - stats.finished} candidates did not finish")
    if bad_log:
        problems.append(f"{len(bad_log)} error lines in the server log, first: {bad_log[0][:200]}")
    if s["server_exit"] != 0:
        problems.append(f"server exited with {s['server_exit']}")
    print("verdict: " + ("OK" if not problems else "PROBLEMS: " + "; ".join(problems)))
    return not problems


def print_timeline(stats: Stats, step: float) -> None:
    """Figures per slice of `step` seconds after the entry window opened."""
    print(
        f"timeline (t = seconds after the entry window opened; exam start at t={stats.start_s:g}):"
    )
    print(
        "      t  answers  ack p50  ack p99  ack max  hb p50  hb max   server  machine  loop lag"
        "  watermarks  db written"
    )
    end = max([t for t, _ in stats.ack_at] + [t for t, *_ in stats.series] + [0.0])
    k = 0
    while k * step <= end:
        lo, hi = k * step, (k + 1) * step
        acks = [lat * 1000 for t, lat in stats.ack_at if lo <= t < hi]
        rows = [r for r in stats.series if lo <= r[0] < hi]
        k += 1
        if not acks and not rows:
            continue
        cores = sum(r[1] for r in rows) / len(rows) if rows else 0.0
        busy = sum(r[2] for r in rows) / len(rows) if rows else 0.0
        lag = max((r[3] for r in rows), default=0.0) * 1000
        a = f"{pct(acks, 0.5):7.0f}  {pct(acks, 0.99):7.0f}  {max(acks):7.0f}" if acks else " " * 25
        beats = [h * 1000 for t, h in stats.heartbeat_at if lo <= t < hi]
        a += f"  {pct(beats, 0.5):6.0f}  {max(beats):6.0f}" if beats else " " * 16
        ckpt = " ".join(f"{t:.1f}" for t in stats.checkpoints if lo <= t < hi)
        marks = sum(1 for t in stats.watermark_at if lo <= t < hi)
        print(
            f"{lo:7.0f}  {len(acks):7d}  {a}  {cores:6.0%}  {busy:6.2f}c  {lag:6.0f} ms"
            f"  {marks:10d}  {ckpt}"
        )
