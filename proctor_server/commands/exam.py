"""`serve`, `exam create`, `ticket`, `proctor-token`: running the server and setting up an exam."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from proctor_server import admin, event_loop
from proctor_server.app import COMMIT_WINDOW_MS, Server, ServerConfig
from proctor_server.media.ice import parse_ice_server
from proctor_server.media.remote_gateway import CLOSE_TIMEOUT_S, EXIT_TIMEOUT_S
from proctor_server.store import Store, check_target, database_arg, is_postgres, make_store
from proctor_server.store.sealing import sealer_from
from shared.errors import ConfigError
from shared.protocol import WarningLimitAction
from shared.questions import Question, parse_bank
from shared.timeutil import parse_with_offset

T = TypeVar("T")
log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the exam server")
    serve.add_argument(
        "--db",
        required=True,
        type=database_arg,
        help="a SQLite database file, or a postgresql:// URL",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--data-dir",
        type=Path,
        help="photos and snapshots (default: beside the db; one shared folder for every "
        "server of a PostgreSQL database)",
    )
    serve.add_argument(
        "--analysis",
        choices=("faces", "basic"),
        default="faces",
        help="identity and snapshot analysis (default: faces)",
    )
    serve.add_argument(
        "--analysis-workers",
        choices=("local", "queue"),
        default="local",
        help="where face analysis runs: a worker process of this server (local, the default), "
        "or analysis workers anywhere that take jobs from the PostgreSQL queue "
        "(queue: needs --db postgresql://...; start them with `proctor-server analysis-worker`)",
    )
    serve.add_argument("--nonce-rotation", type=float, default=60.0, metavar="SECONDS")
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="URL",
        help="a web page of another site that may open the proctor feed (repeatable)",
    )
    serve.add_argument(
        "--data-key-file",
        type=Path,
        help="the key that encrypts photos, snapshots and personal fields at rest "
        "(default: $PROCTOR_DATA_KEY_FILE; `proctor-server key new` makes one)",
    )
    serve.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="a STUN or TURN server for live media, repeatable: stun:HOST:PORT or "
        "turn:USER:PASSWORD@HOST:PORT (docs/operations.md)",
    )
    serve.add_argument(
        "--no-media", action="store_true", help="take no live audio and video from candidates"
    )
    serve.add_argument(
        "--media",
        choices=("aiortc", "janus"),
        default="aiortc",
        help="where live media goes: aiortc (default: in the supervised `proctor-server media` "
        "process) or a Janus video room",
    )
    serve.add_argument(
        "--janus-url",
        default="ws://127.0.0.1:8188",
        metavar="URL",
        help="Janus's WebSocket API, with --media janus (default ws://127.0.0.1:8188)",
    )
    serve.add_argument(
        "--janus-admin-key-file",
        type=Path,
        metavar="FILE",
        help="a file holding the video room plugin's admin_key, if Janus has one (give every "
        "server of a deployment the same: their rooms are then shared)",
    )
    serve.add_argument(
        "--media-in-process",
        action="store_true",
        help="receive live media in this process's event loop, not in the supervised "
        "`proctor-server media` process (docs/architecture.md: media)",
    )
    serve.add_argument(
        "--live-analysis-interval",
        type=float,
        default=10.0,
        metavar="S",
        help="analyse a frame of each candidate's live video every S seconds, like a snapshot "
        "(default 10; 0: off)",
    )
    serve.add_argument(
        "--media-cpus",
        type=cpu_list,
        default=(),
        metavar="LIST",
        help="run the media process on these CPUs only, e.g. 2,3 or 2-3 (default: any); "
        "give it cores the exam server does not use and live media never delay an ack "
        "(docs/operations.md)",
    )
    serve.add_argument(
        "--media-priority",
        choices=("nice", "idle"),
        default="nice",
        help="how the media process yields the cores to the exam server: nice (default; "
        "niceness +10: cores shared by weight) or idle (Linux's SCHED_IDLE: it runs only on "
        "a core nothing else wants, and starves while the cores are full) "
        "(docs/operations.md)",
    )
    serve.add_argument(
        "--clip-seconds",
        type=float,
        default=10.0,
        metavar="S",
        help="keep S seconds of live audio and video before and after each violation as a "
        "clip linked to it (default 10; 0: no clips)",
    )
    serve.add_argument(
        "--record-sessions",
        action="store_true",
        help="also keep each candidate's live stream whole (docs/benchmarks.md: the storage)",
    )
    serve.add_argument(
        "--backlog",
        type=int,
        default=4096,
        metavar="N",
        help="listen queue length (default 4096; the kernel caps it at net.core.somaxconn)",
    )
    serve.add_argument(
        "--commit-window-ms",
        type=float,
        default=COMMIT_WINDOW_MS,
        metavar="MS",
        help=f"wait this long for more writes before each commit (default {COMMIT_WINDOW_MS:g}; "
        "0: commit at once)",
    )
    serve.add_argument(
        "--commit-max",
        type=int,
        default=512,
        metavar="N",
        help="writes per transaction at most (default 512)",
    )
    serve.add_argument(
        "--grid-warm",
        type=float,
        default=600.0,
        metavar="S",
        help="read each exam's proctor grid ahead, in the background, until this long after "
        "its last proctor left (default 600; 0: each proctor who finds no recent read waits "
        "for one)",
    )
    serve.add_argument(
        "--event-loop",
        choices=event_loop.CHOICES,
        default="auto",
        help="the event loop: uvloop (faster: less CPU per connection and message) or "
        "asyncio's own (default auto: uvloop where installed, asyncio's with "
        "--media-in-process)",
    )
    serve.set_defaults(run=run_serve)

    exam = sub.add_parser("exam", help="create and inspect exams")
    exam_sub = exam.add_subparsers(dest="exam_command", required=True, metavar="ACTION")
    create = exam_sub.add_parser("create", help="create an exam; prints its id")
    create.add_argument("--db", required=True, type=database_arg)
    create.add_argument("--title", required=True)
    create.add_argument(
        "--starts-at", required=True, help="ISO 8601 with offset, e.g. 2026-07-25T14:00:00+08:00"
    )
    create.add_argument("--duration-min", required=True, type=float)
    create.add_argument("--questions", required=True, type=Path, help="question bank JSON")
    create.add_argument("--trial-questions", type=Path, help="practice questions JSON (R12)")
    create.add_argument("--pass-score", type=int, help="default: 60%% of the maximum")
    create.add_argument("--snapshot-interval", type=int, default=30, metavar="SECONDS")
    create.add_argument("--warning-limit", type=int, default=3, help="0 for no limit")
    create.add_argument(
        "--on-warning-limit",
        choices=[a.value for a in WarningLimitAction],
        default=WarningLimitAction.ALERT.value,
        help="what reaching the limit does: alert the proctors (default) or terminate the attempt",
    )
    create.add_argument(
        "--retention-days",
        type=int,
        default=365,
        help="how long after the exam its evidence and personal fields are kept (default 365); "
        "`proctor-server purge` removes them after that",
    )
    create.set_defaults(run=run_exam_create)

    ticket = sub.add_parser(
        "ticket",
        help="issue an admission ticket (prints its token, shown this once), or revoke one",
        usage="%(prog)s [revoke] --db PATH --exam ID (--candidate NAME | --code CODE) ...",
    )
    ticket.add_argument(
        "action",
        nargs="?",
        choices=["revoke"],
        help="revoke: the candidate's ticket admits nobody from now on, and a live session "
        "with it is closed within seconds (its answers stay stored)",
    )
    ticket.add_argument("--db", required=True, type=database_arg)
    ticket.add_argument("--exam", required=True)
    ticket.add_argument("--candidate", help="the candidate's real name (to issue)")
    ticket.add_argument("--code", help="the candidate code, e.g. C00001 (to revoke)")
    ticket.add_argument("--reason", default="", help="why (revoke; kept in the audit log)")
    ticket.add_argument("--email")
    ticket.add_argument("--phone")
    ticket.add_argument("--photo", type=Path, help="reference face photo (JPEG)")
    ticket.add_argument("--data-dir", type=Path)
    ticket.set_defaults(run=run_ticket)

    bulk = sub.add_parser(
        "tickets",
        help="issue tickets from a CSV file (header: name[,email,phone,photo]); prints name,token",
    )
    bulk.add_argument("--db", required=True, type=database_arg)
    bulk.add_argument("--exam", required=True)
    bulk.add_argument(
        "--csv",
        required=True,
        type=Path,
        help="UTF-8 CSV, one candidate per row; photo paths are relative to the file's folder",
    )
    bulk.add_argument("--data-dir", type=Path)
    bulk.set_defaults(run=run_tickets)

    token = sub.add_parser(
        "proctor-token",
        help="add a proctor named 'proctor' to an exam; prints its sign-in token (see proctor add)",
    )
    token.add_argument("--db", required=True, type=database_arg)
    token.add_argument("--exam", required=True)
    token.set_defaults(run=run_proctor_token)


def with_store(
    db: Path | str,
    work: Callable[[Store], Awaitable[T]],
    data_dir: Path | None = None,
    *,
    components: Mapping[str, Sequence[str]] | None = None,
) -> T:
    """Run one staff operation on the store and close it. `components`: the migration steps
    of the features the operation uses (the programme's tables)."""
    check_target(db)
    sealer = sealer_from(None)  # the data key named by $PROCTOR_DATA_KEY_FILE, if any

    async def go() -> T:
        store = make_store(db, data_dir, components=components, sealer=sealer)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


def read_bank(path: Path, what: str) -> list[Question]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a {what} file") from None
    return parse_bank(data, source=str(path))


def run_exam_create(args: argparse.Namespace) -> int:
    starts_at = parse_with_offset(args.starts_at)
    questions = read_bank(args.questions, "question bank")
    trial = read_bank(args.trial_questions, "trial question") if args.trial_questions else None
    if args.duration_min <= 0:
        raise ConfigError("--duration-min must be positive")
    exam = with_store(
        args.db,
        lambda store: admin.create_exam(
            store,
            title=args.title,
            starts_at=starts_at,
            duration=timedelta(minutes=args.duration_min),
            questions=questions,
            trial_questions=trial,
            pass_score=args.pass_score,
            snapshot_interval_s=args.snapshot_interval,
            warning_limit=args.warning_limit or None,
            on_warning_limit=WarningLimitAction(args.on_warning_limit),
            retention_days=args.retention_days,
        ),
    )
    print(exam.id)
    return 0


def run_ticket(args: argparse.Namespace) -> int:
    if args.action == "revoke":
        return run_ticket_revoke(args)
    if not args.candidate:
        raise ConfigError("give --candidate NAME to issue a ticket (or `ticket revoke --code`)")
    photo = None
    if args.photo is not None:
        try:
            photo = args.photo.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{args.photo}: no such photo file") from None
    ticket = with_store(
        args.db,
        lambda store: admin.issue_ticket(
            store, args.exam, name=args.candidate, email=args.email, phone=args.phone, photo=photo
        ),
        args.data_dir,
    )
    print(ticket.token)
    return 0


def run_ticket_revoke(args: argparse.Namespace) -> int:
    """`ticket revoke`: by candidate code (the store holds no raw ticket to name it by)."""
    if not args.code:
        raise ConfigError("give --code CODE: the candidate code of the ticket to revoke")
    ticket = with_store(
        args.db,
        lambda store: store.revoke_ticket(
            args.exam, args.code, datetime.now(UTC), actor="staff", reason=args.reason
        ),
        args.data_dir,
    )
    print(f"revoked the ticket of {ticket.candidate_code} for {ticket.exam_id}")
    return 0


def run_tickets(args: argparse.Namespace) -> int:
    requests = read_ticket_csv(args.csv)
    tickets = with_store(
        args.db, lambda store: admin.issue_tickets(store, args.exam, requests), args.data_dir
    )
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["name", "token"])
    for ticket in tickets:
        out.writerow([ticket.name, ticket.token])
    return 0


