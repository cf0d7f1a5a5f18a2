"""Evidence at rest and out: a server with a data key seals what candidates send; `export` writes
it back decrypted with a manifest that checks every file; `key rotate` + `reseal` move it to a new
key; without the key nothing opens."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from proctor_server import admin
from proctor_server.app import ServerConfig, run_server
from proctor_server.cli import main
from proctor_server.core.records import CalibrationRecord, ClipRecord
from proctor_server.store import SqliteStore
from proctor_server.store.sealing import read_key_file
from shared import protocol as p
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate, jpeg
from tests.support.clock import FakeClock


async def cli(*args: str) -> int:
    """The command line, on a thread of its own (it runs its own event loop)."""
    return await asyncio.to_thread(main, list(args))


@pytest.fixture
def key_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "keys" / "data.key"
    path.parent.mkdir()
    assert main(["key", "new", "--out", str(path)]) == 0
    capsys.readouterr()
    return path


async def sitting(tmp_path: Path, key_file: Path, clock: FakeClock) -> tuple[str, bytes, bytes]:
    """One candidate's identity photo and snapshot, sent to a server with a data key."""
    config = ServerConfig(db=tmp_path / "exam.db", port=0, data_key_file=key_file)
    async with run_server(config, clock) as server:
        exam = await admin.create_exam(
            server.store,
            title="Sealed",
            starts_at=clock.now() - timedelta(minutes=1),
            duration=timedelta(hours=1),
            questions=QUESTIONS,
        )
        token = (await admin.issue_ticket(server.store, exam.id, name="Ada")).token
        c = await Candidate.connect(server.ws_url)
        face, scene = jpeg(320, 240, seed=3), jpeg(320, 240, seed=4)
        welcome = await c.hello(token)
        assert isinstance(welcome, p.Welcome)
        assert (await c.identity(photo=face)).accepted
        await c.expect(p.Paper)
        await c.expect_ack(await c.snapshot(photo=scene))
        await c.close()
    return exam.id, face, scene


