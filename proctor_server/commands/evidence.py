"""`key new`, `key rotate`, `reseal`, `export`: the data key that encrypts evidence and personal
fields at rest, and the evidence of an exam written out for an appeal or an offline review."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from proctor_server.commands.exam import with_store
from proctor_server.core.records import ExamRecord, PurgeReport
from proctor_server.media.janus_gateway import recordings_folder
from proctor_server.store import Store, database_arg, files_beside
from proctor_server.store.private_files import private_folder, write_private
from proctor_server.store.sealing import Key, read_key_file, sealer_from, write_key_file
from shared.errors import ConfigError
from shared.timeutil import to_wire


def register(sub: Any) -> None:
    key = sub.add_parser(
        "key", help="the data key that encrypts photos, snapshots and personal fields at rest"
    )
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    new = key_sub.add_parser("new", help="write a new key file (mode 0600)")
    new.add_argument("--out", required=True, type=Path)
    new.set_defaults(run=run_key_new)
    rotate = key_sub.add_parser(
        "rotate", help="put a new key first in a key file (then run `reseal`)"
    )
    rotate.add_argument("--file", required=True, type=Path)
    rotate.set_defaults(run=run_key_rotate)

    reseal = sub.add_parser(
        "reseal",
        help="encrypt every evidence file and personal field again under the key file's first key",
    )
    reseal.add_argument("--db", required=True, type=database_arg)
    reseal.add_argument("--data-dir", type=Path)
    reseal.set_defaults(run=run_reseal)

    purge = sub.add_parser(
        "purge",
        help="remove evidence and personal fields past retention (scores and the audit stay)",
    )
    purge.add_argument("--db", required=True, type=database_arg)
    purge.add_argument("--exam", help="this exam's evidence now, whatever its age or state")
    purge.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="exams that ended more than DAYS ago (default: each exam's own retention)",
    )
    purge.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")
    purge.add_argument("--data-dir", type=Path)
    purge.set_defaults(run=run_purge)

    export = sub.add_parser(
        "export", help="write an exam's evidence, decrypted, with a manifest of SHA-256 hashes"
    )
    export.add_argument("--db", required=True, type=database_arg)
    export.add_argument("--exam", required=True)
    export.add_argument("--out", required=True, type=Path, help="a new or empty folder")
    export.add_argument("--attempt", help="only this attempt")
    export.add_argument("--data-dir", type=Path)
    export.set_defaults(run=run_export)


def run_key_new(args: argparse.Namespace) -> int:
    if args.out.exists():
        raise ConfigError(f"{args.out}: already exists; a key file is never overwritten")
    write_key_file(args.out, [Key.new()])
    print(f"wrote {args.out}: keep it apart from the database and its backups")
    return 0


def run_key_rotate(args: argparse.Namespace) -> int:
    ring = read_key_file(args.file)
    keys = [Key.new(), *ring.keys]
    write_key_file(args.file, keys)
    print(f"{args.file}: new key {keys[0].id.hex()} first; run `proctor-server reseal` next")
    return 0


def run_reseal(args: argparse.Namespace) -> int:
    if sealer_from(None) is None:
        raise ConfigError("no data key: set PROCTOR_DATA_KEY_FILE to the key file")

    async def reseal(store: Store) -> tuple[int, int, int]:
        paths = await asyncio.to_thread(store.blobs.files)
        done = 0
        for path in paths:
            if await asyncio.to_thread(store.blobs.reseal, path):
                done += 1
        return done, len(paths), await store.reseal_fields()

    done, total, fields = with_store(args.db, reseal, args.data_dir)
    print(f"resealed {done} of {total} files and {fields} personal fields under the current key")
    return 0


def run_purge(args: argparse.Namespace) -> int:
    if args.older_than is not None and args.older_than < 0:
        raise ConfigError("--older-than must be a number of days, 0 or more")
    now = datetime.now(UTC)

    data = args.data_dir or files_beside(args.db, "-files")

    async def purge(store: Store) -> list[tuple[PurgeReport, int]]:
        if args.exam is not None:
            exam = await store.get_exam(args.exam)
            if exam is None:
                raise ConfigError(f"no exam with id {args.exam!r}")
            chosen = [exam]
        else:
            chosen = [
                e for e in await store.all_exams() if _past_retention(e, now, args.older_than)
            ]
        return [
            (
                await store.purge_evidence(e.id, now, actor="staff", dry_run=args.dry_run),
                await _purge_recordings(store, data, e.id, now, args.dry_run),
            )
            for e in chosen
        ]

    reports = with_store(args.db, purge, args.data_dir)
    verb = "would remove" if args.dry_run else "removed"
    for r, recordings in reports:
        print(
            f"{r.exam_id}: {verb} {r.photos} photos and snapshots, {r.reference_photos} reference "
            f"photos, {r.clips} clips, {recordings} recordings of live media, the names and "
            f"contacts of {r.tickets} tickets, {r.addresses} addresses, {r.embeddings} face "
            "descriptors"
        )
    if not reports:
        print("nothing is past its retention")
    return 0


async def _purge_recordings(
    store: Store, data: Path, exam_id: str, now: datetime, dry_run: bool
) -> int:
    """The exam's streams as Janus recorded them (`serve --media janus`): files the store does
    not list, removed with the rest of its evidence and counted in an audit entry of their own."""
    folder = recordings_folder(data, exam_id)
    files = sorted(folder.glob("*.mjr")) if folder.is_dir() else []
    if dry_run or not files:
        return len(files)
    for path in files:
        path.unlink(missing_ok=True)
    await store.audit(
        "staff", "recordings_purged", {"exam": exam_id, "files": len(files)}, now, exam=exam_id
    )
    return len(files)


def _past_retention(exam: ExamRecord, now: datetime, older_than_days: float | None) -> bool:
    keep = timedelta(days=exam.retention_days if older_than_days is None else older_than_days)
    return exam.window.ends_at + keep <= now


def run_export(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out}: not empty; export into a new folder")
    manifest = with_store(
        args.db, lambda store: export_evidence(store, args.exam, out, args.attempt), args.data_dir
    )
    altered = [f for f in manifest["files"] if not f["verified"]]
    print(f"exported {len(manifest['files'])} files to {out} (manifest.json)")
    if altered:
        print(f"{len(altered)} files do not match the hash stored with them: see manifest.json")
        return 1
    return 0


async def export_evidence(
    store: Store, exam_id: str, out: Path, attempt_id: str | None = None
) -> dict[str, Any]:
    """Every photo, snapshot and live-media clip of the exam's attempts (or of one), as
    stored, each checked against the SHA-256 kept with its row; the reference photos of their
    tickets too."""
    exam = await store.get_exam(exam_id)
    if exam is None:
        raise ConfigError(f"no exam with id {exam_id!r}")
    attempts = await store.attempts_of_exam(exam_id)
    if attempt_id is not None:
        attempts = [a for a in attempts if a.id == attempt_id]
        if not attempts:
            raise ConfigError(f"no attempt {attempt_id!r} in exam {exam_id}")
    await asyncio.to_thread(private_folder, out)  # it and the folders made above it: 0700
    files: list[dict[str, Any]] = []
    for attempt in attempts:
        ticket = await store.get_ticket(attempt.ticket)
        code = ticket.candidate_code if ticket is not None else ""
        folder = out / f"{code or 'unknown'}-{attempt.id}"
        for photo in await store.photos(attempt.id):
            if photo.purged_at is not None:  # gone at the end of retention: its hash remains
                files.append(
                    {
                        "attempt": attempt.id,
                        "candidate": code,
                        "kind": photo.kind,
                        "client_id": photo.client_id,
                        "time": to_wire(photo.received_at),
                        "sha256": photo.sha256,
                        "purged_at": to_wire(photo.purged_at),
                        "verified": True,
                    }
                )
                continue
            data = await asyncio.to_thread(store.blobs.read, photo.path)
            name = f"{photo.kind}/{to_wire(photo.received_at).replace(':', '')}-{photo.id}.jpg"
            entry = await asyncio.to_thread(_write, folder, name, data, photo.sha256)
            entry.update(
                attempt=attempt.id,
                candidate=code,
                kind=photo.kind,
                client_id=photo.client_id,
                time=to_wire(photo.received_at),
                accepted=photo.accepted,
            )
            files.append(entry)
        for clip in await store.clips(attempt.id):  # live media around violations, recordings
            data = await asyncio.to_thread(store.blobs.read, clip.path)
            name = f"clips/{to_wire(clip.started_at).replace(':', '')}-{clip.id}.webm"
            entry = await asyncio.to_thread(_write, folder, name, data, clip.sha256)
            entry.update(
                attempt=attempt.id,
                candidate=code,
                kind="clip" if clip.kind == "violation" else "recording",
                time=to_wire(clip.started_at),
                ended_at=to_wire(clip.ended_at),
                violations=list(clip.violations),
            )
            files.append(entry)
        if ticket is not None and ticket.reference_photo:
            data = await asyncio.to_thread(store.blobs.read, ticket.reference_photo)
            entry = await asyncio.to_thread(_write, folder, "reference.jpg", data, None)
            entry.update(attempt=attempt.id, candidate=code, kind="reference", time=None)
            files.append(entry)
    manifest = {
        "exam": exam.id,
        "title": exam.title,
        "exported_at": to_wire(datetime.now(UTC)),
        "files": files,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2)
    await asyncio.to_thread(_write_text, out / "manifest.json", text)
    return manifest


def _write(folder: Path, name: str, data: bytes | None, stored_sha: str | None) -> dict[str, Any]:
    path = folder / name
    if data is None:
        return {"path": str(path.relative_to(folder.parent)), "missing": True, "verified": False}
    write_private(path, data, exclusive=True)
    digest = hashlib.sha256(data).hexdigest()
    return {
        "path": str(path.relative_to(folder.parent)),
        "size": len(data),
        "sha256": digest,
        "verified": stored_sha is None or digest == stored_sha,
    }


def _write_text(path: Path, text: str) -> None:
    write_private(path, (text + "\n").encode("utf-8"), exclusive=True)
