"""Signing in to the console over real HTTP and WebSocket: tokens, the session cookie,
sign-out, revocation closing a live feed, which exams a proctor and a chief see, the snapshot
with absentees, and the evidence endpoints behind the session."""

from __future__ import annotations

import asyncio
import http.client
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.core.console import ExamGrid
from proctor_server.core.records import ProctorRole
from proctor_server.proctor_feed import RECHECK
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.vocabulary import CloseCode
from tests.server.conftest import MakeExam, ticket_for
from tests.server.scripted import WAIT, Candidate, jpeg
from tests.server.scripted_proctor import Proctor
from tests.support.clock import FakeClock


async def fetch(
    server: Server, path: str, cookie: str | None = None, **headers: str
) -> tuple[http.client.HTTPResponse, bytes]:
    def go() -> tuple[http.client.HTTPResponse, bytes]:
        where = urlsplit(server.url)
        conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=WAIT)
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        conn.request("GET", path, headers=sent | ({"Cookie": cookie} if cookie else {}))
        response = conn.getresponse()
        return response, response.read()

    return await asyncio.to_thread(go)


async def closed_with(proctor: Proctor) -> tuple[str, int]:
    """The error a refused feed gets, and its close code."""
    error = await proctor.recv()
    assert isinstance(error, p.Error), error
    with pytest.raises(ConnectionClosed) as closed:
        await proctor.recv()
    assert closed.value.rcvd is not None
    return error.code, closed.value.rcvd.code


async def sign_in_cookie(server: Server, token: str, path: str = "/login") -> str:
    response, _ = await fetch(server, f"{path}?token={token}")
    assert response.status == 303 and response.getheader("Location") == "/"
    cookie = response.getheader("Set-Cookie") or ""
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    return cookie.split(";", 1)[0]


async def test_a_wrong_token_and_no_token_see_nothing(server: Server, make_exam: MakeExam) -> None:
    await make_exam()
    wrong = await Proctor.open(server, "p-not-a-token")
    assert await closed_with(wrong) == ("bad_token", CloseCode.BAD_TOKEN)
    nothing = await Proctor.open(server)
    await nothing.ws.send('{"type": "hello", "token": ""}')
    assert await closed_with(nothing) == ("bad_token", CloseCode.BAD_TOKEN)


