"""The audit log's hash chain, as pure functions: an entry's hash, and checking a chain.

Each exam has a chain of its own (entries about no exam, such as adding a chief, form the chain
named ""). An entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
JSON (keys sorted, no spaces, UTF-8): its chain, its number in the chain, when, who, what and
the detail (which holds the why). The newest hash of every chain is kept apart from the entries
(the head), so removing entries at the end is seen too.

What `verify_chain` finds: an entry whose content changed (its hash no longer matches), an entry
removed in the middle (a gap in the numbers, or a previous hash that does not match), entries
removed at the end (the head names a later entry). What it cannot find: someone with write
access to the database who rewrites every later entry and the head consistently; keep the head
hash `audit --verify` prints somewhere else (a printed report, a ticket) to catch that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

GENESIS = "0" * 64  # the previous hash of a chain's first entry


@dataclass(frozen=True, slots=True)
class AuditEntry:
    chain: str  # the exam id, or "" for entries about no exam
    seq: int  # 1, 2, 3... within its chain
    at: str  # server time, wire format
    actor: str  # "system", "staff", or "proctor:NAME"
    action: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place a chain does not hold, in words for the operator."""

    seq: int
    problem: str


def canonical(chain: str, seq: int, at: str, actor: str, action: str, detail: Any) -> bytes:
    body = {
        "chain": chain,
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "detail": detail,
    }
    return msgspec.json.encode(body, order="sorted")


def entry_hash(
    prev_hash: str, chain: str, seq: int, at: str, actor: str, action: str, detail: Any
) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(chain, seq, at, actor, action, detail))
    return digest.hexdigest()


def verify_chain(entries: list[AuditEntry], head: tuple[int, str] | None) -> ChainBreak | None:
    """The first break in one chain's entries (oldest first), or None when it holds.
    `head`: the (number, hash) kept for the chain's newest entry."""
    prev, expected = GENESIS, 1
    for e in entries:
        if e.seq != expected:
            missing = (
                f"entry {expected}" if e.seq == expected + 1 else f"entries {expected}-{e.seq - 1}"
            )
            return ChainBreak(expected, f"{missing} deleted (the next one is {e.seq})")
        if e.prev_hash != prev:
            return ChainBreak(e.seq, f"entry {e.seq} does not follow entry {e.seq - 1}")
        if entry_hash(prev, e.chain, e.seq, e.at, e.actor, e.action, e.detail) != e.hash:
            return ChainBreak(e.seq, f"entry {e.seq} ({e.action}) was altered")
        prev, expected = e.hash, expected + 1
    last = expected - 1
    if head is None:
        if entries:
            return ChainBreak(last, "the chain's head is missing")
        return None
    seq, hash_ = head
    if seq > last:
        gone = f"entry {seq}" if seq == last + 1 else f"entries {last + 1}-{seq}"
        return ChainBreak(last + 1, f"{gone} deleted at the end of the chain")
    if seq < last or hash_ != prev:
        return ChainBreak(seq, f"the chain's head does not match entry {last}")
    return None