CSV_COLUMNS = ("name", "email", "phone", "photo")


def read_ticket_csv(path: Path) -> list[admin.TicketRequest]:
    """The candidates of a ticket CSV, checked whole before anything is issued: a clear error
    naming the line for a missing name, an unknown column or an unreadable photo."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such CSV file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "name" not in header:
        raise ConfigError(f"{path}: the first line must name the columns, with at least 'name'")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ConfigError(
            f"{path}: unknown column {unknown[0]!r} (columns: {', '.join(CSV_COLUMNS)})"
        )
    reader.fieldnames = header
    requests: list[admin.TicketRequest] = []
    for row in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            raise ConfigError(f"{path}:{line}: more fields than columns")
        if not values.get("name"):
            raise ConfigError(f"{path}:{line}: the candidate needs a name")
        photo = None
        if values.get("photo"):
            photo_path = path.parent / values["photo"]
            try:
                photo = photo_path.read_bytes()
            except OSError:
                raise ConfigError(f"{path}:{line}: cannot read the photo {photo_path}") from None
        requests.append(
            admin.TicketRequest(
                name=values["name"],
                email=values.get("email") or None,
                phone=values.get("phone") or None,
                photo=photo,
            )
        )
    if not requests:
        raise ConfigError(f"{path}: no candidates in the file")
    return requests


def run_proctor_token(args: argparse.Namespace) -> int:
    print(with_store(args.db, lambda store: admin.proctor_token(store, args.exam)))
    return 0


# the stop's bound: the media process's close (it writes the clips it was gathering) and exit,
# and 10 s for the rest (the store's last commits, the pools)
STOP_GRACE_S = CLOSE_TIMEOUT_S + EXIT_TIMEOUT_S + 10.0


def cpu_list(text: str) -> tuple[int, ...]:
    """`2,3` or `2-3` (or both: `0,2-3`) as CPU numbers this process may run on."""
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            first, dash, last = part.strip().partition("-")
            cpus.update(range(int(first), int(last if dash else first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a list of CPUs: {text!r} (e.g. 2,3 or 2-3)"
        ) from None
    count = os.cpu_count() or 1  # the machine's, whatever this process is pinned to
    if not cpus or max(cpus) >= count:
        raise argparse.ArgumentTypeError(f"CPUs {text}: this machine has CPUs 0-{count - 1}")
    return tuple(sorted(cpus))


async def serve_until_stopped(
    server: Server, on_ready: Callable[[Server], None], *, grace_s: float = STOP_GRACE_S
) -> None:
    """Serve until SIGINT or SIGTERM, then close in order. The stop is bounded: a second
    signal, or `grace_s` seconds after the first without the process having ended (a close
    that hangs, a thread or pool that is never joined), ends the process at once (status 1)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def force(reason: str) -> None:
        print(f"proctor-server: {reason}; exiting now", file=sys.stderr, flush=True)
        os._exit(1)

    def on_signal() -> None:
        if stop.is_set():
            force("a second stop signal")
        stop.set()
        # A daemon thread: it fires even if the event loop or the interpreter's exit hangs.
        watchdog = threading.Timer(grace_s, force, args=(f"not stopped within {grace_s:g} s",))
        watchdog.daemon = True
        watchdog.start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    started = False
    try:
        await server.start()
        started = True
        on_ready(server)
        await stop.wait()
    finally:
        await server.close()
        if started:
            print("stopped", flush=True)