async def test_revoking_a_proctor_ends_their_live_feed_and_their_token(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam()
    _, token = await staff.add_proctor(server.store, name="Leaving", exam_id=exam.id)
    feed, _ = await Proctor.sign_in(server, token)
    cookie = await sign_in_cookie(server, token)
    revoked = await staff.revoke_proctor(server.store, "Leaving")
    assert [r.name for r in revoked] == ["Leaving"]
    await clock.run_until(clock.now() + RECHECK)
    assert await closed_with(feed) == ("bad_token", CloseCode.BAD_TOKEN)
    again = await Proctor.open(server, token)
    assert await closed_with(again) == ("bad_token", CloseCode.BAD_TOKEN)
    by_cookie = await Proctor.open(server, cookie=cookie)
    assert await closed_with(by_cookie) == ("bad_token", CloseCode.BAD_TOKEN)
    listed = await server.store.proctors(exam.id)
    assert [(x.name, x.revoked_at is not None) for x in listed] == [("Leaving", True)]


async def test_cookie_sign_in_over_http_and_sign_out(server: Server, make_exam: MakeExam) -> None:
    exam = await make_exam()
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    response, page = await fetch(server, "/")
    assert response.status == 200 and b'data-page="signin"' in page
    assert response.getheader("Cache-Control") == "private, no-store"
    failed, _ = await fetch(server, "/login?token=p-wrong")
    assert failed.status == 303 and failed.getheader("Location") == "/?signin=failed"
    cookie = await sign_in_cookie(server, token)
    response, page = await fetch(server, "/", cookie)
    assert response.status == 200 and b"signin" not in page  # the dashboard itself
    proctor, snapshot = await Proctor.sign_in(server, cookie=cookie)
    assert snapshot.exam.id == exam.id
    await proctor.close()
    older = await sign_in_cookie(server, token, "/")  # `/?token=` links sign in the same way
    assert older != cookie
    proxied, _ = await fetch(server, f"/login?token={token}", X_Forwarded_Proto="https")
    assert (proxied.getheader("Set-Cookie") or "").endswith("; Secure")
    out, _ = await fetch(server, "/logout", cookie)
    assert out.status == 303 and "Max-Age=0" in (out.getheader("Set-Cookie") or "")
    after = await Proctor.open(server, cookie=cookie)
    assert await closed_with(after) == ("bad_token", CloseCode.BAD_TOKEN)


async def test_a_chief_chooses_the_exam_and_a_proctor_sees_only_theirs(
    server: Server, make_exam: MakeExam
) -> None:
    first = await make_exam()
    second = await make_exam()
    _, chief = await staff.add_proctor(
        server.store, name="Chief", exam_id=None, role=ProctorRole.CHIEF
    )
    undecided = await Proctor.open(server, chief)
    code, close = await closed_with(undecided)
    assert (code, close) == ("not_allowed", CloseCode.HELLO_REFUSED)
    for exam in (first, second):
        _, snapshot = await Proctor.sign_in(server, chief, exam=exam.id)
        assert snapshot.exam.id == exam.id
    _, own = await staff.add_proctor(server.store, name="Own", exam_id=first.id)
    _, snapshot = await Proctor.sign_in(server, own)
    assert snapshot.exam.id == first.id
    elsewhere = await Proctor.open(server, own, exam=second.id)
    assert (await closed_with(elsewhere))[0] == "not_allowed"


async def test_the_snapshot_lists_absentees_real_names_and_each_deadline(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    present = await admin.issue_ticket(server.store, exam.id, name="张三丰")
    absent = await admin.issue_ticket(server.store, exam.id, name="李小龙")
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(present.token)
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    _, snapshot = await Proctor.sign_in(server, token)
    rows = {row.candidate: row for row in snapshot.attempts}
    here, away = rows[present.candidate_code], rows[absent.candidate_code]
    assert (here.name, here.attempt, here.state, here.connected) == (
        "张三丰",
        welcome.session,
        pp.SeatState.IN_PROGRESS,
        True,
    )
    assert here.ends_at == welcome.exam.ends_at
    assert (away.name, away.attempt, away.state, away.ends_at) == (
        "李小龙",
        "",
        pp.SeatState.NOT_ENTERED,
        None,
    )


async def test_evidence_is_served_behind_the_session_only(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    other_exam = await make_exam(starts_in=timedelta(minutes=-1))
    reference = jpeg(seed=7)
    ticket = await admin.issue_ticket(server.store, exam.id, name="Ada", photo=reference)
    candidate = await Candidate.connect(server.ws_url)
    welcome = await candidate.hello(ticket.token)
    assert isinstance(welcome, p.Welcome)
    identity = jpeg(seed=3)
    assert (await candidate.identity(identity)).accepted
    await candidate.expect(p.Paper)
    snap = jpeg(seed=5)
    await candidate.expect_ack(await candidate.snapshot(photo=snap))
    (stored,) = await server.store.photos(welcome.session, "snapshot")
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    cookie = await sign_in_cookie(server, token)
    base = f"/evidence/{welcome.session}"
    for path, expected in [
        (f"{base}/identity", identity),
        (f"{base}/reference", reference),
        (f"{base}/snapshot/latest", snap),
        (f"{base}/snapshot/{stored.id}", snap),
    ]:
        response, body = await fetch(server, path, cookie)
        assert (response.status, body) == (200, expected), path
        assert response.getheader("Content-Type") == "image/jpeg"
        assert response.getheader("Cache-Control") == "private, no-store"
    for path in [
        f"{base}/snapshot/nope",
        f"{base}/../../../etc/passwd",
        "/evidence/../exam.db",
        f"{base}/%2e%2e/identity",
        f"{base}/snapshot/..%2f..%2fexam.db",
        "/evidence/a-nothing/identity",
    ]:
        response, _ = await fetch(server, path, cookie)
        assert response.status == 404, path
    response, _ = await fetch(server, f"{base}/identity")
    assert response.status == 401
    _, stranger = await staff.add_proctor(server.store, name="Other", exam_id=other_exam.id)
    response, _ = await fetch(server, f"{base}/identity", await sign_in_cookie(server, stranger))
    assert response.status == 404


async def test_a_slow_grid_read_does_not_hold_the_console_page(
    server: Server, make_exam: MakeExam
) -> None:
    """The page waits a quarter of a second at most for its first screen: past that it comes
    without rows, and its socket is given the read when it is done."""
    exam = await make_exam()
    await ticket_for(server, exam, name="Wang Fang")
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    cookie = await sign_in_cookie(server, token)
    response, page = await fetch(server, "/", cookie)
    assert b"Wang Fang" in page  # the first screen, at its usual speed
    server.grids.close()  # no read to reuse: the next one is made, slowly
    release = asyncio.Event()
    read = server.grids.read

    async def slow(exam_id: str, now: datetime) -> ExamGrid:
        await release.wait()
        return await read(exam_id, now)

    server.grids.read = slow
    response, page = await fetch(server, "/", cookie)
    assert response.status == 200 and b'id="console"' in page
    assert b"Wang Fang" not in page
    release.set()
    proctor, snapshot = await Proctor.sign_in(server, cookie=cookie)
    assert snapshot.exam.id == exam.id and [a.name for a in snapshot.attempts] == ["Wang Fang"]
    await proctor.close()
