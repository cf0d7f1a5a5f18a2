"""Staff commands for the candidate's path (see docs/programme.md):

register, pay, refund, defer, retake, issue-tickets, publish-results, certificate, status,
notices. Every command takes `--db PATH`; the clock is the real one unless staff override it
with `--now ISO8601` (with an offset). A rule that forbids an action is one line on stderr
naming the rule and the date that applies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from proctor_server.programme.db import ProgrammeDB
from proctor_server.programme.files import read_holidays, zone
from proctor_server.programme.service import Programme, Settings
from shared.errors import ConfigError
from shared.programme_rules import when
from shared.timeutil import parse_with_offset

T = TypeVar("T")


def _common(parser: argparse.ArgumentParser, *, calendar: bool = True) -> None:
    parser.add_argument("--db", required=True, type=Path, help="the server's SQLite database")
    parser.add_argument(
        "--now", help="staff override of the clock, ISO 8601 with an offset (default: real clock)"
    )
    if calendar:
        parser.add_argument("--tz", help="the exam body's time zone (default: Asia/Shanghai)")
        parser.add_argument("--holidays", type=Path, help="the holiday list file")


def register(sub: Any) -> None:
    p = sub.add_parser("register", help="register a candidate for a sitting; prints its number")
    _common(p)
    p.add_argument("--name", required=True, help="the candidate's verified real name (R1)")
    p.add_argument("--id-number", required=True, help="identity document number (R1)")
    p.add_argument("--phone", required=True, help="bound contact phone (R1)")
    p.add_argument("--email", required=True, help="bound contact e-mail (R1)")
    p.add_argument("--city", required=True, help="the exam city (R4)")
    p.add_argument("--sitting", required=True, metavar="YYYY-MM", help="the month's sitting (R2)")
    p.add_argument(
        "--identity-verified",
        action="store_true",
        help="the real-name verification was done (required, R1)",
    )
    p.set_defaults(run=run_register)

    for name, helptext, fn in (
        ("pay", "record the payment of a registration (R4)", run_pay),
        ("refund", "refund a registration within 5 days of payment (R5)", run_refund),
    ):
        p = sub.add_parser(name, help=helptext)
        _common(p)
        p.add_argument("--registration", required=True, type=int, metavar="N")
        p.set_defaults(run=fn)

    p = sub.add_parser("defer", help="defer a registration once to a later sitting (R6)")
    _common(p)
    p.add_argument("--registration", required=True, type=int, metavar="N")
    p.add_argument("--to", metavar="YYYY-MM", help="the later sitting (default: the next month)")
    p.set_defaults(run=run_defer)

    p = sub.add_parser("retake", help="request the free retake after a failed first attempt (R20)")
    _common(p)
    p.add_argument("--registration", required=True, type=int, metavar="N", help="the failed one")
    p.add_argument("--sitting", required=True, metavar="YYYY-MM")
    p.set_defaults(run=run_retake)

    p = sub.add_parser("issue-tickets", help="issue the admission tickets of a sitting (R8)")
    _common(p)
    p.add_argument("--sitting", required=True, metavar="YYYY-MM")
    p.add_argument("--exam", required=True, help="the exam id from `proctor-server exam create`")
    p.add_argument(
        "--entry",
        default="proctor-client --ticket {ticket}",
        help="the entry link in the notice; {ticket} is replaced by the token",
    )
    p.set_defaults(run=run_issue_tickets)

    p = sub.add_parser("publish-results", help="record and announce a sitting's results (R7, R18)")
    _common(p)
    p.add_argument("--sitting", required=True, metavar="YYYY-MM")
    p.set_defaults(run=run_publish)

    p = sub.add_parser("certificate", help="look up a certificate (R19)")
    _common(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--number", help="the certificate number")
    which.add_argument("--id-number", help="the holder's identity number (newest certificate)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_certificate)

    p = sub.add_parser("mail-certificate", help="record that a paper certificate was mailed (R19)")
    _common(p)
    p.add_argument("--number", required=True, help="the certificate number")
    p.set_defaults(run=run_mail_certificate)

    p = sub.add_parser("status", help="a registration, its deadlines and its history (JSON)")
    _common(p)
    p.add_argument("--registration", required=True, type=int, metavar="N")
    p.set_defaults(run=run_status)

    notices = sub.add_parser("notices", help="the outbox of notices (R8, R18, R20)")
    nsub = notices.add_subparsers(dest="notices_command", required=True, metavar="ACTION")
    p = nsub.add_parser("send", help="deliver what is due, once, on the four channels")
    _common(p, calendar=False)
    p.add_argument("--smtp-host", help="SMTP server for e-mail (without it e-mail waits)")
    p.add_argument("--smtp-port", type=int, default=25)
    p.add_argument("--mail-from", default="exams@localhost")
    p.add_argument(
        "--spool-dir", type=Path, help="SMS and chat spool files (default: beside the db)"
    )
    p.set_defaults(run=run_notices_send)
    p = nsub.add_parser("list", help="deliveries and their state")
    _common(p, calendar=False)
    p.add_argument("--state", choices=("pending", "sending", "sent", "failed", "uncertain"))
    p.set_defaults(run=run_notices_list)
    p = nsub.add_parser("retry", help="resend an uncertain or failed delivery, deliberately")
    _common(p, calendar=False)
    p.add_argument("--notice", required=True, type=int)
    p.add_argument("--channel", choices=("sms", "site", "email", "chat"))
    p.set_defaults(run=run_notices_retry)


# ------------------------------------------------------------------ plumbing


def _now(args: argparse.Namespace) -> datetime:
    return parse_with_offset(args.now) if args.now else datetime.now(UTC)


def _open(args: argparse.Namespace) -> ProgrammeDB:
    db: Path = args.db
    if not db.parent.exists():
        raise ConfigError(f"{db.parent}: no such folder for the database")
    try:
        return ProgrammeDB(db)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{db}: cannot open the database: {exc}") from None


def _programme(args: argparse.Namespace, db: ProgrammeDB) -> Programme:
    return Programme(db, Settings(zone(args.tz), read_holidays(args.holidays)))


def _with_store(db: Path, work: Callable[[Any], Awaitable[T]]) -> T:
    from proctor_server.commands.exam import with_store

    return with_store(db, work)


# ------------------------------------------------------------------ commands


def run_register(args: argparse.Namespace) -> int:
    now = _now(args)
    with _open(args) as db:
        reg = _programme(args, db).register(
            name=args.name,
            id_number=args.id_number,
            phone=args.phone,
            email=args.email,
            city=args.city,
            sitting=args.sitting,
            identity_verified=args.identity_verified,
            now=now,
        )
    print(reg.id)
    return 0


def run_pay(args: argparse.Namespace) -> int:
    with _open(args) as db:
        reg = _programme(args, db).pay(args.registration, _now(args))
    print(f"#{reg.id} {reg.state.value}")
    return 0


def run_refund(args: argparse.Namespace) -> int:
    with _open(args) as db:
        reg = _programme(args, db).refund(args.registration, _now(args))
    print(f"#{reg.id} {reg.state.value}")
    return 0


def run_defer(args: argparse.Namespace) -> int:
    with _open(args) as db:
        prog = _programme(args, db)
        reg = prog.defer(args.registration, args.to, _now(args))
        print(f"#{reg.id} deferred to {reg.sitting} ({prog.sitting(reg.sitting).exam_date})")
    return 0


def run_retake(args: argparse.Namespace) -> int:
    with _open(args) as db:
        reg = _programme(args, db).request_retake(args.registration, args.sitting, _now(args))
    print(reg.id)
    return 0


def run_issue_tickets(args: argparse.Namespace) -> int:
    from proctor_server.programme.exams import issue_tickets

    now = _now(args)
    with _open(args) as db:
        prog = _programme(args, db)
        report = _with_store(
            args.db,
            lambda store: issue_tickets(prog, store, args.sitting, args.exam, now, args.entry),
        )
    for reg_id, token in report.issued:
        print(f"{reg_id} {token}")
    if report.late and report.ticket_by is not None:
        print(
            f"proctor-server: warning: R8: tickets were due by {when(report.ticket_by)}",
            file=sys.stderr,
        )
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from proctor_server.programme.exams import publish_results

    now = _now(args)
    with _open(args) as db:
        prog = _programme(args, db)
        report = _with_store(args.db, lambda store: publish_results(prog, store, args.sitting, now))
    for label, ids in (
        ("passed", report.passed),
        ("failed", report.failed),
        ("no-show", report.no_show),
    ):
        for reg_id in ids:
            print(f"{reg_id} {label}")
    if report.late and report.notice_by is not None:
        print(
            f"proctor-server: warning: R18: result notices were due by {when(report.notice_by)}",
            file=sys.stderr,
        )
    return 0


def run_certificate(args: argparse.Namespace) -> int:
    from proctor_server.programme.exams import lookup_certificate

    with _open(args) as db:
        view = lookup_certificate(
            _programme(args, db), _now(args), number=args.number, id_number=args.id_number
        )
    if args.json:
        print(json.dumps(asdict(view), indent=2, ensure_ascii=False))
    else:
        state = "valid" if view.valid else "expired"
        print(f"{view.number} {view.name} {state} until {view.valid_until} (exam {view.exam_date})")
    return 0


def run_mail_certificate(args: argparse.Namespace) -> int:
    from proctor_server.programme.exams import mark_paper_mailed

    with _open(args) as db:
        on_time = mark_paper_mailed(_programme(args, db), args.number, _now(args))
    print(f"{args.number} mailed")
    if not on_time:
        print(
            "proctor-server: warning: R19: the paper certificate was due within 30 days",
            file=sys.stderr,
        )
    return 0


def run_status(args: argparse.Namespace) -> int:
    with _open(args) as db:
        print(
            json.dumps(_programme(args, db).status(args.registration), indent=2, ensure_ascii=False)
        )
    return 0


def run_notices_send(args: argparse.Namespace) -> int:
    from proctor_server.programme.channels import default_channels
    from proctor_server.programme.notify import Dispatcher

    spool = args.spool_dir or args.db.with_name(args.db.stem + "-notices")
    with _open(args):  # migrations, and a clear error for a bad --db
        pass
    channels = default_channels(
        args.db, spool, smtp_host=args.smtp_host, smtp_port=args.smtp_port, mail_from=args.mail_from
    )
    report = asyncio.run(Dispatcher(args.db, channels).run_once(_now(args)))
    print(
        f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
        f"uncertain {report.uncertain}"
    )
    for line in report.errors:
        print(f"proctor-server: warning: {line}", file=sys.stderr)
    return 0 if not (report.failed or report.uncertain) else 1


def run_notices_list(args: argparse.Namespace) -> int:
    from proctor_server.programme.notify import deliveries

    with _open(args) as db:
        for row in deliveries(db, args.state):
            print(json.dumps(row, ensure_ascii=False))
    return 0


def run_notices_retry(args: argparse.Namespace) -> int:
    from proctor_server.programme.notify import retry

    with _open(args) as db:
        count = retry(db, args.notice, args.channel, _now(args))
    if not count:
        raise ConfigError(f"notice {args.notice} has no uncertain or failed delivery to retry")
    print(f"queued {count}")
    return 0
