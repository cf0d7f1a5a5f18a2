"""The programme's port (`proctor_server.programme.ports.ProgrammeStore`), as a contract every
store implementation passes: one staff action is one transaction (all or nothing, decided once
under a race), the programme's records round-trip, and the outbox's steps move a delivery
through its states exactly as the dispatcher relies on.

Each test runs once per entry of `OPENERS`: SQLite, and PostgreSQL (a fresh database of the
session's cluster, with the programme's tables)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from proctor_server.programme.ports import (
    Certificate,
    DeliveryState,
    Notice,
    ProgrammeStore,
    ProgrammeTx,
)
from proctor_server.programme.schema import MIGRATIONS
from proctor_server.store import SqliteStore, Store, TicketRecord
from proctor_server.store.postgres.store import PostgresStore
from shared.calendar import sitting_of
from shared.programme_rules import ACTIVE, Kind, RegState
from tests.store.conftest import HOUR, NOW, exam_record
from tests.support.postgres import Cluster

MINUTE = timedelta(minutes=1)
ADDRESSES = {"sms": "13800138000", "site": "1", "email": "a@example.cn", "chat": "13800138000"}


class ProgrammeContractStore(Store, ProgrammeStore, Protocol):
    """A store of the project with the programme's port."""


async def _sqlite(tmp_path: Path) -> ProgrammeContractStore:
    store = SqliteStore(tmp_path / "programme.db", components=MIGRATIONS)
    await store.open()
    return store


async def _postgres(tmp_path: Path, cluster: Cluster | None) -> ProgrammeContractStore:
    assert cluster is not None
    store = PostgresStore(cluster.create(), tmp_path / "files", components=MIGRATIONS)
    await store.open()
    return store


OPENERS: dict[str, Callable[[Path, Cluster | None], Awaitable[ProgrammeContractStore]]] = {
    "sqlite": lambda tmp_path, _: _sqlite(tmp_path),
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(OPENERS))
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ProgrammeContractStore]:
    cluster = request.getfixturevalue("postgres") if request.param == "postgres" else None
    opened = await OPENERS[request.param](tmp_path, cluster)
    try:
        yield opened
    finally:
        await opened.close()


def enrolled(tx: ProgrammeTx, id_number: str = "E12345678", month: str = "2026-07") -> int:
    """A candidate with an unpaid registration for `month`; returns the registration id."""
    cand = tx.upsert_candidate("Ada", id_number, "13800138000", "a@example.cn", NOW)
    sitting = sitting_of(month)
    tx.store_sitting(sitting)
    return tx.add_registration(cand.id, Kind.FIRST, "Shenzhen", month, RegState.UNPAID, NOW)


async def test_the_store_is_a_programme_store(store: ProgrammeContractStore) -> None:
    assert isinstance(store, ProgrammeStore)


async def test_a_staff_action_is_all_or_nothing(store: ProgrammeContractStore) -> None:
    def fails(tx: ProgrammeTx) -> None:
        reg_id = enrolled(tx)
        tx.log(1, reg_id, NOW, "registered")
        cand = tx.candidate(tx.registration(reg_id).candidate_id)
        tx.add_notice("k", cand.id, reg_id, "refund", "s", "b", NOW, ADDRESSES)
        raise RuntimeError("refused by a rule")

    with pytest.raises(RuntimeError, match="refused"):
        await store.programme_transaction(fails)
    assert await store.programme_read(lambda rows: rows.candidate_by_id_number("E12345678")) is None
    assert await store.programme_read(lambda rows: rows.stored_sitting("2026-07")) is None
    assert await store.deliveries() == []

    reg_id = await store.programme_transaction(enrolled)
    reg = await store.programme_read(lambda rows: rows.registration(reg_id))
    assert (reg.kind, reg.state, reg.sitting, reg.city) == (
        Kind.FIRST,
        RegState.UNPAID,
        "2026-07",
        "Shenzhen",
    )
    assert reg.registered_at == NOW and reg.paid_at is None and reg.no_show is None


