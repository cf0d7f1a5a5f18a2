"""The outbox and its four channels: e-mail against a real local SMTP server (aiosmtpd on
127.0.0.1, port 0), SMS and chat spool files, the in-site message table. Retries with backoff;
never sent twice; an unknown outcome is never resent without a staff decision."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from proctor_server.programme.channels import FileChannel, SiteChannel, SmtpChannel
from proctor_server.programme.notify import Backoff, Channel, Dispatcher, deliveries, retry
from proctor_server.programme.service import Programme
from shared.timeutil import to_wire
from tests.programme.conftest import at, enrol, query

NOW = at("2026-07-03T10:00:00+08:00")


class Inbox:
    """An aiosmtpd handler that keeps what it accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse_rcpt = False
        self.drop_after_data = False

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        if self.drop_after_data:  # accepted, but the answer never reaches the client
            transport = server.transport
            assert isinstance(transport, asyncio.Transport)
            transport.abort()
        return "250 Message accepted"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="localhost", loop=loop), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield inbox, port
    finally:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    """A loopback port with nothing listening: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def one_notice(prog: Programme) -> int:
    """A refund notice, recorded with its four deliveries: the only notice (the trial pass
    notice of the registration is taken out: these tests follow one notice)."""
    reg_id = await enrol(prog, 0)
    trial = "(SELECT id FROM programme_notices WHERE kind = 'trial_pass')"
    query(prog, f"DELETE FROM programme_deliveries WHERE notice_id IN {trial}")
    query(prog, "DELETE FROM programme_notices WHERE kind = 'trial_pass'")
    await prog.refund(reg_id, at("2026-07-02T10:00:00+08:00"))
    return int(query(prog, "SELECT id FROM programme_notices WHERE kind = 'refund'")[0][0])


def channels(prog: Programme, spool: Path, port: int) -> dict[str, Channel]:
    return {
        "email": SmtpChannel("127.0.0.1", port, "exams@example.cn", timeout=5),
        "sms": FileChannel("sms", spool / "sms.jsonl"),
        "chat": FileChannel("chat", spool / "chat.jsonl"),
        "site": SiteChannel(prog.store),
    }


async def states(prog: Programme) -> dict[str, tuple[str, int]]:
    return {
        str(r["channel"]): (str(r["state"]), int(str(r["attempts"])))
        for r in await deliveries(prog.store)
    }


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


async def test_every_notice_goes_out_once_on_four_channels(
    prog: Programme, db_path: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    notice = await one_notice(prog)
    dispatcher = Dispatcher(prog.store, channels(prog, tmp_path, port))
    report = await dispatcher.run_once(NOW)
    assert (report.sent, report.retrying, report.failed, report.uncertain) == (4, 0, 0, 0)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "c0@example.cn"
    assert mail["Subject"] == "Refund of registration #1"
    assert mail["Message-ID"] == f"<notice-{notice}@proctor.invalid>"
    assert "refunded (R5)" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert [(x["to"], x["notice"]) for x in lines(tmp_path / "sms.jsonl")] == [
        ("13800138000", notice)
    ]
    assert [(x["to"], x["kind"]) for x in lines(tmp_path / "chat.jsonl")] == [
        ("13800138000", "refund")
    ]
    site = query(prog, "SELECT notice_id, subject FROM programme_site_messages")
    assert site == [(notice, "Refund of registration #1")]
    assert set((await states(prog)).values()) == {("sent", 1)}
    # a second pass sends nothing: never twice
    again = await dispatcher.run_once(NOW + timedelta(hours=1))
    assert again.sent == 0
    assert len(inbox.messages) == 1 and len(lines(tmp_path / "sms.jsonl")) == 1


async def test_smtp_down_is_retried_with_backoff(
    prog: Programme, db_path: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    await one_notice(prog)
    chans = channels(prog, tmp_path, closed_port())
    dispatcher = Dispatcher(prog.store, chans)
    report = await dispatcher.run_once(NOW)
    assert (report.sent, report.retrying) == (3, 1)
    assert "cannot reach 127.0.0.1" in report.errors[0]
    row = next(r for r in await deliveries(prog.store) if r["channel"] == "email")
    assert row["state"] == "pending" and row["next_at"] == to_wire(NOW + timedelta(minutes=1))
    # not due yet: not even attempted
    assert (await dispatcher.run_once(NOW + timedelta(seconds=59))).retrying == 0
    assert (await states(prog))["email"] == ("pending", 1)
    chans["email"].port = port  # type: ignore[attr-defined]  # the server is back
    report = await dispatcher.run_once(NOW + timedelta(minutes=1))
    assert report.sent == 1
    assert (await states(prog))["email"] == ("sent", 2)
    assert len(inbox.messages) == 1
    assert len(lines(tmp_path / "sms.jsonl")) == 1  # the others were not touched again


async def test_backoff_doubles_and_gives_up(prog: Programme, db_path: Path, tmp_path: Path) -> None:
    notice = await one_notice(prog)
    backoff = Backoff(first=timedelta(minutes=1), ceiling=timedelta(minutes=3), attempts=4)
    assert [backoff.delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=3),
        timedelta(minutes=3),
    ]
    dispatcher = Dispatcher(
        prog.store, {"email": SmtpChannel("127.0.0.1", closed_port(), "x@y.cn")}, backoff=backoff
    )
    moment = NOW
    for attempt, wait in ((1, 1), (2, 2), (3, 3)):
        assert (await dispatcher.run_once(moment)).retrying == 1
        assert (await states(prog))["email"] == ("pending", attempt)
        moment += timedelta(minutes=wait)
    report = await dispatcher.run_once(moment)
    assert report.failed == 1 and (await states(prog))["email"] == ("failed", 4)
    assert (await dispatcher.run_once(moment + timedelta(days=1))).failed == 0
    assert await retry(prog.store, notice, "email", moment) == 1  # staff may queue it again
    assert (await states(prog))["email"] == ("pending", 0)


async def test_permanent_refusal_fails_at_once(
    prog: Programme, db_path: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    inbox.refuse_rcpt = True
    await one_notice(prog)
    report = await Dispatcher(prog.store, channels(prog, tmp_path, port)).run_once(NOW)
    assert report.failed == 1
    assert (await states(prog))["email"] == ("failed", 1)
    assert "550" in str([r["error"] for r in await deliveries(prog.store, "failed")])
    assert inbox.messages == []


async def test_an_unknown_outcome_is_not_resent_until_staff_decide(
    prog: Programme, db_path: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    inbox.drop_after_data = True
    notice = await one_notice(prog)
    dispatcher = Dispatcher(prog.store, channels(prog, tmp_path, port))
    report = await dispatcher.run_once(NOW)
    assert report.uncertain == 1 and report.sent == 3
    assert len(inbox.messages) == 1  # it did arrive; the client could not know
    assert (await states(prog))["email"] == ("uncertain", 1)
    await dispatcher.run_once(NOW + timedelta(days=1))
    assert len(inbox.messages) == 1  # at most once: no silent resend
    inbox.drop_after_data = False
    assert (
        await retry(prog.store, notice, None, NOW + timedelta(days=1)) == 1
    )  # only the uncertain one
    assert (await dispatcher.run_once(NOW + timedelta(days=1))).sent == 1
    assert [m["Message-ID"] for m in inbox.messages] == [f"<notice-{notice}@proctor.invalid>"] * 2


async def test_a_crash_between_send_and_record(
    prog: Programme, db_path: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    notice = await one_notice(prog)
    # a run claimed every delivery and died: for the site channel the row had been written
    query(
        prog,
        "INSERT INTO programme_site_messages (notice_id, candidate_id, subject, body, created_at) "
        "VALUES (?, 1, 's', 'b', ?)",
        notice,
        to_wire(NOW),
    )
    claimed = NOW - timedelta(minutes=11)
    query(
        prog,
        "UPDATE programme_deliveries SET state = 'sending', claimed_at = ?, attempts = 1",
        to_wire(claimed),
    )
    dispatcher = Dispatcher(prog.store, channels(prog, tmp_path, port))
    # a claim younger than the lease may belong to a live run: left alone
    early = await dispatcher.run_once(claimed + timedelta(minutes=5))
    assert early.recovered == 0 and set((await states(prog)).values()) == {("sending", 1)}
    report = await dispatcher.run_once(NOW)
    assert report.recovered == 4
    assert report.sent == 1  # the idempotent in-site message, delivered again harmlessly
    st = await states(prog)
    assert st["site"] == ("sent", 2)
    assert {st["email"][0], st["sms"][0], st["chat"][0]} == {"uncertain"}
    assert inbox.messages == [] and lines(tmp_path / "sms.jsonl") == []
    count = query(prog, "SELECT count(*) FROM programme_site_messages")[0][0]
    assert count == 1


async def test_unconfigured_channel_waits(prog: Programme, db_path: Path, tmp_path: Path) -> None:
    await one_notice(prog)
    chans = channels(prog, tmp_path, 0)
    del chans["email"]
    report = await Dispatcher(prog.store, chans).run_once(NOW)
    assert report.sent == 3
    assert (await states(prog))["email"] == ("pending", 0)


async def test_spool_file_that_cannot_be_opened_is_retried(
    prog: Programme, db_path: Path, tmp_path: Path
) -> None:
    await one_notice(prog)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    report = await Dispatcher(
        prog.store, {"sms": FileChannel("sms", blocker / "sms.jsonl")}
    ).run_once(NOW)
    assert report.retrying == 1 and (await states(prog))["sms"] == ("pending", 1)


def test_naive_now_is_not_accepted_by_the_wire_format() -> None:
    with pytest.raises(ValueError):
        to_wire(datetime(2026, 7, 1))
