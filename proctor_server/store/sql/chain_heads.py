"""The audit chains' heads a write transaction moved, written once per chain before COMMIT.

Every audit entry extends its exam's chain (`audit.append_audit`): it needs the chain's head
(the newest entry's number and hash) and moves it. When a group of entries — a herd of joins,
each recording its entry — shares one transaction, reading and rewriting the head row for each
entry would cost two statements an entry. The store's group writer (`database.Database`) hands
its connection a `ChainHeads` for the transaction: the first entry of a chain reads the head
(and, on PostgreSQL, takes the chain's lock, held until the transaction ends); later entries
of that chain take the head from here; the heads are written just before COMMIT. A write
rolled back to its savepoint takes its moves back with it (`mark` / `back_to`), a transaction
rolled back forgets them all, so the head written is always that of the last entry committed.

A connection without one (a command's own connection, a migration) reads and writes the head
with every entry, as before.
"""

from __future__ import annotations

from typing import Any

HEAD_UPSERT = (
    "INSERT INTO audit_heads (chain, seq, hash) VALUES (?,?,?) "
    "ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)
Head = tuple[int, str]  # (the newest entry's number, its hash)


class ChainHeads:
    __slots__ = ("moved",)

    def __init__(self) -> None:
        self.moved: dict[str, Head] = {}

    def get(self, chain: str) -> Head | None:
        """The chain's head as this transaction left it, or None before its first entry."""
        return self.moved.get(chain)

    def move(self, chain: str, head: Head) -> None:
        self.moved[chain] = head

    def mark(self) -> dict[str, Head]:
        """Where the heads stand now (before a write in its own savepoint)."""
        return dict(self.moved)

    def back_to(self, mark: dict[str, Head]) -> None:
        """The write since `mark` was rolled back to its savepoint: so are its moves."""
        self.moved = mark

    def forget(self) -> None:
        """The transaction was rolled back: nothing moved."""
        self.moved = {}

    def write(self, c: Any) -> None:
        """Store every moved head (one statement per chain), just before COMMIT."""
        for chain, (seq, digest) in self.moved.items():
            c.execute(HEAD_UPSERT, (chain, seq, digest))
        self.moved = {}


def heads_of(c: Any) -> ChainHeads | None:
    """The heads of the group writer's open transaction on `c`, if it keeps them."""
    return getattr(c, "chain_heads", None)
