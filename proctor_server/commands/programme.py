"""Staff commands for the candidate's path (see docs/programme.md):

register, pay, refund, defer, retake, issue-tickets, publish-results, certificate, status,
notices. Every command takes `--db PATH`; the clock is the real one unless staff override it
with `--now ISO8601` (with an offset). A rule that forbids an action is one line on stderr
naming the rule and the date that applies.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from proctor_server.programme.files import read_holidays, zone
from proctor_server.programme.ports import ProgrammeStore, Registration
from proctor_server.programme.schema import MIGRATIONS
from proctor_server.programme.service import Programme, Settings
from proctor_server.store import Store, database_arg, files_beside
from shared.errors import ConfigError
from shared.programme_rules import when
from shared.timeutil import parse_with_offset

T = TypeVar("T")


def _common(parser: argparse.ArgumentParser, *, calendar: bool = True) -> None:
    parser.add_argument(
        "--db", required=True, type=database_arg, help="the server's SQLite database"
    )
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


class _Stores(Store, ProgrammeStore, Protocol):
    """The store a programme command works on: the exam server's, with the programme's port."""


def _run(args: argparse.Namespace, work: Callable[[_Stores], Awaitable[T]]) -> T:
    """Run one programme command on the store (the programme's tables migrated) and close it.
    A file that cannot be opened as the database is one line naming it."""
    from proctor_server.commands.exam import with_store

    opened = False

    async def go(store: Store) -> T:
        nonlocal opened
        opened = True
        if not isinstance(store, ProgrammeStore):
            raise TypeError(f"{type(store).__name__} does not keep the programme's tables")
        return await work(store)

    try:
        return with_store(args.db, go, components=MIGRATIONS)
    except sqlite3.DatabaseError as exc:
        if opened:
            raise
        raise ConfigError(f"{args.db}: cannot open the database: {exc}") from None


def _act(args: argparse.Namespace, work: Callable[[Programme], Awaitable[T]]) -> T:
    """One staff action of the programme service (its calendar settings from the arguments)."""
    settings = Settings(zone(args.tz), read_holidays(args.holidays))
    return _run(args, lambda store: work(Programme(store, settings)))


def _on_store(args: argparse.Namespace, work: Callable[[Programme, Store], Awaitable[T]]) -> T:
    """A step of the exam day: the programme service and the exam server's store (one file)."""
    settings = Settings(zone(args.tz), read_holidays(args.holidays))
    return _run(args, lambda store: work(Programme(store, settings), store))


# ------------------------------------------------------------------ commands


def run_register(args: argparse.Namespace) -> int:
    now = _now(args)
    reg = _act(
        args,
        lambda prog: prog.register(
            name=args.name,
            id_number=args.id_number,
            phone=args.phone,
            email=args.email,
            city=args.city,
            sitting=args.sitting,
            identity_verified=args.identity_verified,
            now=now,
        ),
    )
    print(reg.id)
    return 0


def run_pay(args: argparse.Namespace) -> int:
    now = _now(args)
    reg = _act(args, lambda prog: prog.pay(args.registration, now))
    print(f"#{reg.id} {reg.state.value}")
    return 0


def run_refund(args: argparse.Namespace) -> int:
    now = _now(args)
    reg = _act(args, lambda prog: prog.refund(args.registration, now))
    print(f"#{reg.id} {reg.state.value}")
    return 0


def run_defer(args: argparse.Namespace) -> int:
    now = _now(args)

    async def work(prog: Programme) -> tuple[Registration, date]:
        reg = await prog.defer(args.registration, args.to, now)
        return reg, (await prog.sitting(reg.sitting)).exam_date

    reg, exam_date = _act(args, work)
    print(f"#{reg.id} deferred to {reg.sitting} ({exam_date})")
    return 0


def run_retake(args: argparse.Namespace) -> int:
    now = _now(args)
    reg = _act(args, lambda prog: prog.request_retake(args.registration, args.sitting, now))
    print(reg.id)
    return 0


def run_issue_tickets(args: argparse.Namespace) -> int:
    from proctor_server.programme.exams import issue_tickets

    now = _now(args)
    report = _on_store(
        args,
        lambda prog, store: issue_tickets(prog, store, args.sitting, args.exam, now, args.entry),
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
    report = _on_store(args, lambda prog, store: publish_results(prog, store, args.sitting, now))
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

    now = _now(args)
    view = _act(
        args,
        lambda prog: lookup_certificate(prog, now, number=args.number, id_number=args.id_number),
    )
    if args.json:
        print(json.dumps(asdict(view), indent=2, ensure_ascii=False))
    else:
        state = "valid" if view.valid else "expired"
        print(f"{view.number} {view.name} {state} until {view.valid_until} (exam {view.exam_date})")
    return 0


def run_mail_certificate(args: argparse.Namespace) -> int:
    from proctor_server.programme.exams import mark_paper_mailed

    now = _now(args)
    on_time = _act(args, lambda prog: mark_paper_mailed(prog, args.number, now))
    print(f"{args.number} mailed")
    if not on_time:
        print(
            "proctor-server: warning: R19: the paper certificate was due within 30 days",
            file=sys.stderr,
        )
    return 0


def run_status(args: argparse.Namespace) -> int:
    status = _act(args, lambda prog: prog.status(args.registration))
    print(json.dumps(status, indent=2, ensure_ascii=False))
    return 0


def run_notices_send(args: argparse.Namespace) -> int:
    from proctor_server.programme.channels import default_channels
    from proctor_server.programme.notify import Dispatcher

    now = _now(args)
    spool = args.spool_dir or files_beside(args.db, "-notices")

    def dispatcher(store: ProgrammeStore) -> Dispatcher:
        channels = default_channels(
            store,
            spool,
            smtp_host=args.smtp_host,
            smtp_port=args.smtp_port,
            mail_from=args.mail_from,
        )
        return Dispatcher(store, channels)

    report = _run(args, lambda store: dispatcher(store).run_once(now))
    print(
        f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
        f"uncertain {report.uncertain}"
    )
    for line in report.errors:
        print(f"proctor-server: warning: {line}", file=sys.stderr)
    return 0 if not (report.failed or report.uncertain) else 1


def run_notices_list(args: argparse.Namespace) -> int:
    from proctor_server.programme.notify import deliveries

    for row in _run(args, lambda store: deliveries(store, args.state)):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def run_notices_retry(args: argparse.Namespace) -> int:
    from proctor_server.programme.notify import retry

    now = _now(args)
    count = _run(args, lambda store: retry(store, args.notice, args.channel, now))
    if not count:
        raise ConfigError(f"notice {args.notice} has no uncertain or failed delivery to retry")
    print(f"queued {count}")
    return 0