async def test_racing_actions_are_decided_once(store: ProgrammeContractStore) -> None:
    """Two staff actions that both check "no open registration" before adding one: the second
    sees the first's write, so exactly one succeeds."""

    def register(tx: ProgrammeTx) -> int:
        found = tx.candidate_by_id_number("E12345678")
        if found is not None and tx.registrations_of(found.id, ACTIVE):
            raise LookupError("already registered")
        return enrolled(tx)

    results = await asyncio.gather(
        *(store.programme_transaction(register) for _ in range(4)), return_exceptions=True
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, LookupError) for r in results) == 3


async def test_candidates_bind_the_newest_contact_details(store: ProgrammeContractStore) -> None:
    first = await store.programme_transaction(
        lambda tx: tx.upsert_candidate("Ada", "E12345678", "1", "old@example.cn", NOW)
    )
    again = await store.programme_transaction(
        lambda tx: tx.upsert_candidate("Ada L.", "E12345678", "2", "new@example.cn", NOW + HOUR)
    )
    assert again.id == first.id
    assert (again.name, again.phone, again.email) == ("Ada L.", "2", "new@example.cn")
    assert await store.programme_read(lambda rows: rows.candidate(first.id)) == again
    with pytest.raises(LookupError):
        await store.programme_read(lambda rows: rows.candidate(99))
    with pytest.raises(LookupError):
        await store.programme_read(lambda rows: rows.registration(99))


async def test_a_sitting_is_fixed_when_first_stored_and_linked_to_one_exam(
    store: ProgrammeContractStore,
) -> None:
    july = sitting_of("2026-07")
    moved = sitting_of("2026-07", frozenset({july.exam_date}))
    assert moved.exam_date != july.exam_date
    await store.programme_transaction(lambda tx: tx.store_sitting(july))
    await store.programme_transaction(lambda tx: tx.store_sitting(moved))
    stored = await store.programme_read(lambda rows: rows.stored_sitting("2026-07"))
    assert stored is not None
    assert (stored.key, stored.exam_date, stored.tz.key) == (
        "2026-07",
        july.exam_date,
        july.tz.key,
    )
    assert await store.programme_read(lambda rows: rows.sitting_exam("2026-07")) is None
    await store.programme_transaction(lambda tx: tx.link_sitting_exam("2026-07", "e-1", NOW))
    await store.programme_transaction(lambda tx: tx.mark_results_published("2026-07", NOW))
    assert await store.programme_read(lambda rows: rows.sitting_exam("2026-07")) == "e-1"


async def test_a_registration_through_its_states(store: ProgrammeContractStore) -> None:
    reg_id = await store.programme_transaction(enrolled)
    await store.programme_transaction(
        lambda tx: tx.record_payment(reg_id, RegState.PAID, NOW + MINUTE)
    )
    august = sitting_of("2026-08")

    def defer(tx: ProgrammeTx) -> None:
        tx.store_sitting(august)
        tx.record_deferral(reg_id, "2026-08", "2026-07", NOW + HOUR)

    await store.programme_transaction(defer)
    await store.programme_transaction(
        lambda tx: tx.record_ticket(reg_id, RegState.TICKETED, "e-1", "tk-1", "R000001")
    )
    await store.programme_transaction(
        lambda tx: tx.record_result(reg_id, RegState.FAILED, None, None, True, NOW + 2 * HOUR)
    )
    reg = await store.programme_read(lambda rows: rows.registration(reg_id))
    assert reg.paid_at == NOW + MINUTE
    assert (reg.sitting, reg.deferred_from) == ("2026-08", "2026-07")
    assert (reg.exam_id, reg.ticket_token, reg.candidate_code) == ("e-1", "tk-1", "R000001")
    assert (reg.state, reg.score, reg.no_show, reg.result_at) == (
        RegState.FAILED,
        None,
        True,
        NOW + 2 * HOUR,
    )
    assert await store.programme_read(lambda rows: rows.registrations_of(1, ACTIVE)) == []
    found = await store.programme_read(lambda rows: rows.registrations_in("2026-08", reg.state))
    assert [r.id for r in found] == [reg_id]

    def retake(tx: ProgrammeTx) -> int:
        return tx.add_registration(
            reg.candidate_id,
            Kind.RETAKE,
            reg.city,
            "2026-08",
            RegState.PAID,
            NOW + 3 * HOUR,
            retake_of=reg_id,
            paid_at=NOW + 3 * HOUR,
        )

    retake_id = await store.programme_transaction(retake)
    retakes = await store.programme_read(lambda rows: rows.retakes_of(reg_id))
    assert [(r.id, r.kind, r.retake_of, r.paid_at) for r in retakes] == [
        (retake_id, Kind.RETAKE, reg_id, NOW + 3 * HOUR)
    ]
    with pytest.raises(Exception):  # noqa: B017  # one retake per failed registration
        await store.programme_transaction(retake)
    assert len(await store.programme_read(lambda rows: rows.retakes_of(reg_id))) == 1
    await store.programme_transaction(
        lambda tx: tx.record_refund(retake_id, RegState.REFUNDED, NOW + 4 * HOUR)
    )
    refunded = await store.programme_read(lambda rows: rows.registration(retake_id))
    assert (refunded.state, refunded.refunded_at) == (RegState.REFUNDED, NOW + 4 * HOUR)


