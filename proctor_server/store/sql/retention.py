"""Retention: an exam's evidence (photo files and clips of live media) and personal
fields (names, contact details, mailing addresses, face descriptors) are removed; scores,
states, violations and the audit chain stay.

One transaction per exam marks what goes (the rows keep each file's SHA-256, so an appeal can
still show what existed) and appends an `evidence_purged` entry to the exam's audit chain with
the hash of every purged file; the files are deleted after the commit. A crash between the two
leaves files that no row points at; `purge` run again removes them."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from typing import Any, NamedTuple

from proctor_server.core.records import ExamRecord, PurgeReport
from proctor_server.store.files import BlobDir
from proctor_server.store.sql import rows
from proctor_server.store.sql.audit import append_audit
from proctor_server.store.sql.connection import Connection
from proctor_server.store.sql.database import Database
from shared.timeutil import to_wire

EXAM_SQL = f"SELECT {rows.columns(rows.EXAM)} FROM exams"
PURGED_NAME = ""  # what a purged ticket's name becomes (the candidate code stays)


class Plan(NamedTuple):
    """What one exam's purge removes: files as (row id, path, SHA-256), and counts."""

    photos: list[tuple[str, str, str]]
    references: list[str]
    tickets: int
    profiles: int
    clips: list[tuple[str, str, str]]
    embeddings: int


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

        def plan(c: Connection) -> Plan:
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
            clips = [
                (str(r["id"]), str(r["path"]), str(r["sha256"]))
                for r in c.execute(
                    "SELECT m.id, m.path, m.sha256 FROM media_clips m "
                    "JOIN attempts a ON a.id = m.attempt_id "
                    "WHERE a.exam_id = ? AND m.purged_at IS NULL ORDER BY m.started_at, m.id",
                    (exam_id,),
                )
            ]
            embeddings = int(
                c.execute(
                    "SELECT COUNT(*) FROM vision_calibrations v JOIN attempts a "
                    "ON a.id = v.attempt_id WHERE a.exam_id = ? AND v.embedding IS NOT NULL",
                    (exam_id,),
                ).fetchone()[0]
            )
            return Plan(photos, references, tickets, profiles, clips, embeddings)

        def purge(c: Connection) -> Plan:
            found = plan(c)
            if not any(found):
                return found
            c.executemany(
                "UPDATE photos SET purged_at = ? WHERE id = ?",
                [(when, pid) for pid, _, _ in found.photos],
            )
            c.executemany(
                "UPDATE media_clips SET purged_at = ? WHERE id = ?",
                [(when, cid) for cid, _, _ in found.clips],
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
            c.execute(
                "UPDATE vision_calibrations SET embedding = NULL WHERE attempt_id IN "
                "(SELECT id FROM attempts WHERE exam_id = ?)",
                (exam_id,),
            )
            detail: dict[str, Any] = {
                "exam": exam_id,
                "photos": len(found.photos),
                "reference_photos": len(found.references),
                "clips": len(found.clips),
                "tickets": found.tickets,
                "addresses": found.profiles,
                "embeddings": found.embeddings,
                # the hash of every purged file, in order: what existed stays provable
                "files_sha256": hashlib.sha256(
                    "\n".join(sha for _, _, sha in found.photos + found.clips).encode()
                ).hexdigest(),
            }
            append_audit(c, exam_id, actor, "evidence_purged", json.loads(json.dumps(detail)), at)
            return found

        found = await (self._read(plan) if dry_run else self._write(purge))
        files = [path for _, path, _ in found.photos + found.clips] + found.references
        if not dry_run:
            await asyncio.to_thread(_remove_all, self.blobs, files)
        return PurgeReport(
            exam_id=exam_id,
            photos=len(found.photos),
            reference_photos=len(found.references),
            tickets=found.tickets,
            addresses=found.profiles,
            dry_run=dry_run,
            clips=len(found.clips),
            embeddings=found.embeddings,
        )
