"""Two exam-server processes on one PostgreSQL database, as behind a load balancer: candidates
on both, a proctor on one who sees the other's candidates and reaches them, then one process
killed with SIGKILL mid-exam. Its candidates come back through the other; every acknowledged
answer is there once; the deadline, now led by the survivor, finishes every attempt once
(the one whose candidate never came back too)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from proctor_server.media.gateway import ELSEWHERE
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.states import FINISHED
from shared.vocabulary import CloseCode, EventKind
from tests.media.janus_process import JANUS, running_janus
from tests.media.peers import ProctorPeer, Streaming, poll, proctor
from tests.server.conftest import QUESTIONS
from tests.server.scripted import Candidate, new_id
from tests.server.scripted_proctor import Proctor
from tests.support.postgres import Cluster
from tests.support.server_process import ServerProcess, cli

ATTEMPT_EVENTS = (pp.Joined, pp.Left, pp.ClientEvent)
ENDS_IN = timedelta(seconds=25)  # the exam's deadline, from the start of the test
TIMEOUT_S = 20.0  # for live media to come up
CLOSE_TIMEOUT_S = 10.0  # the library's: how long a frozen connection's closing handshake takes


@pytest.fixture
def sitting(postgres: Cluster, tmp_path: Path) -> Iterator[tuple[str, str, list[str], str]]:
    """A database with an exam that started a minute ago and ends in `ENDS_IN`, three
    tickets and a proctor's token."""
    dsn = postgres.create("two")
    bank = tmp_path / "bank.json"
    bank.write_text(
        json.dumps(
            {
                "questions": [
                    {"id": q.id, "text": q.text, "options": q.options, "answer": q.answer}
                    | {"points": q.points}
                    for q in QUESTIONS
                ]
            }
        )
    )
    started = timedelta(minutes=1)
    exam = cli(
        "exam", "create", "--db", dsn, "--title", "Two servers",
        "--starts-at", (datetime.now(UTC) - started).isoformat(),
        "--duration-min", str((started + ENDS_IN).total_seconds() / 60),
        "--questions", str(bank),
    )  # fmt: skip
    tickets = [cli("ticket", "--db", dsn, "--exam", exam, "--candidate", c) for c in "ABC"]
    token = cli("proctor", "add", "--db", dsn, "--exam", exam, "--name", "Wang").split()[-1]
    yield dsn, exam, tickets, token