async def test_history_keeps_each_action_and_its_details(store: ProgrammeContractStore) -> None:
    reg_id = await store.programme_transaction(enrolled)

    def log(tx: ProgrammeTx) -> None:
        tx.log(1, reg_id, NOW, "registered", sitting="2026-07", city="Shenzhen")
        tx.log(1, reg_id, NOW + MINUTE, "paid")
        tx.log(1, None, NOW, "unrelated")

    await store.programme_transaction(log)
    history = await store.programme_read(lambda rows: rows.history(reg_id))
    assert history == [
        {"at": "2026-07-25T06:00:00.000Z", "action": "registered", "city": "Shenzhen",
         "sitting": "2026-07"},
        {"at": "2026-07-25T06:01:00.000Z", "action": "paid"},
    ]  # fmt: skip


async def test_the_exam_servers_tickets_found_and_revoked(store: ProgrammeContractStore) -> None:
    exam = exam_record()
    await store.create_exam(exam)
    await store.create_ticket(TicketRecord("tk-1", exam.id, "R000001", "Ada"))
    assert await store.programme_read(lambda rows: rows.ticket_token(exam.id, "R000001")) == "tk-1"
    assert await store.programme_read(lambda rows: rows.ticket_token(exam.id, "R000002")) is None
    await store.programme_transaction(lambda tx: tx.revoke_ticket("tk-1"))
    ticket = await store.get_ticket("tk-1")
    assert ticket is not None and ticket.revoked


async def test_certificates_newest_first_and_mailed(store: ProgrammeContractStore) -> None:
    reg_id = await store.programme_transaction(enrolled)
    later_id = await store.programme_transaction(lambda tx: enrolled(tx, month="2027-07"))

    def certificate(number: str, registration_id: int, published: int) -> Certificate:
        return Certificate(
            number=number,
            candidate_id=1,
            registration_id=registration_id,
            exam_date=date(2026, 7, 25),
            published_at=NOW + published * HOUR,
            e_available_from=NOW + (published + 1) * HOUR,
            paper_due=NOW + 30 * 24 * HOUR,
            expires_on=date(2028, 7, 27),
        )

    old, new = certificate("202607000001", reg_id, 1), certificate("202707000002", later_id, 9)
    await store.programme_transaction(lambda tx: tx.add_certificate(old))
    await store.programme_transaction(lambda tx: tx.add_certificate(new))
    held = await store.programme_read(lambda rows: rows.certificates(id_number="E12345678"))
    assert [c for c, _ in held] == [new, old]
    assert {p.name for _, p in held} == {"Ada"}
    by_number = await store.programme_read(lambda rows: rows.certificates(number=old.number))
    assert [c.number for c, _ in by_number] == [old.number]
    assert await store.programme_read(lambda rows: rows.certificates(number="nope")) == []
    await store.programme_transaction(lambda tx: tx.mark_paper_mailed(old.number, NOW + HOUR))
    mailed = await store.programme_read(lambda rows: rows.certificate(old.number))
    assert mailed is not None and mailed.paper_mailed_at == NOW + HOUR
    assert await store.programme_read(lambda rows: rows.certificate("nope")) is None


