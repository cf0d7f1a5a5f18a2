"""Each console action from the page, through its dialog, reaching the candidate's side:
warn, message, terminate (ending the attempt), extra time (that attempt only), admit a late
entrant, accept a refused identity photo, review a violation, the verdict after the exam, and
`watch` answered honestly while the server has no live video."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from proctor_server.app import Server, ServerConfig, run_server
from shared import protocol as p
from shared.states import AttemptState
from shared.vocabulary import EventKind
from tests.browser.console import act, fill_and_send, row, seat, sign_in
from tests.browser.sitting import Sitting, open_sitting, portrait
from tests.server.scripted import Candidate, new_id
from tests.support.clock import FakeClock

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def two(server: Server, starts_in: timedelta = timedelta(minutes=-5)) -> Sitting:
    sitting = await open_sitting(server, starts_in)
    for name in ("Ada Lovelace", "Alan Turing"):
        await sitting.ticket(name)
    await sitting.seat("C00001", seed=1)
    await sitting.seat("C00002", seed=2)
    return sitting


async def test_warn_and_message_reach_the_candidate(server: Server, page: Page) -> None:
    sitting = await two(server)
    ada, welcome = sitting.seated["C00001"]
    await sign_in(page, server, sitting.token)
    await act(page, row(page, welcome.session), "warn", text="Please face the camera.")
    warning = await ada.expect(p.ProctorWarning)
    assert (warning.text, warning.count, warning.source) == (
        "Please face the camera.",
        1,
        p.WarningSource.PROCTOR,
    )
    await expect(row(page, welcome.session).locator(".warnings")).to_contain_text("1 of 3")
    await act(page, row(page, welcome.session), "message", text="We can hear you.")
    notice = await ada.expect(p.Notice)
    assert notice.text == "We can hear you."
    await expect(row(page, welcome.session).locator(".warnings")).to_contain_text("1 of 3")
    done = page.locator("#toasts .toast").first  # the newest, still showing
    await expect(done).to_have_text("Message: done for C00001 Ada Lovelace")
    await page.click("#lang")  # a toast showing when the proctor switches is said again
    await expect(done).to_have_text("留言：已对 C00001 Ada Lovelace 完成")


async def test_terminate_is_confirmed_and_ends_the_attempt(server: Server, page: Page) -> None:
    sitting = await two(server)
    ada, welcome = sitting.seated["C00001"]
    await sign_in(page, server, sitting.token)
    await row(page, welcome.session).locator('[data-action="terminate"]').click()
    dialog = page.locator("#action-dialog")
    await dialog.locator("[name=reason]").fill("another person in the room")
    await dialog.locator('[data-dialog="submit"]').click()  # not confirmed yet: refused by the form
    assert await page.evaluate("document.getElementById('action-dialog').open")
    await fill_and_send(page)
    terminated = await ada.expect(p.Terminated)
    assert terminated.reason == "another person in the room"
    await ada.expect(p.Result)
    await expect(row(page, welcome.session)).to_contain_text("terminated")
    attempt = await server.store.get_attempt(welcome.session)
    assert attempt is not None and attempt.state is AttemptState.TERMINATED
    # after the exam: a verdict
    await act(page, row(page, welcome.session), "verdict", verdict="invalidated", note="phone")
    verdicts = await server.store.attempt_verdicts(sitting.exam.id)
    assert verdicts[welcome.session] == "invalidated"
    await expect(row(page, welcome.session)).to_contain_text("invalidated")


async def test_extra_time_moves_only_that_attempts_deadline(server: Server, page: Page) -> None:
    sitting = await two(server)
    ada, welcome = sitting.seated["C00001"]
    alan, other = sitting.seated["C00002"]
    before = await server.store.get_attempt(other.session)
    await sign_in(page, server, sitting.token)
    time_left = row(page, welcome.session).locator(".time")
    shown = await time_left.text_content()
    await act(page, row(page, welcome.session), "extend", minutes="10", reason="outage")
    deadline = await ada.expect(p.Deadline)
    moved = await server.store.get_attempt(welcome.session)
    after = await server.store.get_attempt(other.session)
    assert moved is not None and before is not None and after is not None
    assert moved.ends_at == before.ends_at + timedelta(minutes=10)
    assert deadline.ends_at.startswith(moved.ends_at.strftime("%Y-%m-%dT%H:%M"))
    assert after.ends_at == before.ends_at  # the other attempt keeps its deadline
    assert not any(isinstance(m, p.Deadline) for m in alan.inbox)
    await expect(time_left).not_to_have_text(shown or "")
    assert (await time_left.text_content() or "").startswith("1:3")  # 1:25 -> 1:35


async def test_admit_lets_a_late_candidate_in(server: Server, page: Page) -> None:
    sitting = await open_sitting(server, timedelta(minutes=-40))  # the entry window has closed
    code = await sitting.ticket("Late Larry")
    late = await Candidate.connect(server.ws_url)
    refused = await late.hello(sitting.tickets[code])
    assert isinstance(refused, p.Error) and refused.code == "entry_closed"
    await sign_in(page, server, sitting.token)
    absentee = seat(page, code)
    await expect(absentee).to_contain_text("not entered")
    await act(page, absentee, "admit", reason="train delayed; phoned in")
    await expect(absentee).to_contain_text("admitted late")
    again = await Candidate.connect(server.ws_url)
    welcome = await again.hello(sitting.tickets[code])
    assert isinstance(welcome, p.Welcome), welcome
    await expect(page.locator(f'[data-attempt="{welcome.session}"]')).to_contain_text("Late Larry")


async def test_accept_a_refused_identity_photo(server: Server, page: Page) -> None:
    sitting = await open_sitting(server)
    code = await sitting.ticket("Blurry Bob")
    bob = await Candidate.connect(server.ws_url)
    welcome = await bob.hello(sitting.tickets[code])
    assert isinstance(welcome, p.Welcome)
    photo = new_id()
    refused = await bob.identity(portrait(3, 100, 80), photo)  # too small
    assert not refused.accepted
    await sign_in(page, server, sitting.token)
    where = row(page, welcome.session)
    await expect(where).to_contain_text("identity pending")
    await act(page, where, "accept_identity", reason="checked against the ID card on video")
    accepted = await bob.expect(p.IdentityResult)
    assert (accepted.id, accepted.accepted) == (photo, True)
    assert (await bob.expect(p.Paper)).questions
    await expect(where).to_contain_text("in exam")


async def test_review_a_violation_with_a_note(server: Server, page: Page) -> None:
    sitting = await two(server)
    ada, welcome = sitting.seated["C00001"]
    left = new_id()
    await ada.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
    await ada.expect_ack(left)
    await sign_in(page, server, sitting.token)
    (violation,) = await server.store.violations(welcome.session)
    await act(
        page,
        row(page, welcome.session),
        "review",
        violation=str(violation.id),
        verdict="dismissed",
        note="a system notification took focus",
    )
    reviews = await server.store.violation_reviews(welcome.session)
    assert reviews[violation.id][:2] == ("dismissed", "a system notification took focus")
    await row(page, welcome.session).locator('[data-action="open"]').click()
    await expect(page.locator(f'#panel li[data-violation="{violation.id}"]')).to_contain_text(
        "dismissed"
    )


@pytest_asyncio.fixture(loop_scope="module")
async def no_media(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    """A server run with `--no-media`: it takes no live audio and video."""
    config = ServerConfig(db=tmp_path / "plain.db", port=0, nonce_rotation_s=3600, media=False)
    async with run_server(config, clock) as s:
        yield s


async def test_watch_says_honestly_when_live_video_is_not_available(
    no_media: Server, page: Page
) -> None:
    server = no_media
    sitting = await two(server)
    _, welcome = sitting.seated["C00001"]
    await sign_in(page, server, sitting.token)
    where = row(page, welcome.session)
    assert await where.locator("video").count() == 1
    await where.locator('[data-action="watch"]').click()
    await expect(where.locator(".video-note")).to_have_text("live video not available")
