"""The local outbox on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from proctor_client.outbox import (
    FILE_NAME,
    Outbox,
    OutboxError,
    default_data_dir,
    last_session,
    scope_of,
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / FILE_NAME


def test_items_come_back_in_order_and_leave_on_remove(path: Path) -> None:
    with Outbox(path, "s") as box:
        assert box.add("a1", "answer", '{"type":"answer"}')
        assert box.add("e1", "event", '{"type":"event"}')
        assert box.add("p1", "snapshot", b"\x00\x00\x00\x02{}\xff\xd8")
        assert [i.id for i in box.items()] == ["a1", "e1", "p1"]
        assert box.items()[2].data == b"\x00\x00\x00\x02{}\xff\xd8"
        assert box.count() == 3 and box.count("answer") == 1
        assert box.remove("e1")
        assert not box.remove("e1")
        assert box.ids() == ["a1", "p1"]


def test_the_same_id_twice_is_kept_once(path: Path) -> None:
    with Outbox(path, "s") as box:
        assert box.add("a1", "answer", "first")
        assert not box.add("a1", "answer", "second")
        assert [i.data for i in box.items()] == ["first"]


def test_items_after_a_sequence_number(path: Path) -> None:
    with Outbox(path, "s") as box:
        for n in range(5):
            box.add(f"m{n}", "event", f"t{n}")
        first_two = box.items(limit=2)
        rest = box.items(after=first_two[-1].seq)
        assert [i.id for i in first_two] == ["m0", "m1"]
        assert [i.id for i in rest] == ["m2", "m3", "m4"]


def test_unsent_work_survives_a_restart(path: Path) -> None:
    box = Outbox(path, "s")
    box.add("a1", "answer", "x")
    box.remember("ws://h", "T", "exam")
    box.close()
    box.close()  # idempotent
    with Outbox(path, "s") as again:
        assert again.ids() == ["a1"]
        record = again.session()
        assert record is not None and (record.server, record.ticket) == ("ws://h", "T")


def test_scopes_do_not_see_each_other(path: Path) -> None:
    with Outbox(path, "one") as one, Outbox(path, "two") as two:
        one.add("x", "answer", "1")
        two.add("x", "answer", "2")
        assert [i.data for i in one.items()] == ["1"]
        two.clear()
        assert one.count() == 1 and two.count() == 0


def test_scope_depends_on_server_ticket_and_mode() -> None:
    base = scope_of("ws://h:1", "T", "exam")
    assert base == scope_of("ws://h:1/", "T", "exam")
    assert (
        len(
            {
                base,
                scope_of("ws://h:2", "T", "exam"),
                scope_of("ws://h:1", "U", "exam"),
                scope_of("ws://h:1", "T", "trial"),
            }
        )
        == 4
    )
    assert "T" not in base


def test_old_snapshots_give_way_to_new_ones(path: Path) -> None:
    with Outbox(path, "s", snapshot_cap=3) as box:
        box.add("a1", "answer", "keep me")
        for n in range(6):
            box.add(f"s{n}", "snapshot", bytes([n]))
        assert box.ids() == ["a1", "s3", "s4", "s5"]


def test_finish_forgets_work_and_the_session_is_no_longer_resumable(path: Path) -> None:
    with Outbox(path, "old") as old, Outbox(path, "new") as new:
        old.remember("ws://h", "OLD", "exam")
        new.remember("ws://h", "NEW", "exam")
        new.add("a", "answer", "x")
        record = last_session(path)
        assert record is not None and record.ticket == "NEW"
        new.finish()
        assert new.count() == 0
        finished = new.session()
        assert finished is not None and finished.finished
        record = last_session(path)
        assert record is not None and record.ticket == "OLD"


def test_no_file_means_no_last_session(tmp_path: Path) -> None:
    assert last_session(tmp_path / "missing.sqlite3") is None


def test_a_file_that_is_not_a_database_is_a_clear_error(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite at all, just some text " * 20)
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        Outbox(path, "s")
    with pytest.raises(OutboxError, match="cannot read the outbox"):
        last_session(path)
    assert path.read_bytes().startswith(b"this is not sqlite")  # nothing overwritten


def test_a_directory_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutboxError, match="cannot"):
        Outbox(blocker / FILE_NAME, "s")


def test_a_newer_schema_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(OutboxError, match="newer version"):
        Outbox(path, "s")


def test_a_closed_outbox_refuses_work(path: Path) -> None:
    box = Outbox(path, "s")
    box.close()
    with pytest.raises(OutboxError, match="closed"):
        box.add("a", "answer", "x")
    with pytest.raises(OutboxError, match="closed"):
        box.items()


def test_data_dir_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROCTOR_CLIENT_HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home"
    monkeypatch.delenv("PROCTOR_CLIENT_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "proctor-client"