async def notice(store: ProgrammeContractStore, key: str = "refund:1") -> int | None:
    def add(tx: ProgrammeTx) -> int | None:
        cand = tx.upsert_candidate("Ada", "E12345678", "13800138000", "a@example.cn", NOW)
        return tx.add_notice(key, cand.id, None, "refund", "Refund", "Dear Ada", NOW, ADDRESSES)

    return await store.programme_transaction(add)


async def test_a_notice_is_recorded_once_with_a_delivery_per_channel(
    store: ProgrammeContractStore,
) -> None:
    notice_id = await notice(store)
    assert notice_id is not None
    assert await notice(store) is None  # the same key: nothing added
    due = await store.due_deliveries(NOW)
    assert [(d.channel, d.address, d.attempts) for d in due] == [
        ("chat", "13800138000", 0),
        ("email", "a@example.cn", 0),
        ("site", "1", 0),
        ("sms", "13800138000", 0),
    ]
    assert {d.notice for d in due} == {Notice(notice_id, 1, "refund", "Refund", "Dear Ada")}
    assert await store.due_deliveries(NOW - MINUTE) == []
    assert await store.next_due() == NOW
    listed = await store.deliveries(DeliveryState.PENDING)
    assert [(d.notice, d.kind, d.registration, d.channel, d.next_at) for d in listed[:1]] == [
        (notice_id, "refund", None, "chat", NOW)
    ]
    assert len(listed) == 4


async def test_a_delivery_is_claimed_once_and_its_outcome_recorded(
    store: ProgrammeContractStore,
) -> None:
    notice_id = await notice(store)
    assert notice_id is not None
    assert await store.claim_delivery(notice_id, "email", NOW)
    assert not await store.claim_delivery(notice_id, "email", NOW)  # another run took it
    assert [d.channel for d in await store.deliveries(DeliveryState.SENDING)] == ["email"]
    await store.record_delivery(
        notice_id, "email", DeliveryState.PENDING, 1, NOW + MINUTE, None, "down"
    )
    await store.claim_delivery(notice_id, "sms", NOW)
    await store.record_delivery(notice_id, "sms", DeliveryState.SENT, 1, NOW, NOW, None)
    (email,) = [d for d in await store.deliveries() if d.channel == "email"]
    assert (email.state, email.attempts, email.next_at, email.error) == (
        DeliveryState.PENDING,
        1,
        NOW + MINUTE,
        "down",
    )
    (sms,) = await store.deliveries(DeliveryState.SENT)
    assert (sms.channel, sms.sent_at, sms.error) == ("sms", NOW, None)
    assert [d.channel for d in await store.due_deliveries(NOW)] == ["chat", "site"]

    await store.record_delivery(notice_id, "email", DeliveryState.FAILED, 6, NOW, None, "550")
    assert await store.retry_deliveries(notice_id, "sms", NOW) == 0  # sent: nothing to retry
    assert await store.retry_deliveries(notice_id, None, NOW + HOUR) == 1
    (email,) = [d for d in await store.deliveries() if d.channel == "email"]
    assert (email.state, email.attempts, email.error) == (DeliveryState.PENDING, 0, None)


async def test_stale_claims_are_recovered(store: ProgrammeContractStore) -> None:
    notice_id = await notice(store)
    assert notice_id is not None
    for channel in ("site", "email"):
        await store.claim_delivery(notice_id, channel, NOW)
    await store.claim_delivery(notice_id, "sms", NOW + HOUR)  # young: a live run's
    assert await store.recover_deliveries(NOW, ["site"]) == 0  # not older than NOW
    assert await store.recover_deliveries(NOW + MINUTE, ["site"]) == 2
    states = {d.channel: d.state for d in await store.deliveries()}
    assert states == {
        "site": DeliveryState.PENDING,
        "email": DeliveryState.UNCERTAIN,
        "sms": DeliveryState.SENDING,
        "chat": DeliveryState.PENDING,
    }


async def test_a_site_message_may_be_put_twice(store: ProgrammeContractStore) -> None:
    notice_id = await notice(store)
    assert notice_id is not None
    message = Notice(notice_id, 1, "refund", "Refund", "Dear Ada")
    await store.put_site_message(message, 1, NOW)
    await store.put_site_message(message, 1, NOW + MINUTE)  # idempotent: no error, no second