@contextlib.contextmanager
def two_servers(
    dsn: str, tmp_path: Path, *, media: bool = False, flags: tuple[str, ...] = ()
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two server processes on the database, sharing a data folder, stopped at the end;
    with live media (each its own media process, unless `flags` say otherwise) or without."""
    files = str(tmp_path / "files")
    flags = flags if media else ("--no-media", *flags)
    a = ServerProcess(dsn, "--data-dir", files, *flags)
    b = ServerProcess(dsn, "--data-dir", files, *flags)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


async def _streaming(server: ServerProcess, ticket: str) -> tuple[Candidate, str, list[Streaming]]:
    """A candidate entered through `server` and publishing live media there: its connection,
    its attempt, and its stream (the list the test adds the next ones to, to stop them all)."""
    candidate = await Candidate.connect(server.ws_url)
    welcome = await candidate.hello(ticket)
    assert isinstance(welcome, p.Welcome) and welcome.session
    return candidate, welcome.session, [Streaming(candidate)]


async def _event_of(proctor: Proctor, kind: type[pp.AttemptEvent], attempt: str) -> None:
    """Read the proctor's feed up to this kind of event of this attempt."""
    while (await proctor.expect(kind)).attempt != attempt:
        pass


async def test_two_servers_share_an_exam_and_survive_one_killed(
    sitting: tuple[str, str, list[str], str], tmp_path: Path
) -> None:
    dsn, exam, (t1, t2, t3), token = sitting
    with two_servers(dsn, tmp_path) as (a, b):
        proctor, _ = await Proctor.sign_in(b, token)
        c1 = await Candidate.connect(a.ws_url)
        w1, paper = await c1.enter(t1)
        c2 = await Candidate.connect(b.ws_url)
        w2, _ = await c2.enter(t2)
        c3 = await Candidate.connect(a.ws_url)
        w3, _ = await c3.enter(t3)
        # the proctor on B sees the candidates of A as they join
        await _event_of(proctor, pp.Joined, w1.session or "")
        await _event_of(proctor, pp.Joined, w3.session or "")

        acknowledged: dict[str, list[str]] = {}
        for q in paper.questions[:2]:
            choice = [q.options[0].id]
            await c1.expect_ack(await c1.answer(q.id, choice))
            acknowledged[q.id] = choice
        # and reaches a candidate of A: the message is delivered there, and said to be
        await proctor.ok("message", attempt=w1.session, text="Please face the camera")
        notice = await c1.expect(p.Notice)
        assert notice.text == "Please face the camera"
        messaged = await proctor.expect(pp.Messaged)
        assert messaged.attempt == w1.session and messaged.delivered

        a.kill()  # mid-exam; C3 never comes back
        c1 = await Candidate.connect(b.ws_url)
        resumed = await c1.hello(t1)
        assert isinstance(resumed, p.Welcome) and resumed.resumed
        paper2 = await c1.expect(p.Paper)
        assert paper2.saved == acknowledged
        for q in paper.questions[2:]:
            choice = [q.options[-1].id]
            await c1.expect_ack(await c1.answer(q.id, choice))
            acknowledged[q.id] = choice

        # the deadline: B leads the exam's timers now, and the candidates on B hear of it
        wait = ENDS_IN.total_seconds() + 30
        result1 = await c1.expect(p.Result, timeout=wait)
        result2 = await c2.expect(p.Result, timeout=wait)
        assert result1.score is not None and result2.score is not None
        await _event_of(proctor, pp.AttemptFinished, w3.session or "")

    with psycopg.connect(dsn) as conn:
        finished = conn.execute(
            "SELECT attempt_id, count(*) FROM attempt_states s JOIN attempts a"
            " ON a.id = s.attempt_id WHERE a.exam_id = %s AND s.state = ANY(%s)"
            " GROUP BY attempt_id",
            (exam, [state.value for state in FINISHED]),
        ).fetchall()
        logged = conn.execute(
            "SELECT client_id, count(*) FROM answer_log WHERE attempt_id = %s GROUP BY client_id",
            (w1.session,),
        ).fetchall()
        answers = conn.execute(
            "SELECT count(*) FROM answer_log WHERE attempt_id = %s", (w1.session,)
        ).fetchone()
    assert sorted(count for _, count in finished) == [1, 1, 1]
    assert {w1.session, w2.session, w3.session} == {attempt for attempt, _ in finished}
    assert all(count == 1 for _, count in logged)
    assert answers is not None and answers[0] == len(acknowledged)


async def test_a_candidate_moving_to_the_other_server_holds_up_nothing(
    sitting: tuple[str, str, list[str], str], tmp_path: Path
) -> None:
    """A candidate whose connection to A hangs (a network change) comes back through B: A is
    told to close the old connection, and goes on relaying the other server's events to its
    proctor meanwhile instead of waiting out the old connection's closing handshake (10 s).
    When that connection does end, A does not tell its proctor the candidate left."""
    dsn, _, (t1, t2, _), token = sitting
    with two_servers(dsn, tmp_path) as (a, b):
        proctor, _ = await Proctor.sign_in(a, token)
        old = await Candidate.connect(a.ws_url)
        assert isinstance(await old.hello(t1), p.Welcome)
        old.ws.transport.pause_reading()  # frozen: it answers nothing, not even the close
        other = await Candidate.connect(b.ws_url)
        w2, _ = await other.enter(t2)
        back = await Candidate.connect(b.ws_url)
        welcome = await back.hello(t1)
        assert isinstance(welcome, p.Welcome) and welcome.resumed
        w1 = welcome.session
        ident = new_id()
        await other.send(p.Event(id=ident, kind=EventKind.FOCUS_LOST))
        await other.expect_ack(ident)
        async with asyncio.timeout(CLOSE_TIMEOUT_S / 2):  # before: after A's close timeout
            await _event_of(proctor, pp.ClientEvent, w2.session or "")
        old.ws.transport.resume_reading()
        assert await old.close_code() == CloseCode.REPLACED
        # The old connection has ended on A; then a mark from the candidate, on B. The proctor
        # on A sees them join again, and not leave: they are connected, to B.
        mark = new_id()
        await back.send(p.Event(id=mark, kind=EventKind.FOCUS_LOST))
        await back.expect_ack(mark)
        seen: list[pp.FeedMessage] = []
        while not (seen and isinstance(seen[-1], pp.ClientEvent) and seen[-1].attempt == w1):
            seen.append(await proctor.recv())
        theirs = [type(m) for m in seen if isinstance(m, ATTEMPT_EVENTS) and m.attempt == w1]
        rejoined = len(theirs) - 1 - theirs[::-1].index(pp.Joined)
        assert pp.Left not in theirs[rejoined:], theirs


async def _media_of(proctor: Proctor, attempt: str) -> pp.Media:
    """The proctor's next media status of this attempt."""
    while (media := await proctor.expect(pp.Media)).attempt != attempt:
        pass
    return media


async def test_a_candidate_moving_to_the_other_server_is_shown_without_video_until_live_there(
    sitting: tuple[str, str, list[str], str], tmp_path: Path
) -> None:
    """A candidate streaming through A whose connection hangs (a network change) comes back
    through B. A ends its stream when told, and the proctors see no live video and why, until
    the stream is live through B; when the old connection's closing ends, up to the library's
    close timeout later, they are told nothing more (before: "no live video, the candidate's
    connection closed" then, over the live stream through B)."""
    dsn, _, (t1, _, _), token = sitting
    with two_servers(dsn, tmp_path, media=True) as (a, b):
        proctor, _ = await Proctor.sign_in(b, token)
        old, attempt, streams = await _streaming(a, t1)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                assert (await _media_of(proctor, attempt)).status == pp.MediaStatus.LIVE
                old.ws.transport.pause_reading()  # frozen; its peer connection goes on
                back = await Candidate.connect(b.ws_url)
                resumed = await back.hello(t1)
                assert isinstance(resumed, p.Welcome) and resumed.resumed
            async with asyncio.timeout(CLOSE_TIMEOUT_S / 2):  # before: after the close timeout
                moved = await _media_of(proctor, attempt)
            assert moved.status == pp.MediaStatus.NO_LIVE_VIDEO
            assert moved.reason == "the candidate reconnected through another server"
            old.ws.transport.resume_reading()
            async with asyncio.timeout(TIMEOUT_S):
                await streams[0].stop()
                streams.append(Streaming(back))  # the app offers again on its new connection
                assert (await _media_of(proctor, attempt)).status == pp.MediaStatus.LIVE
                assert await old.close_code() == CloseCode.REPLACED
            # The old connection has ended on A; then a mark from the candidate, on B. Nothing
            # from A about the attempt's media came between.
            mark = new_id()
            await back.send(p.Event(id=mark, kind=EventKind.FOCUS_LOST))
            seen: list[pp.FeedMessage] = []
            async with asyncio.timeout(TIMEOUT_S):
                while not (
                    seen and isinstance(seen[-1], pp.ClientEvent) and seen[-1].attempt == attempt
                ):
                    seen.append(await proctor.recv())
                # and a proctor opening the console on A sees the candidate as B has them:
                # connected, live
                await poll(lambda: _seen_on(a, token, attempt, True, pp.MediaStatus.LIVE))
        finally:
            for stream in streams:
                await stream.stop()
        assert [m for m in seen if isinstance(m, pp.Media) and m.attempt == attempt] == []


@pytest.mark.skipif(JANUS is None, reason="Debian's janus is not installed (tools/system-deps)")
async def test_on_janus_the_proctors_of_both_servers_watch_a_candidate_who_moved(
    sitting: tuple[str, str, list[str], str], tmp_path: Path
) -> None:
    """Two servers sharing one Janus (the national-sitting deployment). A candidate publishes
    through A, watched by a proctor on A and one on B; the candidate's connection hangs and
    they come back through B, where the app publishes again. Both proctors get the picture
    again without watching again: B's publishes through B itself, A's learns from the cluster's
    events that the attempt is live elsewhere and subscribes to its new feed (before: A's
    proctor kept a dead picture while the grid said live)."""
    dsn, _, (t1, _, _), token = sitting
    async with running_janus(tmp_path / "janus") as janus:
        key = tmp_path / "janus-admin-key"
        key.write_text(janus.admin_key)
        flags = ("--media", "janus", "--janus-url", janus.url, "--janus-admin-key-file", str(key))
        with two_servers(dsn, tmp_path, media=True, flags=flags) as (a, b):
            async with (
                proctor(f"{a.ws_url}/ws/proctor?token={token}") as on_a,
                proctor(f"{b.ws_url}/ws/proctor?token={token}") as on_b,
            ):
                old, attempt, streams = await _streaming(a, t1)
                try:
                    async with asyncio.timeout(TIMEOUT_S):
                        await on_a.until(lambda: _live(on_a, attempt))
                        for watcher in (on_a, on_b):
                            await watcher.command(pp.Watch(id=new_id(), attempt=attempt))
                            await watcher.until(lambda w=watcher: len(w.video) >= 5)  # type: ignore[misc]
                        old.ws.transport.pause_reading()  # frozen: a network change
                        back = await Candidate.connect(b.ws_url)
                        resumed = await back.hello(t1)
                        assert isinstance(resumed, p.Welcome) and resumed.resumed
                        await streams[0].stop()
                        streams.append(Streaming(back))  # the app offers again through B
                        before = [(w, w.offers) for w in (on_a, on_b)]
                        for watcher, offers in before:
                            await watcher.until(lambda w=watcher, n=offers: w.offers > n)  # type: ignore[misc]
                            seen = len(watcher.video)
                            await watcher.until(lambda w=watcher, n=seen: len(w.video) >= n + 5)  # type: ignore[misc]
                finally:
                    old.ws.transport.resume_reading()
                    for stream in streams:
                        await stream.stop()


def _live(watcher: ProctorPeer, attempt: str) -> bool:
    media = [e for e in watcher.of_type(pp.Media) if e.attempt == attempt]
    return bool(media) and media[-1].status == pp.MediaStatus.LIVE


async def _seen_on(
    server: ServerProcess,
    token: str,
    attempt: str,
    connected: bool,
    media: pp.MediaStatus | None = None,
) -> bool:
    """Whether a proctor opening the console on `server` now sees the attempt connected or not
    (and with this live media status)."""
    proctor, snapshot = await Proctor.sign_in(server, token)
    await proctor.close()
    (row,) = [r for r in snapshot.attempts if r.attempt == attempt]
    return row.connected == connected and (media is None or row.media == media)


async def test_a_proctor_on_either_server_sees_the_candidates_connected_to_the_other(
    sitting: tuple[str, str, list[str], str], tmp_path: Path
) -> None:
    """The console's first view on one server shows the candidates connected to the other as
    connected, a server started after they joined too; once one leaves, not (before: each
    server's snapshot counted only its own connections, so on a reload most of a sitting
    behind a load balancer looked offline)."""
    dsn, _, (t1, t2, _), token = sitting
    files = str(tmp_path / "files")
    a = ServerProcess(dsn, "--data-dir", files, "--no-media")
    try:
        on_a = await Candidate.connect(a.ws_url)
        w1, _ = await on_a.enter(t1)
        b = ServerProcess(dsn, "--data-dir", files, "--no-media")  # after the candidate joined A
        try:
            on_b = await Candidate.connect(b.ws_url)
            w2, _ = await on_b.enter(t2)
            assert w1.session and w2.session
            async with asyncio.timeout(TIMEOUT_S):
                await poll(lambda: _seen_on(b, token, w1.session or "", True))
                await poll(lambda: _seen_on(a, token, w2.session or "", True))
                await on_a.close()
                await poll(lambda: _seen_on(b, token, w1.session or "", False))
            assert await _seen_on(b, token, w2.session, True)  # its own, throughout
        finally:
            b.stop()
    finally:
        a.stop()


async def test_with_aiortc_a_watch_of_a_candidate_on_the_other_server_is_refused_with_why(
    sitting: tuple[str, str, list[str], str], tmp_path: Path
) -> None:
    """aiortc relays only the streams of its own process: a proctor on B who asks to watch a
    candidate streaming through A is told why it cannot be served (before: acknowledged, then
    no offer ever came, the page "connecting" for good). Across servers, Janus serves it (the
    move test above)."""
    dsn, _, (t1, _, _), token = sitting
    with two_servers(dsn, tmp_path, media=True) as (a, b):
        candidate, attempt, streams = await _streaming(a, t1)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await poll(lambda: _seen_on(b, token, attempt, True, pp.MediaStatus.LIVE))
                proctor, _ = await Proctor.sign_in(b, token)
                refused = await proctor.command("watch", attempt=attempt)
                await proctor.close()
            assert isinstance(refused, p.Error) and refused.code == "not_allowed"
            assert refused.message == ELSEWHERE
        finally:
            for stream in streams:
                await stream.stop()
            await candidate.close()