def _read_key(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    if not key:
        raise ConfigError(f"{path} is empty")
    return key


def run_serve(args: argparse.Namespace) -> int:
    check_target(args.db)
    if is_postgres(args.db) and args.data_dir is None:
        raise ConfigError(
            "serving a PostgreSQL database needs --data-dir: the folder of photos and clips, "
            "one folder shared by every server of the database"
        )
    config = ServerConfig(
        db=args.db,
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        analysis=args.analysis,
        analysis_workers=args.analysis_workers,
        nonce_rotation_s=args.nonce_rotation,
        data_key_file=args.data_key_file,
        allowed_origins=tuple(args.allowed_origin),
        media=not args.no_media,
        media_gateway=args.media,
        janus_url=args.janus_url,
        janus_admin_key=_read_key(args.janus_admin_key_file),
        media_process=not args.media_in_process,
        ice_servers=[parse_ice_server(url) for url in args.ice_server],
        live_analysis_interval_s=args.live_analysis_interval,
        clip_seconds=args.clip_seconds,
        record_sessions=args.record_sessions,
        media_cpus=args.media_cpus,
        media_priority=args.media_priority,
        backlog=args.backlog,
        commit_window_ms=args.commit_window_ms,
        commit_max=args.commit_max,
        grid_warm_s=args.grid_warm,
    )
    if args.analysis_workers == "queue" and not is_postgres(args.db):
        raise ConfigError(
            "--analysis-workers queue needs the PostgreSQL store (--db postgresql://...)"
        )
    if args.media_cpus and (args.media_in_process or args.no_media or args.media != "aiortc"):
        raise ConfigError(
            "--media-cpus pins the media process: not with --media-in-process, "
            "--no-media or --media janus"
        )
    if args.live_analysis_interval < 0 or args.clip_seconds < 0:
        raise ConfigError("--live-analysis-interval and --clip-seconds: 0 (off) or seconds")
    if args.backlog < 1 or args.commit_window_ms < 0 or args.commit_max < 1:
        raise ConfigError("--backlog and --commit-max must be at least 1, --commit-window-ms >= 0")
    aiortc_here = config.media and config.media_gateway == "aiortc" and not config.media_process
    loop_name, new_loop = event_loop.choose(args.event_loop, aiortc_here=aiortc_here)

    def ready(server: Server) -> None:
        log.info("event loop: %s", loop_name)
        print(f"listening on {server.url}", flush=True)

    event_loop.run(serve_until_stopped(Server(config), ready), new_loop)
    return 0