async def test_evidence_is_sealed_on_disk_and_exported_whole(
    tmp_path: Path,
    key_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exam_id, face, scene = await sitting(tmp_path, key_file, clock)
    db = tmp_path / "exam.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    on_disk = [f for f in (tmp_path / "exam-files").rglob("*.jpg")]
    assert len(on_disk) == 2
    for f in on_disk:
        raw = f.read_bytes()
        assert raw.startswith(b"PSE1") and face not in raw and scene not in raw
        assert stat.S_IMODE(f.stat().st_mode) == 0o600

    monkeypatch.delenv("PROCTOR_DATA_KEY_FILE", raising=False)
    out = tmp_path / "appeal"
    assert await cli("export", "--db", str(db), "--exam", exam_id, "--out", str(out)) == 2
    assert "no data key is configured" in capsys.readouterr().err

    monkeypatch.setenv("PROCTOR_DATA_KEY_FILE", str(key_file))
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    assert await cli("export", "--db", str(db), "--exam", exam_id, "--out", str(taken)) == 2
    assert f"Not a directory: {taken}" in capsys.readouterr().err
    out = tmp_path / "appeals" / "2026" / "exam"  # folders above it made too: none readable
    assert await cli("export", "--db", str(db), "--exam", exam_id, "--out", str(out)) == 0
    for folder in (out, out.parent, out.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    manifest = json.loads((out / "manifest.json").read_text())
    by_kind = {f["kind"]: f for f in manifest["files"]}
    assert set(by_kind) == {"identity_photo", "snapshot"}
    assert all(f["verified"] for f in manifest["files"])
    assert (out / by_kind["identity_photo"]["path"]).read_bytes() == face
    assert (out / by_kind["snapshot"]["path"]).read_bytes() == scene
    assert by_kind["snapshot"]["sha256"] == hashlib.sha256(scene).hexdigest()


async def test_a_rotated_key_reseals_every_file(
    tmp_path: Path,
    key_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exam_id, face, _ = await sitting(tmp_path, key_file, clock)
    db = str(tmp_path / "exam.db")
    old = read_key_file(key_file).current
    assert await cli("key", "rotate", "--file", str(key_file)) == 0
    monkeypatch.setenv("PROCTOR_DATA_KEY_FILE", str(key_file))
    assert await cli("reseal", "--db", db) == 0
    printed = capsys.readouterr().out
    assert "resealed 2 of 2 files and" in printed and "0 personal fields" not in printed
    new = read_key_file(key_file).current
    assert new.id != old.id
    for f in (tmp_path / "exam-files").rglob("*.jpg"):
        assert f.read_bytes()[4:12] == new.id
    # the old key can go: everything opens with the new one alone
    lines = key_file.read_text().splitlines()
    key_file.write_text("\n".join(line for line in lines if not line.startswith(old.id.hex())))
    out = tmp_path / "after"
    assert await cli("export", "--db", db, "--exam", exam_id, "--out", str(out)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    identity = next(f for f in manifest["files"] if f["kind"] == "identity_photo")
    assert (out / identity["path"]).read_bytes() == face
    # the names and addresses moved to the new key too
    capsys.readouterr()
    assert await cli("addresses", "--db", db, "--exam", exam_id) == 0
    assert "1 Road" in capsys.readouterr().out and b"1 Road" not in Path(db).read_bytes()


async def with_clip_and_descriptor(tmp_path: Path, key_file: Path, exam_id: str) -> ClipRecord:
    """A clip of live media around a violation, and the face descriptor of the identity check,
    as the server stores them for the exam's one attempt."""
    store = SqliteStore(tmp_path / "exam.db", sealer=read_key_file(key_file))
    await store.open()
    try:
        (attempt,) = await store.attempts_of_exam(exam_id)
        now = attempt.created_at
        data = b"webm bytes"
        clip = ClipRecord(
            id="clip-1",
            attempt_id=attempt.id,
            kind="violation",
            started_at=now,
            ended_at=now + timedelta(seconds=20),
            path=f"clips/{attempt.id}/clip-1.webm",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            created_at=now,
        )
        await store.save_clip(clip, data)
        calibration = CalibrationRecord(source="identity", yaw=1.0, embedding=[0.5] * 128)
        await store.put_calibration(attempt.id, attempt.ticket, calibration, now)
    finally:
        await store.close()
    return clip


async def test_purge_removes_evidence_and_names_and_keeps_scores_and_the_audit_chain(
    tmp_path: Path,
    key_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exam_id, _, _ = await sitting(tmp_path, key_file, clock)
    db = str(tmp_path / "exam.db")
    monkeypatch.setenv("PROCTOR_DATA_KEY_FILE", str(key_file))
    files = tmp_path / "exam-files"
    assert len(list(files.rglob("*.jpg"))) == 2
    clip = await with_clip_and_descriptor(tmp_path, key_file, exam_id)
    assert (files / clip.path).is_file()
    # what Janus recorded of the exam's streams (serve --media janus), files the store does not list
    recordings = files / "janus" / exam_id
    recordings.mkdir(parents=True)
    for name in ("a-1-1-video-0.mjr", "a-1-1-audio-1.mjr"):
        (recordings / name).write_bytes(b"MJR00002" + bytes(64))

    # within its retention (365 days by default), nothing goes
    assert await cli("purge", "--db", db) == 0
    assert "nothing is past its retention" in capsys.readouterr().out
    assert await cli("purge", "--db", db, "--exam", exam_id, "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "would remove 2 photos and snapshots" in dry and "2 recordings of live media" in dry
    assert len(list(files.rglob("*.jpg"))) == 2 and len(list(recordings.glob("*.mjr"))) == 2

    assert await cli("purge", "--db", db, "--exam", exam_id) == 0
    assert (
        "removed 2 photos and snapshots, 0 reference photos, 1 clips, 2 recordings of live "
        "media, the names and contacts of 1 tickets, 1 addresses, 1 face descriptors"
        in capsys.readouterr().out
    )
    assert list(files.rglob("*.jpg")) == [] and not (files / clip.path).exists()
    assert list(recordings.glob("*.mjr")) == []
    assert await cli("audit", "--db", db, "--exam", exam_id, "--verify") == 0
    trail = capsys.readouterr().out
    assert "evidence_purged" in trail and "recordings_purged" in trail

    store = SqliteStore(tmp_path / "exam.db")
    await store.open()
    try:
        (attempt,) = await store.attempts_of_exam(exam_id)
        ticket = await store.get_ticket(attempt.ticket)
        assert ticket is not None and ticket.name == "" and ticket.candidate_code == "C00001"
        photos = await store.photos(attempt.id)
        assert len(photos) == 2 and all(ph.purged_at is not None for ph in photos)
        assert all(len(ph.sha256) == 64 for ph in photos)  # what existed stays provable
        assert attempt.state is not None  # the attempt and its record stay
        assert await store.clips(attempt.id) == []  # the clip's row keeps its hash, unserved
        calibration = await store.calibration(attempt.id)
        assert calibration is not None and calibration.embedding is None
        assert calibration.yaw == 1.0  # the neutral pose is no personal datum: it stays
    finally:
        await store.close()
    # an export after the purge lists the purged files with their hashes and writes none
    out = tmp_path / "after-purge"
    assert await cli("export", "--db", db, "--exam", exam_id, "--out", str(out)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert all("purged_at" in f for f in manifest["files"])
    # purging twice changes nothing more
    assert await cli("purge", "--db", db, "--exam", exam_id) == 0
    assert "removed 0 photos" in capsys.readouterr().out


async def test_the_addresses_given_are_exported_for_the_certificate_mailing(
    tmp_path: Path,
    key_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exam_id, _, _ = await sitting(tmp_path, key_file, clock)
    db = str(tmp_path / "exam.db")
    # names and addresses are sealed under the data key: without it they do not open
    monkeypatch.delenv("PROCTOR_DATA_KEY_FILE", raising=False)
    assert await cli("addresses", "--db", db, "--exam", exam_id) == 2
    assert "sealed and no data key is configured" in capsys.readouterr().err
    monkeypatch.setenv("PROCTOR_DATA_KEY_FILE", str(key_file))
    assert await cli("addresses", "--db", str(tmp_path / "exam.db"), "--exam", exam_id) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:6] == ["candidate", "ticket_name", "name", "phone", "address", "postcode"]
    assert rows[1][:6] == ["C00001", "Ada", "A Candidate", "13800000000", "1 Road", "100000"]
    assert await cli("addresses", "--db", str(tmp_path / "exam.db"), "--exam", "exam-nope") == 2
