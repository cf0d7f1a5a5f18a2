"""The command line end to end on a real database: in-process through `cli.main`, and once
through the installed `proctor-server` script in a subprocess."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from proctor_server.cli import main
from tests.programme.test_notify import Inbox

VENV_BIN = Path(sys.executable).parent
QUESTIONS = {
    "questions": [
        {"id": "q1", "text": "HTTPS port?", "options": ["80", "443"], "answer": [1], "points": 50},
        {
            "id": "q2",
            "text": "DNS is for?",
            "options": ["names", "mail"],
            "answer": [0],
            "points": 50,
        },
    ]
}

Run = tuple[int, str, str]
Cli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line_error(result: Run, *fragments: str) -> None:
    code, _out, err = result
    assert code == 2, result
    assert err.count("\n") == 1 and err.startswith("proctor-server: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture
def smtp_thread() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1, port 0, on its own loop in a thread."""
    inbox = Inbox()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            loop.create_server(lambda: SMTP(inbox, hostname="localhost", loop=loop), "127.0.0.1", 0)
        )
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield inbox, port[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_calendar_json_and_text(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("calendar", "--year", "2026", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 12
    july = rows[6]
    assert july["exam_date"] == "2026-07-25"
    assert july["registration_closes"] == "2026-07-15T00:00:00+08:00"
    assert july["ticket_by"] == "2026-07-21T00:00:00+08:00"
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("# staff list\n2026-12-26  # a holiday on the last Saturday\n")
    code, out, _ = cli("calendar", "--year", "2026", "--holidays", str(holidays), "--json")
    december = json.loads(out)[11]
    assert december["exam_date"] == "2026-12-19" and december["moved_for_holiday"]
    assert december["registration_closes"] == "2026-12-09T00:00:00+08:00"
    code, out, _ = cli("calendar", "--year", "2026", "--tz", "Europe/Berlin", "--json")
    assert json.loads(out)[0]["registration_closes"] == "2026-01-21T00:00:00+01:00"
    code, out, _ = cli("calendar", "--year", "2026", "--holidays", str(holidays))
    assert code == 0 and "2026-07  2026-07-25 Sat" in out and "moved a week earlier" in out


def test_calendar_bad_input_is_one_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "holidays.txt"
    bad.write_text("2026-01-01\n\n2026-02-30\n")
    one_line_error(
        cli("calendar", "--year", "2026", "--holidays", str(bad)), f"{bad}:3", "no such date"
    )
    bad.write_text("2026-01-01\nfirst of May\n")
    one_line_error(cli("calendar", "--year", "2026", "--holidays", str(bad)), f"{bad}:2")
    bad.write_bytes(b"\xff\xfe2026")
    one_line_error(cli("calendar", "--year", "2026", "--holidays", str(bad)), str(bad), "UTF-8")
    missing = tmp_path / "none.txt"
    one_line_error(cli("calendar", "--year", "2026", "--holidays", str(missing)), str(missing))
    one_line_error(cli("calendar", "--year", "2026", "--tz", "Nowhere/Land"), "time zone")
    one_line_error(cli("calendar", "--year", "0"), "--year")


def test_the_whole_path_on_one_database(
    cli: Cli, tmp_path: Path, smtp_thread: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_thread
    db = str(tmp_path / "exam.db")
    person = [
        "--name",
        "张三",
        "--id-number",
        "11010519491231002X",
        "--phone",
        "13800138000",
        "--email",
        "zhang@example.cn",
        "--city",
        "Shenzhen",
    ]
    other = [
        "--name",
        "Li Si",
        "--id-number",
        "E12345678",
        "--phone",
        "13900139000",
        "--email",
        "li@example.cn",
        "--city",
        "Beijing",
    ]
    july1 = "2026-07-01T09:00:00+08:00"

    one_line_error(
        cli("register", "--db", db, *person, "--sitting", "2026-07", "--now", july1), "R1:"
    )
    one_line_error(
        cli(
            "register",
            "--db",
            db,
            *person,
            "--sitting",
            "2026-07",
            "--identity-verified",
            "--now",
            "2026-07-15T00:00:00+08:00",
        ),
        "R3:",
        "2026-07-15T00:00+08:00",
    )
    one_line_error(
        cli(
            "register",
            "--db",
            db,
            *person,
            "--sitting",
            "2026-07",
            "--identity-verified",
            "--now",
            "2026-07-01T09:00:00",
        ),
        "offset",
    )
    code, out, _ = cli(
        "register",
        "--db",
        db,
        *person,
        "--sitting",
        "2026-07",
        "--identity-verified",
        "--now",
        july1,
    )
    assert (code, out) == (0, "1\n")
    code, out, _ = cli(
        "register",
        "--db",
        db,
        *other,
        "--sitting",
        "2026-07",
        "--identity-verified",
        "--now",
        july1,
    )
    assert (code, out) == (0, "2\n")
    assert cli("pay", "--db", db, "--registration", "1", "--now", july1)[:2] == (0, "#1 paid\n")
    assert cli("pay", "--db", db, "--registration", "2", "--now", july1)[0] == 0
    one_line_error(
        cli("pay", "--db", db, "--registration", "9", "--now", july1), "no registration #9"
    )
    one_line_error(
        cli("refund", "--db", db, "--registration", "2", "--now", "2026-07-06T09:00:00+08:00"),
        "R5:",
        "2026-07-06T09:00+08:00",
    )
    code, out, _ = cli(
        "defer", "--db", db, "--registration", "2", "--now", "2026-07-10T00:00:00+08:00"
    )
    assert code == 0 and "2026-08" in out
    one_line_error(
        cli("defer", "--db", db, "--registration", "2", "--now", "2026-07-10T00:00:00+08:00"),
        "R6:",
    )

    bank = tmp_path / "bank.json"
    bank.write_text(json.dumps(QUESTIONS))
    code, out, err = cli(
        "exam",
        "create",
        "--db",
        db,
        "--title",
        "Cloud Practitioner",
        "--starts-at",
        "2026-07-25T14:00:00+08:00",
        "--duration-min",
        "60",
        "--questions",
        str(bank),
    )
    assert code == 0, err
    exam_id = out.strip()
    one_line_error(
        cli(
            "issue-tickets",
            "--db",
            db,
            "--sitting",
            "2026-07",
            "--exam",
            exam_id,
            "--now",
            "2026-07-14T00:00:00+08:00",
        ),
        "R3:",
    )
    code, out, err = cli(
        "issue-tickets",
        "--db",
        db,
        "--sitting",
        "2026-07",
        "--exam",
        exam_id,
        "--now",
        "2026-07-21T08:00:00+08:00",
    )
    assert code == 0
    reg_id, token = out.split()
    assert reg_id == "1" and len(token) == 24
    assert "R8:" in err and "2026-07-21T00:00+08:00" in err  # issued, but late

    one_line_error(
        cli(
            "publish-results",
            "--db",
            db,
            "--sitting",
            "2026-07",
            "--now",
            "2026-07-25T14:30:00+08:00",
        ),
        "R18:",
    )
    code, out, _ = cli(
        "publish-results", "--db", db, "--sitting", "2026-07", "--now", "2026-07-27T10:00:00+08:00"
    )
    assert (code, out) == (0, "1 no-show\n")  # R7
    code, out, _ = cli("status", "--db", db, "--registration", "1")
    status = json.loads(out)
    assert status["state"] == "failed" and status["no_show"] is True
    assert [h["action"] for h in status["history"]] == [
        "registered",
        "trial_pass_given",
        "paid",
        "ticket_issued",
        "result",
    ]
    one_line_error(
        cli(
            "retake",
            "--db",
            db,
            "--registration",
            "1",
            "--sitting",
            "2026-11",
            "--now",
            "2026-07-28T00:00:00+08:00",
        ),
        "R20:",
        "2026-10-25",
    )
    code, out, _ = cli(
        "retake",
        "--db",
        db,
        "--registration",
        "1",
        "--sitting",
        "2026-08",
        "--now",
        "2026-07-28T00:00:00+08:00",
    )
    assert (code, out) == (0, "3\n")
    one_line_error(
        cli(
            "certificate",
            "--db",
            db,
            "--id-number",
            "11010519491231002X",
            "--now",
            "2026-08-01T00:00:00+08:00",
        ),
        "no certificate",
    )
    one_line_error(
        cli("mail-certificate", "--db", db, "--number", "202607000001"), "no certificate"
    )

    # notices: ticket, result and retake offer for #1, the deferral for #2, and the trial
    # passes (R12): #1 and #2 at registration, #2 again for its new sitting, #3 for August
    spool = tmp_path / "spool"
    code, out, err = cli(
        "notices",
        "send",
        "--db",
        db,
        "--spool-dir",
        str(spool),
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--now",
        "2026-07-28T00:00:00+08:00",
    )
    assert (code, out) == (0, "sent 32, retrying 0, failed 0, uncertain 0\n"), err
    assert sorted(m["Subject"] for m in inbox.messages) == sorted(
        [
            "Exam deferred to 2026-08-29",
            "Admission ticket: Cloud Practitioner on 2026-07-25",
            "Exam result, 2026-07 sitting",
            "Your free retake",
            *["Your trial exam pass, 2026-07 sitting"] * 2,
            *["Your trial exam pass, 2026-08 sitting"] * 2,
        ]
    )
    assert len((spool / "sms.jsonl").read_text().splitlines()) == 8
    code, out, _ = cli(
        "notices",
        "send",
        "--db",
        db,
        "--spool-dir",
        str(spool),
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
    )
    assert out == "sent 0, retrying 0, failed 0, uncertain 0\n"
    code, out, _ = cli("notices", "list", "--db", db, "--state", "sent")
    assert len(out.splitlines()) == 32
    one_line_error(cli("notices", "retry", "--db", db, "--notice", "1"), "no uncertain")


def test_bad_db_is_one_line(cli: Cli, tmp_path: Path) -> None:
    one_line_error(
        cli("pay", "--db", str(tmp_path / "missing" / "exam.db"), "--registration", "1"),
        "no such folder",
    )
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    one_line_error(
        cli("status", "--db", str(junk), "--registration", "1"), str(junk), "cannot open"
    )


def test_installed_script_in_a_subprocess(tmp_path: Path) -> None:
    script = VENV_BIN / "proctor-server"
    assert script.exists(), script
    db = str(tmp_path / "exam.db")
    done = subprocess.run(
        [
            str(script),
            "register",
            "--db",
            db,
            "--name",
            "Li Si",
            "--id-number",
            "E12345678",
            "--phone",
            "13900139000",
            "--email",
            "li@example.cn",
            "--city",
            "Beijing",
            "--sitting",
            "2026-07",
            "--identity-verified",
            "--now",
            "2026-07-01T09:00:00+08:00",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "1\n", "")
    done = subprocess.run(
        [str(script), "calendar", "--year", "2020", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)[6]["registration_closes"] == "2020-07-15T00:00:00+08:00"
    done = subprocess.run(
        [
            str(script),
            "refund",
            "--db",
            db,
            "--registration",
            "1",
            "--now",
            "2026-07-02T00:00:00+08:00",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "proctor-server: error: R5: registration #1 is unpaid: no payment to refund\n"
    )
