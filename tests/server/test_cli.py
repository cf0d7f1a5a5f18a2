"""The staff command line: happy paths and one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor_server.cli import main

BANK = {
    "questions": [
        {"id": "q1", "text": "Which port?", "options": ["21", "443"], "answer": [1], "points": 5}
    ]
}


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(BANK))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_create_an_exam_issue_tickets_and_a_proctor_token(
    tmp_path: Path, bank: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "e.db")
    code, exam_id, _ = run(
        capsys,
        "exam",
        "create",
        "--db",
        db,
        "--title",
        "Cloud",
        "--starts-at",
        "2026-07-25T14:00:00+08:00",
        "--duration-min",
        "90",
        "--questions",
        str(bank),
    )
    assert code == 0 and exam_id.startswith("exam-")
    photo = tmp_path / "face.jpg"
    cv2.imwrite(str(photo), np.full((240, 320, 3), 128, np.uint8))
    code, token, _ = run(
        capsys,
        "ticket",
        "--db",
        db,
        "--exam",
        exam_id,
        "--candidate",
        "张三",
        "--email",
        "z@example.com",
        "--phone",
        "13800000000",
        "--photo",
        str(photo),
    )
    assert code == 0 and len(token) >= 20
    code, proctor, _ = run(capsys, "proctor-token", "--db", db, "--exam", exam_id)
    assert code == 0 and proctor.startswith("p-")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "exam",
                "create",
                "--questions",
                "{missing}",
                "--starts-at",
                "2026-07-25T14:00:00+08:00",
            ],
            "no such question bank file",
        ),
        (
            [
                "exam",
                "create",
                "--questions",
                "{broken}",
                "--starts-at",
                "2026-07-25T14:00:00+08:00",
            ],
            "malformed JSON",
        ),
        (
            ["exam", "create", "--questions", "{bank}", "--starts-at", "2026-07-25T14:00:00"],
            "offset",
        ),
        (
            ["exam", "create", "--questions", "{bank}", "--starts-at", "tomorrow"],
            "not an ISO 8601 time",
        ),
        (["ticket", "--exam", "exam-nope", "--candidate", "X"], "no exam with id 'exam-nope'"),
        (["proctor-token", "--exam", "exam-nope"], "no exam with id"),
        (
            ["ticket", "--exam", "exam-nope", "--candidate", "X", "--photo", "{missing}"],
            "no such photo file",
        ),
    ],
)
def test_mistakes_are_one_line_on_stderr(
    tmp_path: Path, bank: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"questions": [')
    full = [a.format(missing=tmp_path / "missing.json", broken=broken, bank=bank) for a in args]
    if full[0] == "exam":
        full += ["--title", "T", "--duration-min", "60"]
    code, out, err = (
        run(capsys, *full[:2], "--db", str(tmp_path / "e.db"), *full[2:])
        if full[0] == "exam"
        else run(capsys, full[0], "--db", str(tmp_path / "e.db"), *full[1:])
    )
    assert code == 2 and out == ""
    assert message in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_database_in_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "proctor-token", "--db", str(tmp_path / "no" / "e.db"), "--exam", "x"
    )
    assert code == 2 and "no such folder" in err


def test_the_installed_command_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "proctor_server.cli",
            "exam",
            "create",
            "--db",
            str(tmp_path / "e.db"),
            "--title",
            "T",
            "--starts-at",
            "2026-07-25T14:00:00+08:00",
            "--duration-min",
            "60",
            "--questions",
            str(tmp_path / "absent.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"proctor-server: error: {tmp_path / 'absent.json'}: no such question bank file"
    ]
