"""Store contract: lifecycle, blobs, exams, tickets and proctor tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from proctor_server.store import TicketRecord
from tests.store.conftest import HOUR, NOW, ContractStore, exam_record, seat


async def test_close_twice_is_harmless(store: ContractStore) -> None:
    await store.close()
    await store.close()


async def test_blobs_are_written_read_and_removed(store: ContractStore) -> None:
    assert store.blobs.read("references/none.jpg") is None
    store.blobs.write("references/ada.jpg", b"\xff\xd8face")
    assert store.blobs.read("references/ada.jpg") == b"\xff\xd8face"
    store.blobs.remove("references/ada.jpg")
    store.blobs.remove("references/ada.jpg")  # removing what is gone is harmless
    assert store.blobs.read("references/ada.jpg") is None


async def test_an_exam_reads_back_as_it_was_created(store: ContractStore) -> None:
    exam = exam_record()
    await store.create_exam(exam)
    assert await store.get_exam(exam.id) == exam
    assert await store.get_exam("no-such-exam") is None


async def test_an_exam_without_a_creation_time_gets_one(store: ContractStore) -> None:
    exam = exam_record()
    await store.create_exam(replace(exam, created_at=None))
    stored = await store.get_exam(exam.id)
    assert stored is not None and stored.created_at is not None


async def test_live_exams_are_those_not_over_or_still_holding_unfinished_attempts(
    store: ContractStore,
) -> None:
    running = exam_record(starts_at=NOW - timedelta(minutes=30))
    later = exam_record(starts_at=NOW + HOUR)
    over_and_done = exam_record(starts_at=NOW - 3 * HOUR)
    for exam in (running, later, over_and_done):
        await store.create_exam(exam)
    over_but_busy = exam_record(starts_at=NOW - 3 * HOUR)
    await store.create_exam(over_but_busy)
    await seat(store, exam=over_but_busy)
    live = {e.id for e in await store.list_live_exams(NOW)}
    assert live == {running.id, later.id, over_but_busy.id}


async def test_tickets_read_back_and_count_per_exam(store: ContractStore) -> None:
    exam = exam_record()
    await store.create_exam(exam)
    ticket = TicketRecord(
        token="tk-ada",
        exam_id=exam.id,
        candidate_code="C00001",
        name="Ada",
        email="ada@example.org",
        phone="+86 10 1234",
        reference_photo="references/ada.jpg",
        revoked=True,
    )
    await store.create_ticket(ticket)
    await store.create_ticket(
        TicketRecord(token="tk-bob", exam_id=exam.id, candidate_code="C00002", name="Bob")
    )
    assert await store.get_ticket("tk-ada") == ticket
    assert await store.get_ticket("tk-none") is None
    assert await store.count_tickets(exam.id) == 2
    assert await store.count_tickets("other") == 0
