"""`addresses`: the postal addresses candidates gave before the paper (R14), written out for
the certificate mailing (R19)."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from proctor_server.commands.exam import with_store
from proctor_server.store import Store, database_arg
from shared.errors import ConfigError
from shared.vocabulary import Mode

COLUMNS = ("candidate", "ticket_name", "name", "phone", "address", "postcode", "state", "passed")


def register(sub: Any) -> None:
    addresses = sub.add_parser(
        "addresses", help="the postal addresses of an exam's candidates, as CSV (R14, R19)"
    )
    addresses.add_argument("--db", required=True, type=database_arg)
    addresses.add_argument("--exam", required=True)
    addresses.add_argument(
        "--passed", action="store_true", help="only candidates who passed (a certificate is due)"
    )
    addresses.set_defaults(run=run_addresses)


async def exam_addresses(store: Store, exam_id: str, passed_only: bool) -> list[list[str]]:
    if await store.get_exam(exam_id) is None:
        raise ConfigError(f"no exam with id {exam_id!r}")
    found: list[list[str]] = []
    for attempt in await store.attempts_of_exam(exam_id):
        if attempt.mode is not Mode.EXAM or (passed_only and not attempt.passed):
            continue
        ticket = await store.get_ticket(attempt.ticket)
        mail = await store.profile(attempt.id) or {}
        found.append(
            [
                ticket.candidate_code if ticket else "",
                ticket.name if ticket else "",
                mail.get("name", ""),
                mail.get("phone", ""),
                mail.get("address", ""),
                mail.get("postcode", ""),
                attempt.state.value,
                "" if attempt.passed is None else ("yes" if attempt.passed else "no"),
            ]
        )
    return sorted(found)


def run_addresses(args: argparse.Namespace) -> int:
    rows = with_store(args.db, lambda store: exam_addresses(store, args.exam, args.passed))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    out.writerows(rows)
    return 0
