"""A disk that refuses writes: a database file that is not one gives a one-line error at start;
an image the disk cannot take is refused with `storage_unavailable` (its `ref` set, no `.tmp`
left behind) while answers go on being stored and acknowledged. The full disk is a real limit
on a real server process (RLIMIT_FSIZE: no file may grow past 1 MB, as on a disk that is full)."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from shared import protocol as p
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate, new_id

CLI = [sys.executable, "-m", "proctor_server.cli"]
FILE_LIMIT = 1024 * 1024


def cli(*args: str) -> str:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "exams.db"
    db.write_bytes(b"this is not a database" * 100)
    done = subprocess.run(
        [*CLI, "serve", "--db", str(db), "--port", "0", "--analysis", "basic"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "cannot open the database" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def _small_disk() -> None:
    """In the server process only: files may not grow past FILE_LIMIT (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def start_on_a_small_disk(db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "serve", "--db", str(db), "--port", "0", "--analysis", "basic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_small_disk,
    )


def stop(server: subprocess.Popen[str]) -> str:
    """Stop the server; its log."""
    server.terminate()
    _, err = server.communicate(timeout=20)
    return err


def big_snapshot() -> bytes:
    """A real 1200×900 photo of about 1.3 MB: within the protocol's limits, past the disk's."""
    noise = np.random.default_rng(0).integers(0, 255, (900, 1200, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok and FILE_LIMIT < len(data) < p.MAX_IMAGE_BYTES
    return bytes(data)


async def test_a_full_disk_refuses_images_and_keeps_taking_answers(tmp_path: Path) -> None:
    db = tmp_path / "exams.db"
    bank = tmp_path / "bank.json"
    bank.write_text(
        json.dumps(
            {
                "questions": [
                    {"id": q.id, "text": q.text, "options": q.options, "answer": q.answer}
                    for q in QUESTIONS
                ]
            }
        )
    )
    starts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    exam_id = cli(
        *("exam", "create", "--db", str(db), "--title", "Full disk", "--starts-at", starts),
        *("--duration-min", "60", "--questions", str(bank)),
    )
    ticket = cli("ticket", "--db", str(db), "--exam", exam_id, "--candidate", "Ada")
    server = start_on_a_small_disk(db)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("listening on http://"), line
        c = await Candidate.connect(line.split()[-1].replace("http://", "ws://"))
        _, paper = await c.enter(ticket)
        q = paper.questions[0]
        await c.expect_ack(await c.answer(q.id, [q.options[0].id]))

        ident = new_id()
        await c.ws.send(p.encode_image(p.ImageHeader(type="snapshot", id=ident), big_snapshot()))
        refused = await c.expect_error("storage_unavailable")
        assert refused.ref == ident and "answers are still saved" in refused.message

        await c.expect_ack(await c.answer(q.id, [q.options[1].id]))  # still stored and acked
        assert list((tmp_path / "exams-files").rglob("*.tmp")) == []
        await c.close()
    finally:
        err = stop(server)
    assert "cannot store evidence" in err and "Traceback" not in err
