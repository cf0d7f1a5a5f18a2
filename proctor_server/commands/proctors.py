"""`proctor add | list | revoke` (named proctors, tokens shown once) and `audit` (an exam's
hash-chained log, oldest first, with `--verify`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from proctor_server.commands.exam import with_store
from proctor_server.console import staff
from proctor_server.core.audit import AuditEntry, ChainBreak, verify_chain
from proctor_server.core.records import ProctorRecord, ProctorRole
from proctor_server.store import Store, database_arg
from shared.timeutil import to_wire


def register(sub: Any) -> None:
    proctor = sub.add_parser("proctor", help="add, list and revoke proctors")
    actions = proctor.add_subparsers(dest="proctor_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a proctor; prints the sign-in token once")
    add.add_argument("--db", required=True, type=database_arg)
    add.add_argument("--exam", help="the exam this proctor follows (a chief follows all)")
    add.add_argument("--name", required=True)
    add.add_argument(
        "--role", choices=[r.value for r in ProctorRole], default=ProctorRole.PROCTOR.value
    )
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="the proctors (of one exam, with the chiefs)")
    listing.add_argument("--db", required=True, type=database_arg)
    listing.add_argument("--exam")
    listing.set_defaults(run=run_list)
    revoke = actions.add_parser("revoke", help="revoke a proctor's token and sessions")
    revoke.add_argument("--db", required=True, type=database_arg)
    revoke.add_argument("--name", required=True)
    revoke.add_argument("--exam", help="only the proctor of this exam")
    revoke.set_defaults(run=run_revoke)

    audit = sub.add_parser(
        "audit", help="an exam's audit log, oldest first; --verify checks its hash chain"
    )
    audit.add_argument("--db", required=True, type=database_arg)
    audit.add_argument("--exam", required=True)
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.add_argument(
        "--verify", action="store_true", help="exit 1 naming the first altered or deleted entry"
    )
    audit.set_defaults(run=run_audit)


def run_add(args: argparse.Namespace) -> int:
    role = ProctorRole(args.role)
    _, token = with_store(
        args.db,
        lambda store: staff.add_proctor(store, name=args.name, exam_id=args.exam, role=role),
    )
    print(token)
    return 0


def _row(p: ProctorRecord) -> str:
    state = "revoked " + to_wire(p.revoked_at) if p.revoked_at else "active"
    return "\t".join([p.name, p.role.value, p.exam_id or "*", to_wire(p.created_at), state])


def run_list(args: argparse.Namespace) -> int:
    found = with_store(args.db, lambda store: store.proctors(args.exam))
    print("name\trole\texam\tadded\tstate")
    for p in found:
        print(_row(p))
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    revoked = with_store(args.db, lambda store: staff.revoke_proctor(store, args.name, args.exam))
    for p in revoked:
        print(f"revoked {p.name} ({p.role.value}, exam {p.exam_id or '*'})")
    return 0


async def _chain(store: Store, exam: str) -> tuple[list[AuditEntry], tuple[int, str] | None]:
    return await store.audit_chain(exam), await store.audit_head(exam)


def _line(e: AuditEntry) -> str:
    detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True)
    return f"{e.seq:>6}  {e.at}  {e.actor:<20}  {e.action:<18}  {detail}"


def run_audit(args: argparse.Namespace) -> int:
    entries, head = with_store(args.db, lambda store: _chain(store, args.exam))
    for e in entries:
        if args.json:
            print(
                json.dumps(
                    {
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "detail": e.detail,
                        "hash": e.hash,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(_line(e))
    if not args.verify:
        return 0
    broken: ChainBreak | None = verify_chain(entries, head)
    if broken is not None:
        print(
            f"audit chain of {args.exam} broken at entry {broken.seq}: {broken.problem}",
            file=sys.stderr,
        )
        return 1
    last = f"entry {head[0]}, hash {head[1]}" if head else "no entries"
    print(
        f"audit chain of {args.exam} verified: {len(entries)} entries; head {last}", file=sys.stderr
    )
    return 0
