"""The console's grid in a real Chromium: sign-in through the form, every ticket (absentees
too), the snapshot thumbnail, the candidate panel, live updates, reload keeping the history,
the language remembered; a wrong token, no token and a revoked session see nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.media.gateway import MOVED
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import EventKind
from tests.browser.console import act, row, seat, sign_in
from tests.browser.sitting import Sitting, open_sitting, portrait
from tests.server.scripted import Candidate, new_id
from tests.support.clock import FakeClock

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def three(server: Server) -> Sitting:
    """Two candidates in the exam (one with an address and an answer), one absentee."""
    sitting = await open_sitting(server)
    for name in ("Ada Lovelace", "Alan Turing", "张三丰"):
        await sitting.ticket(name, photo=portrait(7) if name == "Ada Lovelace" else None)
    ada, _ = await sitting.seat("C00001", seed=1)
    await sitting.seat("C00002", seed=2)
    profile = new_id()
    mail = p.MailTo(name="Ada", phone="13800138000", address="1 Analytical Way", postcode="100080")
    await ada.send(p.Profile(id=profile, mail_to=mail))
    await ada.expect_ack(profile)
    return sitting


async def test_the_grid_shows_every_ticket_with_an_absentee_and_a_snapshot(
    server: Server, page: Page
) -> None:
    sitting = await three(server)
    await sign_in(page, server, sitting.token)
    await expect(page.locator("#status")).to_have_text("live")
    await expect(page.locator("#grid .row:not([hidden])")).to_have_count(3)
    ada = sitting.seated["C00001"][1].session
    await expect(row(page, ada)).to_contain_text("Ada Lovelace")  # the real name
    await expect(row(page, ada)).to_contain_text("in exam")
    absentee = seat(page, "C00003")
    await expect(absentee).to_contain_text("not entered")
    assert await absentee.get_attribute("data-attempt") is None
    await expect(absentee.locator('[data-action="admit"]')).to_be_visible()
    snap = row(page, ada).locator("img.snap")
    await expect(snap).to_be_visible()
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await snap.element_handle()
    )
    for action in ("watch", "warn", "message", "extend", "terminate"):
        await expect(row(page, ada).locator(f'[data-action="{action}"]')).to_be_visible()
    # the token left the address bar
    assert "token" not in page.url


async def test_the_panel_shows_identity_address_progress_and_audit(
    server: Server, page: Page
) -> None:
    sitting = await three(server)
    ada, welcome = sitting.seated["C00001"]
    await sign_in(page, server, sitting.token)
    await row(page, welcome.session).locator('[data-action="open"]').click()
    panel = page.locator("#panel")
    await expect(panel).to_have_attribute("data-panel-attempt", welcome.session)
    await expect(panel).to_contain_text("1 Analytical Way")
    await expect(panel).to_contain_text("answered 0 of 10")
    await expect(panel.locator(".id-pair img")).to_have_count(2)  # identity and reference
    await expect(panel).to_contain_text("accepted")
    await expect(panel.locator(".timeline img")).to_have_count(1)
    await expect(panel.locator('.audit [data-audit="entry"]')).to_have_count(1)
    # live: an event from the candidate shows up as a violation in the open panel
    left = new_id()
    await ada.send(p.Event(id=left, kind=EventKind.FOCUS_LOST))
    await ada.expect_ack(left)
    await expect(panel.locator(".violations li")).to_have_count(1)
    await expect(panel.locator(".violations")).to_contain_text("left the exam screen")
    await expect(row(page, welcome.session).locator(".kinds")).to_contain_text(
        "left the exam screen ×1"
    )


async def test_a_reload_keeps_the_history(server: Server, page: Page) -> None:
    sitting = await three(server)
    ada, welcome = sitting.seated["C00001"]
    await sign_in(page, server, sitting.token)
    await act(page, row(page, welcome.session), "warn", text="Please face the camera.")
    await ada.expect(p.ProctorWarning)
    await page.reload()
    await page.wait_for_selector('body[data-ready="true"]')
    await expect(row(page, welcome.session).locator(".warnings")).to_contain_text("1 of 3")
    await row(page, welcome.session).locator('[data-action="open"]').click()
    await expect(page.locator("#panel .audit")).to_contain_text("Please face the camera.")


async def test_the_language_switches_and_is_remembered(server: Server, page: Page) -> None:
    sitting = await three(server)
    await sign_in(page, server, sitting.token)
    await expect(seat(page, "C00003")).to_contain_text("not entered")
    await page.click("#lang")
    await expect(seat(page, "C00003")).to_contain_text("未进入")
    await expect(page.locator("#status")).to_have_text("实时")
    await page.reload()
    await page.wait_for_selector('body[data-ready="true"]')
    await expect(seat(page, "C00003")).to_contain_text("未进入")
    await expect(page.locator('[data-filter="absent"]')).to_have_text("未进入")


async def test_a_wrong_token_and_no_token_see_nothing(server: Server, page: Page) -> None:
    sitting = await three(server)
    await page.goto(server.url + "/")
    await expect(page.locator('[data-page="signin"]')).to_be_visible()
    assert await page.locator("[data-candidate]").count() == 0
    await page.fill("#token", "p-not-a-real-token")
    await page.click('[data-action="signin"]')
    await expect(page.locator("#failed")).to_be_visible()
    assert await page.locator("[data-candidate]").count() == 0
    assert "Ada" not in await page.content()
    response = await page.request.get(f"{server.url}/api/exam/{sitting.exam.id}")
    assert response.status == 401


async def test_a_revoked_proctor_sees_a_clear_message_not_live_or_retrying(
    server: Server, page: Page
) -> None:
    sitting = await three(server)
    await sign_in(page, server, sitting.token)
    await expect(page.locator("#status")).to_have_text("live")
    await staff.revoke_proctor(server.store, "Wang Li")
    await page.reload()  # the page reconnects with a session that is no longer valid
    await expect(page.locator('[data-page="signin"]')).to_be_visible()
    assert await page.locator("[data-candidate]").count() == 0


async def test_a_session_revoked_under_an_open_page_ends_in_a_message(
    server: Server, page: Page, clock: FakeClock
) -> None:
    sitting = await three(server)
    await sign_in(page, server, sitting.token)
    await expect(page.locator("#status")).to_have_text("live")
    await staff.revoke_proctor(server.store, "Wang Li")
    clock.advance(timedelta(seconds=16))  # the feed checks its sign-in every 15 s
    await expect(page.locator("#fatal")).to_be_visible()
    await expect(page.locator("#status")).to_have_text("signed out")
    assert await page.locator("#grid [data-candidate]").count() == 0


async def test_the_grid_shows_round_trip_reconnects_and_media_status(
    server: Server, page: Page
) -> None:
    sitting = await three(server)
    code = "C00002"
    candidate, welcome = sitting.seated[code]
    attempt = welcome.session
    await sign_in(page, server, sitting.token)
    conn = row(page, attempt).locator(".conn")
    await expect(conn).to_contain_text("connected")
    runtime = await server.runtime_for(sitting.exam.id)
    assert runtime is not None
    # the server pings the candidate's socket and reports the round trip it measured
    rtt = await runtime.quality.measure(attempt)
    assert rtt is not None
    runtime.report_round_trips()
    await expect(conn).to_have_attribute("data-rtt", str(rtt))
    await expect(conn).to_contain_text(f"{rtt} ms")
    # the network drops and the candidate comes back: one reconnect
    candidate.vanish()
    await expect(conn).to_contain_text("offline")
    again = await Candidate.connect(server.ws_url)
    await again.enter(sitting.tickets[code])
    await expect(conn).to_contain_text("1 reconnect")
    await expect(conn).to_have_attribute("data-reconnects", "1")
    # the media gateway's word on the stream (the callback session/media.py hands it)
    runtime.publish(
        pp.Media(exam=sitting.exam.id, at=runtime.wire_now(), attempt=attempt, candidate=code,
                 status=pp.MediaStatus.NO_LIVE_VIDEO, reason="camera in use by another app")
    )  # fmt: skip
    await expect(conn).to_contain_text("no live video: camera in use by another app")
    await expect(conn).to_have_attribute("data-media", "no_live_video")
    # a reload reads all of it back from the server
    await page.reload()
    await page.wait_for_selector('body[data-ready="true"]')
    await expect(conn).to_have_attribute("data-reconnects", "1")
    await expect(conn).to_have_attribute("data-media", "no_live_video")
    await expect(conn).to_contain_text("camera in use by another app")
    # a reason in the server's fixed words reads in the page's language (the one above, a
    # media server's own message, as it came)
    runtime.publish(
        pp.Media(exam=sitting.exam.id, at=runtime.wire_now(), attempt=attempt, candidate=code,
                 status=pp.MediaStatus.NO_LIVE_VIDEO, reason=MOVED)
    )  # fmt: skip
    await expect(conn).to_contain_text(f"no live video: {MOVED}")
    await page.click("#lang")
    await expect(conn).to_contain_text("无实时视频：考生已通过另一台服务器重新连接")
    # the cell has room for its start; the candidate's panel says it in full
    await row(page, attempt).locator('[data-action="open"]').click()
    await expect(page.locator("#panel .panel-media")).to_have_text(
        "无实时视频：考生已通过另一台服务器重新连接"
    )
    await again.close()
