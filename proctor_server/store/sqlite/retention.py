"""Retention in SQLite: an exam's evidence (photo files) and personal fields (names, contact
details, mailing addresses) are removed; scores, states, violations and the audit chain stay.

One transaction per exam marks what goes (the rows keep each file's SHA-256, so an appeal can
still show what existed) and appends an `evidence_purged` entry to the exam's audit chain with
the hash of every purged file; the files are deleted after the commit. A crash between the two
leaves files that no row points at; `purge` run again removes them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from datetime import datetime
from typing import Any

from proctor_server.core.records import ExamRecord, PurgeReport
from proctor_server.store.files import BlobDir
from proctor_server.store.sqlite import rows
from proctor_server.store.sqlite.audit import append_audit
from proctor_server.store.sqlite.database import Database
from shared.timeutil import to_wire

EXAM_SQL = f"SELECT {rows.columns(rows.EXAM)} FROM exams"
PURGED_NAME = ""  # what a purged ticket's name becomes (the candidate code stays)


def _remove_all(blobs: BlobDir, paths: list[str]) -> None:
    for path in paths:
        blobs.remove(path)


class RetentionTables(Database):
    async def all_exams(self) -> list[ExamRecord]:
        found = await self._read(lambda c: c.execute(EXAM_SQL + " ORDER BY starts_at").fetchall())
        return [rows.exam(r) for r in found]

    async def purge_evidence(
        self, exam_id: str, at: datetime, *, actor: str, dry_run: bool = False
    ) -> PurgeReport:
        """Remove the exam's evidence files and personal fields (see the module's docstring)."""
        when = to_wire(at)

        def plan(c: sqlite3.Connection) -> tuple[list[tuple[str, str, str]], list[str], int, int]:
            photos = [
                (str(r["id"]), str(r["path"]), str(r["sha256"]))
                for r in c.execute(
                    "SELECT p.id, p.path, p.sha256 FROM photos p "
                    "JOIN attempts a ON a.id = p.attempt_id "
                    "WHERE a.exam_id = ? AND p.purged_at IS NULL ORDER BY p.received_at",
                    (exam_id,),
                )
            ]
            references = [
                str(r["reference_photo"])
                for r in c.execute(
                    "SELECT reference_photo FROM tickets WHERE exam_id = ? "
                    "AND purged_at IS NULL AND reference_photo IS NOT NULL",
                    (exam_id,),
                )
            ]
            tickets = int(
                c.execute(
                    "SELECT COUNT(*) FROM tickets WHERE exam_id = ? AND purged_at IS NULL",
                    (exam_id,),
                ).fetchone()[0]
            )
            profiles = int(
                c.execute(
                    "SELECT COUNT(*) FROM profiles p JOIN attempts a ON a.id = p.attempt_id "
                    "WHERE a.exam_id = ? AND p.mail_to != '{}'",
                    (exam_id,),
                ).fetchone()[0]
            )
            return photos, references, tickets, profiles

        def purge(c: sqlite3.Connection) -> tuple[list[tuple[str, str, str]], list[str], int, int]:
            photos, references, tickets, profiles = plan(c)
            if not photos and not references and not tickets and not profiles:
                return photos, references, tickets, profiles
            c.executemany(
                "UPDATE photos SET purged_at = ? WHERE id = ?",
                [(when, pid) for pid, _, _ in photos],
            )
            c.execute(
                "UPDATE tickets SET name = ?, email = NULL, phone = NULL, reference_photo = NULL, "
                "purged_at = ? WHERE exam_id = ? AND purged_at IS NULL",
                (PURGED_NAME, when, exam_id),
            )
            c.execute(
                "UPDATE profiles SET mail_to = '{}' WHERE attempt_id IN "
                "(SELECT id FROM attempts WHERE exam_id = ?)",
                (exam_id,),
            )
            detail: dict[str, Any] = {
                "exam": exam_id,
                "photos": len(photos),
                "reference_photos": len(references),
                "tickets": tickets,
                "addresses": profiles,
                # the hash of every purged file, in order: what existed stays provable
                "files_sha256": hashlib.sha256(
                    "\n".join(sha for _, _, sha in photos).encode()
                ).hexdigest(),
            }
            append_audit(c, exam_id, actor, "evidence_purged", json.loads(json.dumps(detail)), at)
            return photos, references, tickets, profiles

        photos, references, tickets, profiles = await (
            self._read(plan) if dry_run else self._write(purge)
        )
        files = [path for _, path, _ in photos] + references
        if not dry_run:
            await asyncio.to_thread(_remove_all, self.blobs, files)
        return PurgeReport(
            exam_id=exam_id,
            photos=len(photos),
            reference_photos=len(references),
            tickets=tickets,
            addresses=profiles,
            dry_run=dry_run,
        )
