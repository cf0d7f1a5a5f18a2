"""`proctor-server demo`: a working exam on an embedded database, ready to try at once."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from proctor_server import admin
from proctor_server.app import Server, ServerConfig
from proctor_server.commands.exam import serve_until_stopped
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
    demo.set_defaults(run=run_demo)


async def prepare(server: Server, args: argparse.Namespace) -> list[str]:
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
    token = await admin.proctor_token(server.store, exam.id)
    await server.runtime_for(exam.id)
    starts = exam.starts_at.astimezone().strftime("%H:%M:%S")
    lines = [
        f"Demo exam {exam.id}: '{exam.title}', starts at {starts} (local), {args.duration_min:g} min",
        f"  database:   {server.config.db}",
        f"  dashboard:  {server.url}/?token={token}",
        f"  health:     {server.url}/healthz",
        "  tickets:",
    ]
    for t, name in zip(tickets, DEMO_CANDIDATES, strict=True):
        lines.append(f"    {t.candidate_code} {name}: {t.token}")
    lines += [
        "  a candidate on a fake camera:",
        f"    proctor-client --server {server.ws_url} --ticket {tickets[0].token} --camera synthetic --mic tone",
        f"  the environment check:  proctor-client check --server {server.ws_url} --camera synthetic --mic tone",
        "Press Ctrl+C to stop.",
    ]
    return lines


def run_demo(args: argparse.Namespace) -> int:
    args.dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    config = ServerConfig(
        db=args.dir / f"demo-{stamp}.db",
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

    asyncio.run(main())
    return 0
