"""Tickets the exam server accepts (R8), results from the attempts (R7, R18), certificates (R19),
the free retake (R20) and registering again (R21), on one real SQLite file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from proctor_server.core.session import ticket_key
from proctor_server.programme.exams import (
    ResultReport,
    TicketReport,
    candidate_code,
    issue_tickets,
    lookup_certificate,
    mark_paper_mailed,
    publish_results,
)
from proctor_server.programme.service import Programme
from proctor_server.store.base import TicketRecord
from shared.errors import ConfigError, RuleError
from shared.programme_rules import Kind, RegState, RuleBroken
from tests.programme.conftest import at, enrol, make_exam, open_store, query, sit_exam

STARTS = "2026-07-25T14:00:00+08:00"
ENTRY = "https://exam.example.cn/?ticket={ticket}"


async def tickets(
    prog: Programme, db_path: Path, exam_id: str, now: str, month: str = "2026-07"
) -> TicketReport:
    store = await open_store(db_path)
    try:
        return await issue_tickets(prog, store, month, exam_id, at(now), ENTRY)
    finally:
        await store.close()


async def publish(prog: Programme, db_path: Path, now: str, month: str = "2026-07") -> ResultReport:
    store = await open_store(db_path)
    try:
        return await publish_results(prog, store, month, at(now))
    finally:
        await store.close()


def notices(prog: Programme, kind: str) -> list[tuple[int, str]]:
    return query(
        prog, "SELECT registration_id, body FROM programme_notices WHERE kind = ? ORDER BY id", kind
    )


async def test_r8_tickets_are_real_store_tickets_one_per_paid_registration(
    prog: Programme, db_path: Path
) -> None:
    a, b, c = await enrol(prog, 0), await enrol(prog, 1), await enrol(prog, 2)
    await prog.refund(c, at("2026-07-02T00:00:00+08:00"))
    exam_id = await make_exam(db_path, STARTS)
    report = await tickets(prog, db_path, exam_id, "2026-07-16T09:00:00+08:00")
    assert [r for r, _ in report.issued] == [a, b]
    assert not report.late
    store = await open_store(db_path)
    try:
        for reg_id, token in report.issued:
            ticket = await store.get_ticket(ticket_key(token))
            assert ticket is not None and not ticket.revoked
            assert ticket.exam_id == exam_id
            assert ticket.candidate_code == f"R{reg_id:06d}"
            assert ticket.email == f"c{reg_id - 1}@example.cn"
        assert await store.count_tickets(exam_id) == 2
    finally:
        await store.close()
    assert len(report.issued[0][1]) == 24  # secrets.token_urlsafe(18)
    for reg_id, token in report.issued:
        reg = await prog.registration(reg_id)
        assert reg.state is RegState.TICKETED and reg.ticket_token == ticket_key(token)
    # the raw tickets are in the notices only (until sent): no table of the store holds them
    raw = {token for _, token in report.issued}
    stored = query(prog, "SELECT token FROM tickets") + query(
        prog, "SELECT ticket_token FROM programme_registrations"
    )
    assert not raw & {value for row in stored for value in row}
    ticket_notices = notices(prog, "ticket")
    assert [r for r, _ in ticket_notices] == [a, b]
    body = ticket_notices[0][1]
    assert "2026-07-25T14:00+08:00" in body and "2026-07-25T13:30+08:00" in body
    assert f"https://exam.example.cn/?ticket={report.issued[0][1]}" in body
    # run again: nothing new, nothing twice
    again = await tickets(prog, db_path, exam_id, "2026-07-17T09:00:00+08:00")
    assert again.issued == []
    assert len(notices(prog, "ticket")) == 2


async def test_r8_ticket_timing_and_exam_checks(prog: Programme, db_path: Path) -> None:
    await enrol(prog, 0)
    exam_id = await make_exam(db_path, STARTS)
    with pytest.raises(RuleBroken, match=r"^R3: .*2026-07-15T00:00\+08:00"):
        await tickets(prog, db_path, exam_id, "2026-07-14T23:59:59+08:00")
    with pytest.raises(ConfigError, match="unknown exam"):
        await tickets(prog, db_path, "nope", "2026-07-16T00:00:00+08:00")
    wrong_day = await make_exam(db_path, "2026-07-26T14:00:00+08:00")
    with pytest.raises(ConfigError, match="2026-07-26"):
        await tickets(prog, db_path, wrong_day, "2026-07-16T00:00:00+08:00")
    with pytest.raises(ConfigError, match="nobody is registered"):
        await tickets(prog, db_path, exam_id, "2026-08-20T00:00:00+08:00", month="2026-08")
    with pytest.raises(RuleBroken, match=r"^R8: "):
        await tickets(prog, db_path, exam_id, STARTS)
    late = await tickets(prog, db_path, exam_id, "2026-07-21T00:00:00+08:00")  # Monday 24:00
    assert late.late and len(late.issued) == 1
    other = await make_exam(db_path, "2026-07-25T09:00:00+08:00")
    with pytest.raises(ConfigError, match="already linked"):
        await tickets(prog, db_path, other, "2026-07-22T00:00:00+08:00")


async def test_r8_on_the_monday_is_on_time(prog: Programme, db_path: Path) -> None:
    await enrol(prog, 0)
    exam_id = await make_exam(db_path, STARTS)
    report = await tickets(prog, db_path, exam_id, "2026-07-20T23:59:59+08:00")
    assert not report.late and len(report.issued) == 1


async def test_a_ticket_left_by_an_interrupted_run_is_replaced_by_a_fresh_one(
    prog: Programme, db_path: Path
) -> None:
    """An earlier version wrote the store's ticket row and the registration apart; a run
    interrupted between them left a ticket whose raw token was never sent (and is not stored):
    the next run issues a fresh ticket in its place, and the old one admits nobody."""
    reg_id = await enrol(prog, 0)
    exam_id = await make_exam(db_path, STARTS)
    store = await open_store(db_path)
    try:  # the store row was written, the registration update was not
        code = candidate_code(await prog.registration(reg_id))
        left = TicketRecord(ticket_key("left-over-token"), exam_id, code, "Candidate 0")
        await store.create_ticket(left)
    finally:
        await store.close()
    report = await tickets(prog, db_path, exam_id, "2026-07-16T00:00:00+08:00")
    ((issued_to, token),) = report.issued
    assert issued_to == reg_id and token != "left-over-token"
    store = await open_store(db_path)
    try:
        assert await store.get_ticket(ticket_key("left-over-token")) is None
        fresh = await store.get_ticket(ticket_key(token))
        assert fresh is not None and fresh.candidate_code == code and not fresh.revoked
        assert await store.count_tickets(exam_id) == 1
    finally:
        await store.close()
    assert token in notices(prog, "ticket")[0][1]


async def test_r5_refund_after_the_ticket_revokes_it(prog: Programme, db_path: Path) -> None:
    reg_id = await enrol(prog, 0, now="2026-07-14T12:00:00+08:00")
    exam_id = await make_exam(db_path, STARTS)
    report = await tickets(prog, db_path, exam_id, "2026-07-15T08:00:00+08:00")
    await prog.refund(reg_id, at("2026-07-16T00:00:00+08:00"))
    store = await open_store(db_path)
    try:
        ticket = await store.get_ticket(ticket_key(report.issued[0][1]))
        assert ticket is not None and ticket.revoked
    finally:
        await store.close()


async def test_results_certificates_retake_and_registering_again(
    prog: Programme, db_path: Path
) -> None:
    passer, failer, absent = await enrol(prog, 0), await enrol(prog, 1), await enrol(prog, 2)
    exam_id = await make_exam(db_path, STARTS)
    issued = dict((await tickets(prog, db_path, exam_id, "2026-07-16T09:00:00+08:00")).issued)
    await sit_exam(db_path, exam_id, issued[passer], 100, starts_at=STARTS)
    await sit_exam(db_path, exam_id, issued[failer], 50, starts_at=STARTS)
    # R18: not before the exam has ended (14:00 + 60 min)
    with pytest.raises(RuleBroken, match=r"^R18: .*2026-07-25T15:00\+08:00"):
        await publish(prog, db_path, "2026-07-25T14:59:59+08:00")
    report = await publish(prog, db_path, "2026-07-27T10:00:00+08:00")
    assert (report.passed, report.failed, report.no_show) == ([passer], [failer], [absent])
    assert not report.late
    assert (await prog.registration(passer)).state is RegState.PASSED
    assert (await prog.registration(failer)).score == 50
    gone = await prog.registration(absent)
    assert gone.state is RegState.FAILED and gone.no_show  # R7
    assert [r for r, _ in notices(prog, "result")] == [passer, failer, absent]
    assert "no-show counts as a fail (R7)" in notices(prog, "result")[2][1]
    assert [r for r, _ in notices(prog, "retake_offer")] == [failer, absent]  # R20
    assert "2026-10-25" in notices(prog, "retake_offer")[0][1]
    assert (await publish(prog, db_path, "2026-07-28T10:00:00+08:00")).passed == []  # once

    # R19: the e-certificate after 3 working days (Mon 27 – Wed 29 July)
    with pytest.raises(RuleBroken, match=r"^R19: .*2026-07-30T00:00\+08:00"):
        await lookup_certificate(
            prog, at("2026-07-29T23:59:59+08:00"), id_number="11010519491231002x"
        )
    cert = await lookup_certificate(
        prog, at("2026-07-30T00:00:00+08:00"), id_number="11010519491231002X"
    )
    assert cert.valid and cert.name == "Candidate 0"
    assert cert.published_at == "2026-07-27T10:00+08:00"
    assert cert.valid_until == "2028-07-26"  # 2 years from the publication day, 27 July
    assert cert.paper_due == "2026-08-24"
    assert (
        await lookup_certificate(prog, at("2028-07-26T23:59:00+08:00"), number=cert.number)
    ).valid
    assert not (
        await lookup_certificate(prog, at("2028-07-27T00:00:00+08:00"), number=cert.number)
    ).valid
    with pytest.raises(ConfigError, match="no certificate"):
        await lookup_certificate(prog, at("2026-08-01T00:00:00+08:00"), id_number="E12345678")
    assert await mark_paper_mailed(prog, cert.number, at("2026-08-24T23:59:00+08:00"))  # on time
    with pytest.raises(RuleError, match="already mailed"):
        await mark_paper_mailed(prog, cert.number, at("2026-08-25T00:00:00+08:00"))
    with pytest.raises(ConfigError, match="no certificate"):
        await mark_paper_mailed(prog, "nope", at("2026-08-25T00:00:00+08:00"))
    assert (
        await lookup_certificate(prog, at("2026-08-25T00:00:00+08:00"), number=cert.number)
    ).paper_mailed_at

    # R20: the free retake, within 3 months, never deferred, never refunded, only one
    with pytest.raises(RuleBroken, match=r"^R20: .*2026-10-25"):
        await prog.request_retake(failer, "2026-10", at("2026-08-01T00:00:00+08:00"))
    retake = await prog.request_retake(failer, "2026-08", at("2026-08-18T23:59:59+08:00"))
    assert retake.kind is Kind.RETAKE and retake.state is RegState.PAID
    assert retake.retake_of == failer and retake.sitting == "2026-08"
    with pytest.raises(RuleBroken, match=r"^R20: .*already"):
        await prog.request_retake(failer, "2026-09", at("2026-08-02T00:00:00+08:00"))
    with pytest.raises(RuleBroken, match=r"^R6: .*retake"):
        await prog.defer(retake.id, None, at("2026-08-02T00:00:00+08:00"))
    with pytest.raises(RuleBroken, match=r"^R20: .*free"):
        await prog.refund(retake.id, at("2026-08-19T00:00:00+08:00"))
    with pytest.raises(RuleBroken, match=r"^R20: .*2026-08-19T00:00"):
        await prog.request_retake(absent, "2026-08", at("2026-08-19T00:00:00+08:00"))

    # the retake is failed too (a no-show): R21, register (and pay) again
    august = await make_exam(db_path, "2026-08-29T14:00:00+08:00")
    await tickets(prog, db_path, august, "2026-08-20T00:00:00+08:00", month="2026-08")
    report = await publish(prog, db_path, "2026-08-31T10:00:00+08:00", month="2026-08")
    assert report.no_show == [retake.id]
    assert "register and pay again (R21)" in notices(prog, "result")[-1][1]
    assert [r for r, _ in notices(prog, "retake_offer")] == [failer, absent]  # no new offer
    with pytest.raises(RuleBroken, match=r"^R21: "):
        await prog.request_retake(retake.id, "2026-09", at("2026-09-01T00:00:00+08:00"))
    again = await prog.register(
        name="Candidate 1",
        id_number="E12345678",
        phone="13800138001",
        email="c1@example.cn",
        city="Shenzhen",
        sitting="2026-09",
        identity_verified=True,
        now=at("2026-09-01T00:00:00+08:00"),
    )
    assert again.kind is Kind.FIRST and again.state is RegState.UNPAID


async def test_r19_recertifying_renews_the_validity(prog: Programme, db_path: Path) -> None:
    first = await enrol(prog, 0)
    july = await make_exam(db_path, STARTS)
    issued = dict((await tickets(prog, db_path, july, "2026-07-16T00:00:00+08:00")).issued)
    await sit_exam(db_path, july, issued[first], 90, starts_at=STARTS)
    await publish(prog, db_path, "2026-07-27T10:00:00+08:00")
    second = await enrol(prog, 0, sitting="2027-07", now="2027-07-01T00:00:00+08:00")
    exam_2027 = await make_exam(db_path, "2027-07-31T14:00:00+08:00")
    issued = dict(
        (await tickets(prog, db_path, exam_2027, "2027-07-22T00:00:00+08:00", "2027-07")).issued
    )
    await sit_exam(db_path, exam_2027, issued[second], 95, starts_at="2027-07-31T14:00:00+08:00")
    await publish(prog, db_path, "2027-08-02T10:00:00+08:00", month="2027-07")
    # until the new e-certificate may be looked up (Thu 5 August), the old one answers
    old = await lookup_certificate(
        prog, at("2027-08-04T00:00:00+08:00"), id_number="11010519491231002X"
    )
    assert old.valid_until == "2028-07-26" and old.exam_date == "2026-07-25"
    assert not await mark_paper_mailed(prog, old.number, at("2027-08-04T00:00:00+08:00"))  # late
    cert = await lookup_certificate(
        prog, at("2027-08-10T00:00:00+08:00"), id_number="11010519491231002X"
    )
    assert cert.valid_until == "2029-08-01"
    assert cert.exam_date == date(2027, 7, 31).isoformat()


async def test_publishing_waits_for_unfinished_attempts_and_for_tickets(
    prog: Programme, db_path: Path
) -> None:
    a = await enrol(prog, 0)
    exam_id = await make_exam(db_path, STARTS)
    with pytest.raises(RuleBroken, match=r"^R8: "):
        await publish(prog, db_path, "2026-07-27T00:00:00+08:00")
    issued = dict((await tickets(prog, db_path, exam_id, "2026-07-16T00:00:00+08:00")).issued)
    from shared.states import AttemptState

    await sit_exam(
        db_path, exam_id, issued[a], None, starts_at=STARTS, state=AttemptState.IN_PROGRESS
    )
    with pytest.raises(RuleError, match="unfinished"):
        await publish(prog, db_path, "2026-07-27T00:00:00+08:00")
    assert (await prog.registration(a)).state is RegState.TICKETED


async def test_r18_late_results_are_flagged(prog: Programme, db_path: Path) -> None:
    await enrol(prog, 0)
    exam_id = await make_exam(db_path, STARTS)
    await tickets(prog, db_path, exam_id, "2026-07-16T00:00:00+08:00")
    report = await publish(prog, db_path, "2026-08-05T00:00:00+08:00")  # after the 7th working day
    assert report.late and report.notice_by == at("2026-08-05T00:00:00+08:00")
