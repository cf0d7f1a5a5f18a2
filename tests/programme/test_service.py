"""Register, pay, refund, defer on a real SQLite file: rules enforced, history kept, nothing lost."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from proctor_server.programme.schema import PROGRAMME_STEPS
from proctor_server.programme.service import Programme, Settings
from shared.errors import ConfigError
from shared.programme_rules import RegState, RuleBroken
from tests.programme.conftest import (
    SH,
    at,
    close_programme,
    enrol,
    open_programme,
    query,
    stored,
)


def count(prog: Programme, table: str) -> int:
    return int(query(prog, f"SELECT count(*) FROM {table}")[0][0])


async def register(prog: Programme, **overrides: object) -> int:
    fields: dict[str, object] = dict(
        name="张三",
        id_number="11010519491231002X",
        phone="13800138000",
        email="zhang@example.cn",
        city="Shenzhen",
        sitting="2026-07",
        identity_verified=True,
        now=at("2026-07-01T09:00:00+08:00"),
    )
    fields.update(overrides)
    return (await prog.register(**fields)).id  # type: ignore[arg-type]


async def test_register_stores_candidate_registration_sitting_and_history(prog: Programme) -> None:
    reg_id = await register(prog)
    reg = await prog.registration(reg_id)
    assert reg.state is RegState.UNPAID
    assert reg.sitting == "2026-07" and reg.city == "Shenzhen"
    cand = await prog.candidate(reg.candidate_id)
    assert (cand.name, cand.phone, cand.email) == ("张三", "13800138000", "zhang@example.cn")
    assert await stored(prog).programme_read(lambda rows: rows.stored_sitting("2026-07"))
    history = await prog.history(reg_id)
    assert history[0]["action"] == "registered"
    assert history[0]["registration_closes"] == "2026-07-15T00:00+08:00"
    assert history[0]["exam_date"] == "2026-07-25"


async def test_r1_unverified_identity_is_refused_and_nothing_is_written(prog: Programme) -> None:
    with pytest.raises(RuleBroken, match=r"^R1: "):
        await register(prog, identity_verified=False)
    with pytest.raises(ConfigError, match="e-mail"):
        await register(prog, email="nope")
    with pytest.raises(ConfigError, match="city"):
        await register(prog, city=" ")
    with pytest.raises(ConfigError, match="YYYY-MM"):
        await register(prog, sitting="2026-7")
    assert count(prog, "programme_candidates") == 0
    assert count(prog, "programme_registrations") == 0


@pytest.mark.parametrize(
    ("now", "ok"),
    [
        ("2026-07-14T23:59:59+08:00", True),
        ("2026-07-15T00:00:00+08:00", False),
        ("2026-07-16T00:00:00+08:00", False),
    ],
)
async def test_r3_registration_deadline(prog: Programme, now: str, ok: bool) -> None:
    if ok:
        await register(prog, now=at(now))
    else:
        with pytest.raises(RuleBroken, match=r"^R3: .*2026-07-15T00:00\+08:00"):
            await register(prog, now=at(now))
        assert count(prog, "programme_registrations") == 0


async def test_r4_one_open_registration_and_contact_rebinding(prog: Programme) -> None:
    first = await register(prog)
    with pytest.raises(RuleBroken, match=rf"^R4: .*#{first}"):
        await register(prog, sitting="2026-08")
    paid = await prog.pay(first, at("2026-07-01T10:00:00+08:00"))
    await prog.refund(paid.id, at("2026-07-02T10:00:00+08:00"))
    second = await register(prog, sitting="2026-08", phone="13900139000")
    second_reg = await prog.registration(second)
    assert (await prog.candidate(second_reg.candidate_id)).phone == "13900139000"
    assert count(prog, "programme_candidates") == 1


async def test_pay_then_r3_for_late_payment(prog: Programme) -> None:
    reg_id = await register(prog)
    with pytest.raises(RuleBroken, match=r"^R3: "):
        await prog.pay(reg_id, at("2026-07-15T00:00:00+08:00"))
    assert (await prog.registration(reg_id)).state is RegState.UNPAID
    reg = await prog.pay(reg_id, at("2026-07-14T23:00:00+08:00"))
    assert reg.state is RegState.PAID
    assert reg.paid_at == at("2026-07-14T23:00:00+08:00")
    with pytest.raises(RuleBroken, match=r"^R4: "):
        await prog.pay(reg_id, at("2026-07-14T23:30:00+08:00"))


async def test_r5_refund_within_five_days_and_its_notice(prog: Programme) -> None:
    reg_id = await enrol(prog, 0, now="2026-07-01T09:00:00+08:00")  # paid at 09:05
    with pytest.raises(RuleBroken, match=r"^R5: .*2026-07-06T09:05\+08:00"):
        await prog.refund(reg_id, at("2026-07-06T09:05:00+08:00"))
    assert (await prog.registration(reg_id)).state is RegState.PAID
    reg = await prog.refund(reg_id, at("2026-07-06T09:04:59+08:00"))
    assert reg.state is RegState.REFUNDED
    assert [h["action"] for h in await prog.history(reg_id)] == [
        "registered",
        "trial_pass_given",
        "paid",
        "refunded",
    ]
    channels = query(
        prog,
        "SELECT channel, address, state FROM programme_deliveries d "
        "JOIN programme_notices n ON n.id = d.notice_id WHERE n.kind = 'refund' ORDER BY channel",
    )
    assert channels == [
        ("chat", "13800138000", "pending"),
        ("email", "c0@example.cn", "pending"),
        ("site", str(reg.candidate_id), "pending"),
        ("sms", "13800138000", "pending"),
    ]
    with pytest.raises(RuleBroken, match=r"^R5: "):
        await prog.refund(reg_id, at("2026-07-02T00:00:00+08:00"))  # twice: nothing left to refund


async def test_r6_defer_once_to_the_next_month(prog: Programme) -> None:
    reg_id = await enrol(prog)
    with pytest.raises(RuleBroken, match=r"^R6: .*2026-07-15T00:00\+08:00"):
        await prog.defer(reg_id, None, at("2026-07-15T00:00:00+08:00"))
    reg = await prog.defer(reg_id, None, at("2026-07-14T23:59:59+08:00"))
    assert reg.sitting == "2026-08" and reg.deferred_from == "2026-07"
    assert reg.state is RegState.PAID
    with pytest.raises(RuleBroken, match=r"^R6: .*once"):
        await prog.defer(reg_id, "2026-09", at("2026-07-20T00:00:00+08:00"))
    assert (await prog.registration(reg_id)).sitting == "2026-08"
    assert (await prog.history(reg_id))[-1]["sitting_to"] == "2026-08"


async def test_defer_to_an_earlier_sitting_is_a_config_error(prog: Programme) -> None:
    reg_id = await enrol(prog, sitting="2026-08")
    with pytest.raises(ConfigError, match="later sitting"):
        await prog.defer(reg_id, "2026-07", at("2026-07-02T00:00:00+08:00"))


async def test_unknown_registration(prog: Programme) -> None:
    with pytest.raises(ConfigError, match="no registration #42"):
        await prog.pay(42, at("2026-07-01T00:00:00+08:00"))


async def test_a_sitting_date_is_fixed_once_registered(db_path: Path) -> None:
    prog = await open_programme(db_path)
    await register(prog)
    await close_programme(prog)
    moved = frozenset({date(2026, 7, 25)})
    prog = await open_programme(db_path, Settings(SH, moved))
    try:
        assert (await prog.sitting("2026-07")).exam_date == date(2026, 7, 25)  # stored, unchanged
        assert (await prog.sitting("2026-12")).exam_date == date(2026, 12, 26)
    finally:
        await close_programme(prog)
    # a fresh month uses the holiday list
    prog = await open_programme(db_path, Settings(SH, frozenset({date(2026, 12, 26)})))
    try:
        assert (await prog.sitting("2026-12")).exam_date == date(2026, 12, 19)
        assert (await prog.sitting("2026-12")).exam_date + timedelta(days=7) == date(2026, 12, 26)
    finally:
        await close_programme(prog)


async def test_database_survives_reopen_and_migrates_once(db_path: Path) -> None:
    prog = await open_programme(db_path)
    await enrol(prog)
    await close_programme(prog)
    prog = await open_programme(db_path)
    try:
        versions = dict(query(prog, "SELECT component, version FROM schema_versions"))
        assert versions["programme"] == len(PROGRAMME_STEPS) and versions["core"] >= 1
        assert query(prog, "PRAGMA journal_mode")[0][0] == "wal"
        assert (await prog.registration(1)).state is RegState.PAID
    finally:
        await close_programme(prog)
