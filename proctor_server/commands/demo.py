"""`proctor-server demo`: a working exam on an embedded database, ready to try at once."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import shlex
import shutil
import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from proctor_server import admin
from proctor_server.app import Server, ServerConfig
from proctor_server.commands.exam import serve_until_stopped
from shared.errors import ConfigError
from shared.questions import parse_bank

DEMO_CANDIDATES = ("张三", "李四", "Alice Martin")


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run a demo exam that starts now, with tickets and URLs")
    demo.add_argument(
        "--dir", type=Path, default=Path("demo-data"), help="where the demo database lives"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8765)
    demo.add_argument("--starts-in", type=float, default=2.0, metavar="MINUTES")
    demo.add_argument("--duration-min", type=float, default=30.0)
    demo.add_argument("--analysis", choices=("faces", "basic"), default="faces")
    demo.add_argument(
        "--candidate-pace",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="the demo candidate spends about this long on each question (0: at once)",
    )
    demo.add_argument(
        "--no-candidate",
        action="store_true",
        help="do not start the demo candidate (a headless client on a synthetic camera)",
    )
    demo.add_argument(
        "--gui",
        action="store_true",
        help="also open the candidate app for the second ticket (needs a display)",
    )
    demo.set_defaults(run=run_demo)


async def prepare(server: Server, args: argparse.Namespace) -> list[str]:
    """Create the demo exam, its tickets and a proctor token; start the demo candidates."""
    bank = resources.files("proctor_server").joinpath("demo_questions.json").read_bytes()
    exam = await admin.create_exam(
        server.store,
        title="Cloud Practitioner (demo)",
        starts_at=datetime.now(UTC) + timedelta(minutes=args.starts_in),
        duration=timedelta(minutes=args.duration_min),
        questions=parse_bank(bank, source="demo questions"),
        snapshot_interval_s=15,
    )
    tickets = [await admin.issue_ticket(server.store, exam.id, name=n) for n in DEMO_CANDIDATES]
    server.spawn(run_candidates(server, [t.token for t in tickets], args), "demo-candidates")
    token = await admin.proctor_token(server.store, exam.id)
    await server.runtime_for(exam.id)
    starts = exam.starts_at.astimezone().strftime("%H:%M:%S")
    lines = [
        f"Demo exam {exam.id}: '{exam.title}', starts at {starts} (local), {args.duration_min:g} min",
        f"  database:   {server.config.db}",
        f"  dashboard:  {server.url}/login?token={token}",
        f"  health:     {server.url}/healthz",
        "  tickets:",
    ]
    for t, name in zip(tickets, DEMO_CANDIDATES, strict=True):
        lines.append(f"    {t.candidate_code} {name}: {t.token}")
    client = shlex.join(printed_client_command())
    lines += [
        f"  {tickets[0].candidate_code} takes the exam"
        + (
            " (disabled)"
            if args.no_candidate
            else f" over a few minutes, headless on a synthetic camera (about "
            f"{args.candidate_pace:g} s a question, one leave of the screen); watch the dashboard"
        ),
        "  open the candidate app yourself (another ticket, a fake camera):",
        f"    {client} --server {server.url} --ticket={tickets[1].token} --camera synthetic --mic tone",
        "  the environment check:",
        f"    {client} check --server {server.url} --camera synthetic --mic tone",
        "Press Ctrl+C to stop.",
    ]
    return lines


def client_command() -> list[str] | None:
    """How to start the candidate client, when it is installed beside the server."""
    if importlib.util.find_spec("proctor_client") is None:
        return None
    return [sys.executable, "-m", "proctor_client.cli"]


def printed_client_command() -> list[str]:
    """The client command a person can paste: the `proctor-client` script beside this Python
    (`.venv/bin/proctor-client`, relative when under the current folder), else the module."""
    script = Path(sys.executable).parent / "proctor-client"
    if not script.exists():
        return [sys.executable, "-m", "proctor_client.cli"]
    try:
        return [str(script.relative_to(Path.cwd()))]
    except ValueError:
        return [str(script)]


async def run_candidates(server: Server, tickets: list[str], args: argparse.Namespace) -> None:
    """The demo's candidates: one headless client that takes the exam on a synthetic camera
    (it waits in the waiting room until the start), and the app itself with --gui."""
    client = client_command()
    if client is None:
        print("  (the candidate client is not installed: no demo candidate)", flush=True)
        return
    procs = []
    if not args.no_candidate:
        procs.append(
            await asyncio.create_subprocess_exec(
                *client,
                "take",
                "--server",
                server.ws_url,
                "--ticket",
                tickets[0],
                "--random",
                "--pace",
                f"{max(args.candidate_pace, 0.001):g}",
                "--leave-once",
                "--camera",
                "synthetic",
                "--outbox",
                str(args.dir / "demo-candidate-outbox.db"),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        )
    if args.gui:
        procs.append(
            await asyncio.create_subprocess_exec(
                *client,
                "--server",
                server.ws_url,
                f"--ticket={tickets[1]}",
                "--camera",
                "synthetic",
                "--mic",
                "tone",
            )
        )
    try:
        if procs and procs[0].stdout is not None and not args.no_candidate:
            async for line in procs[0].stdout:
                print("  [demo candidate] " + line.decode(errors="replace").rstrip(), flush=True)
        await asyncio.gather(*(p.wait() for p in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()


def run_demo(args: argparse.Namespace) -> int:
    args.dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    db = args.dir / f"demo-{stamp}.db"
    config = ServerConfig(
        db=db,
        host=args.host,
        port=args.port,
        analysis=args.analysis,
    )
    server = Server(config)

    def ready(s: Server) -> None:
        print(f"listening on {s.url}", flush=True)

    async def main() -> None:
        async def announce() -> None:
            for line in await prepare(server, args):
                print(line, flush=True)

        def on_ready(s: Server) -> None:
            ready(s)
            s.spawn(announce(), "demo-announce")

        await serve_until_stopped(server, on_ready)

    try:
        asyncio.run(main())
    except OSError as exc:
        # The demo could not start (the port is taken, say): its fresh database goes too.
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(db.with_name(db.stem + "-files"), ignore_errors=True)
        raise ConfigError(
            f"the demo could not start on {args.host}:{args.port}: {exc.strerror or exc} "
            "(choose another port with --port)"
        ) from None
    return 0
