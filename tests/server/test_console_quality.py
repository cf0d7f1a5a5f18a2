"""Connection quality on the proctor's feed (round trip, reconnects, media status) over real
sockets; the snapshot's compact rows; the console's files gzipped and revalidated."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from proctor_server import admin
from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.console.quality import Quality, noticeable
from proctor_server.console.web import accepts_gzip
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ProtocolError
from shared.vocabulary import Mode
from tests.server.conftest import MakeExam
from tests.server.scripted import Candidate
from tests.server.scripted_proctor import Proctor
from tests.server.test_console_signin import fetch, sign_in_cookie
from tests.support.clock import FakeClock

# ---------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("before", "now", "news"),
    [
        (None, 3, True),  # never told: the first figure is news
        (40, 45, False),
        (40, 59, False),  # under 20 ms
        (40, 60, True),
        (200, 240, False),  # 40 ms but under a quarter
        (200, 250, True),
        (250, 200, False),
        (300, 200, True),
    ],
)
def test_which_round_trip_changes_are_news(before: int | None, now: int, news: bool) -> None:
    assert noticeable(before, now) is news


@dataclass
class Socket:
    latency: float = 0.0

    async def ping(self) -> Awaitable[float]:  # pragma: no cover - real sockets elsewhere
        raise NotImplementedError


def test_quality_counts_resumed_entries_and_reports_changes_once() -> None:
    quality = Quality()
    assert quality.entered("A", resumed=False) == 0
    socket = Socket()
    quality.linked("A", socket)
    assert quality.row("A") == (None, 0, None, None)  # no pong yet
    assert quality.sample() == []
    socket.latency = 0.0123
    assert quality.sample() == [("A", 12, 0)]
    assert quality.sample() == []  # told already
    socket.latency = 0.2
    assert quality.sample() == [("A", 200, 0)]
    quality.unlinked("A", socket)
    assert quality.entered("A", resumed=True) == 1
    assert quality.row("A") == (None, 1, None, None)  # offline: no round trip
    quality.observe(
        pp.Media(exam="E", at="t", attempt="A", candidate="C1",
                 status=pp.MediaStatus.NO_LIVE_VIDEO, reason="camera refused")
    )  # fmt: skip
    assert quality.row("A") == (None, 1, pp.MediaStatus.NO_LIVE_VIDEO, "camera refused")


def test_a_round_trip_in_a_snapshot_counts_as_told() -> None:
    quality = Quality()
    quality.linked("A", Socket(latency=0.05))
    assert quality.row("A")[0] == 50
    assert quality.sample() == []
    quality.linked("B", Socket(latency=0.07))
    rtt: list[int | None] = [None]
    quality.fill({"B": 0}, rtt, [0], [None], [None])  # the snapshot's way
    assert rtt == [70]
    assert quality.sample() == []


LIVE = pp.MediaStatus.LIVE
NO_VIDEO = pp.MediaStatus.NO_LIVE_VIDEO
# attempt: (latency of its socket or None when offline, resumed entries, media status, reason)
SEATS = {
    "A": (0.0123, 0, None, None),  # connected, round trip measured
    "B": (0.0, 2, None, None),  # connected, no pong yet, came back twice
    "C": (None, 1, NO_VIDEO, "camera refused"),  # offline
    "D": (0.2, 0, LIVE, None),  # not on this grid (a trial before the exam)
    "E": (0.0004, 0, LIVE, None),  # under half a millisecond: shown as 1
}
# the grid's positions -> (rtt_ms, reconnects, media, media_reason) columns
FILLS = [
    ({"A": 0, "B": 1, "C": 2, "E": 3, "F": 4},
     ([12, None, None, 1, None], [0, 2, 1, 0, 0], [None, None, NO_VIDEO, LIVE, None],
      [None, None, "camera refused", None, None])),
    ({"E": 1, "A": 2}, ([None, 1, 12], [0, 0, 0], [None, LIVE, None], [None, None, None])),
    ({}, ([], [], [], [])),
]  # fmt: skip


@pytest.mark.parametrize(("where", "columns"), FILLS)
def test_the_snapshot_gets_each_seen_attempts_quality_at_its_row(
    where: dict[str, int], columns: tuple[list[object], ...]
) -> None:
    quality = Quality()
    for attempt, (latency, resumed, status, reason) in SEATS.items():
        for k in range(resumed + 1):
            quality.entered(attempt, resumed=k > 0)
        if latency is not None:
            quality.linked(attempt, Socket(latency=latency))
        if status is not None:
            quality.observe(pp.Media(exam="E", at="t", attempt=attempt, candidate="C",
                                     status=status, reason=reason))  # fmt: skip
    rows = len(columns[0])
    filled: tuple[list[Any], ...] = ([None] * rows, [0] * rows, [None] * rows, [None] * rows)
    quality.fill(where, *filled)
    assert filled == columns
    for attempt, i in where.items():  # one attempt's row says the same
        assert quality.row(attempt) == tuple(column[i] for column in columns)


ABSENT = pp.AttemptSummary(candidate="C1", name="N", state=pp.SeatState.NOT_ENTERED)
ADMITTED = pp.AttemptSummary(
    candidate="C1", name="N", state=pp.SeatState.NOT_ENTERED, admitted=True
)
TRIAL = pp.AttemptSummary(candidate="C2", name="M", state=pp.SeatState.IN_PROGRESS,
                          attempt="A", mode=Mode.TRIAL, connected=True, rtt_ms=12)  # fmt: skip
# rows -> the columns on the wire, in SNAPSHOT_FIELDS order: trailing defaults left out
COLUMNS = [
    ([ABSENT], [["C1"], ["N"], ["not_entered"]] + [[]] * 17),
    ([ADMITTED], [["C1"], ["N"], ["not_entered"]] + [[]] * 12 + [[True]] + [[]] * 4),
    ([TRIAL, ABSENT],
     [["C2", "C1"], ["M", "N"], ["in_progress", "not_entered"], ["A"], ["trial"], [True], [],
      [], [], [], [], [12]] + [[]] * 8),
    ([ABSENT, TRIAL],
     [["C1", "C2"], ["N", "M"], ["not_entered", "in_progress"], ["", "A"], ["exam", "trial"],
      [False, True], [], [], [], [], [], [None, 12]] + [[]] * 8),
    ([], [[]] * 20),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "columns"), COLUMNS)
def test_the_snapshot_travels_by_columns_without_their_trailing_defaults(
    rows: list[pp.AttemptSummary], columns: list[list[object]]
) -> None:
    exam = pp.ExamSummary(id="E", title="T", starts_at="s", ends_at="e")
    snapshot = pp.Snapshot(server_time="t", exam=exam, attempts=rows)
    frame = pp.encode(snapshot)
    assert pp.snapshot_frame(snapshot).columns == columns
    assert msgspec.json.decode(frame)["columns"] == columns
    assert pp.decode_feed(frame) == snapshot


@pytest.mark.parametrize(
    ("values", "default", "trimmed"),
    [
        ([], 0, []),
        ([0, 0, 0], 0, []),  # nothing but defaults
        ([3, 0, 0], 0, [3]),
        ([0, 3, 0, 0], 0, [0, 3]),  # a default before the last value stays
        ([0, 3], 0, [0, 3]),
        ([None, 12, None], None, [None, 12]),
        ([["why"], [], []], [], [["why"]]),  # lists compare by value
        ([False, False], 0, []),  # as `==` has it: False is 0
        ([1.5, 0.0], 0.0, [1.5]),
        (["x", "y"], msgspec.NODEFAULT, ["x", "y"]),  # a field without a default: kept
    ],
)
def test_a_column_loses_its_trailing_defaults(
    values: list[object], default: object, trimmed: list[object]
) -> None:
    column = list(values)
    assert pp.trim_column(column, default) is column  # in place
    assert column == trimmed


@pytest.mark.parametrize(
    "columns",
    [
        [["C1"]],  # fewer columns than fields
        [["C1"], ["N"], ["not_entered", "in_progress"]] + [[]] * 17,  # longer than the rows
        [["C1"], ["N"], ["asleep"]] + [[]] * 17,  # not a state
        [["C1"], ["N"], "not_entered"] + [[]] * 17,  # not a list
    ],
)
def test_a_snapshot_whose_columns_do_not_fit_is_a_protocol_error(columns: list[object]) -> None:
    frame = msgspec.json.encode(
        {"type": "snapshot", "server_time": "t",
         "exam": {"id": "E", "title": "T", "starts_at": "s", "ends_at": "e"},
         "fields": pp.SNAPSHOT_FIELDS, "columns": columns}
    )  # fmt: skip
    with pytest.raises(ProtocolError):
        pp.decode_feed(frame)


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("*", True),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding(header: str, gzip_ok: bool) -> None:
    from websockets.datastructures import Headers

    assert accepts_gzip(Headers([("Accept-Encoding", header)])) is gzip_ok


# ---------------------------------------------------------------- over real sockets


async def test_round_trip_and_reconnects_reach_the_feed_and_the_snapshot(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam(starts_in=timedelta(minutes=-1))
    ticket = await admin.issue_ticket(server.store, exam.id, name="Ada")
    absent = await admin.issue_ticket(server.store, exam.id, name="Bob")
    candidate = await Candidate.connect(server.ws_url)
    welcome, _ = await candidate.enter(ticket.token)
    attempt = welcome.session
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    proctor, _ = await Proctor.sign_in(server, token)
    runtime = await server.runtime_for(exam.id)
    assert runtime is not None
    measured = await runtime.quality.measure(attempt)  # a ping, its pong: a real round trip
    assert measured is not None and measured >= 1
    runtime.report_round_trips()
    event = await proctor.expect(pp.Connection)
    assert (event.attempt, event.candidate) == (attempt, ticket.candidate_code)
    assert (event.rtt_ms, event.reconnects) == (measured, 0)
    # the network drops; the candidate comes back on a new connection
    candidate.vanish()
    await proctor.expect(pp.Left)
    again = await Candidate.connect(server.ws_url)
    await again.enter(ticket.token)
    joined = await proctor.expect(pp.Joined)
    assert (joined.resumed, joined.reconnects) == (True, 1)
    # a proctor joining now reads the same from the snapshot
    _, snapshot = await Proctor.sign_in(server, token)
    rows = {row.candidate: row for row in snapshot.attempts}
    here, away = rows[ticket.candidate_code], rows[absent.candidate_code]
    assert (here.connected, here.reconnects, here.rtt_ms) == (True, 1, None)  # no pong yet
    assert (away.state, away.reconnects, away.rtt_ms, away.media) == (
        pp.SeatState.NOT_ENTERED, 0, None, None
    )  # fmt: skip
    assert snapshot.fields == pp.SNAPSHOT_FIELDS
    await proctor.close()
    await again.close()


async def test_the_snapshot_shows_the_exam_attempt_else_the_latest_trial(
    server: Server, make_exam: MakeExam, clock: FakeClock
) -> None:
    exam = await make_exam(starts_in=timedelta(hours=3))
    ticket = await admin.issue_ticket(server.store, exam.id, name="Ada")
    sessions = []
    for _ in range(2):
        trial = await Candidate.connect(server.ws_url)
        welcome = await trial.hello(ticket.token, mode=Mode.TRIAL)
        assert isinstance(welcome, p.Welcome)
        sessions.append(welcome.session)
        await trial.close()
        clock.advance(timedelta(seconds=5))
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    _, snapshot = await Proctor.sign_in(server, token)
    (row,) = snapshot.attempts
    assert (row.mode, row.attempt) == (Mode.TRIAL, sessions[-1])


async def test_the_pages_files_are_gzipped_and_revalidated(
    server: Server, make_exam: MakeExam
) -> None:
    exam = await make_exam()
    _, token = await staff.add_proctor(server.store, name="Chen", exam_id=exam.id)
    cookie = await sign_in_cookie(server, token)
    for path in ("/dashboard.js", "/dashboard.css", "/console/grid.js"):
        plain, body = await fetch(server, path)
        assert plain.status == 200 and plain.getheader("Content-Encoding") is None
        zipped, packed = await fetch(server, path, Accept_Encoding="gzip, deflate")
        assert zipped.getheader("Content-Encoding") == "gzip"
        assert gzip.decompress(packed) == body and len(packed) < len(body)
        etag = zipped.getheader("ETag")
        assert etag and zipped.getheader("Cache-Control") == "no-cache"
        again, empty = await fetch(server, path, If_None_Match=etag)
        assert (again.status, empty) == (304, b"")
    sent, html = await fetch(server, "/", cookie, Accept_Encoding="gzip")
    page = gzip.decompress(html)  # the style and every module inline: no request for them
    assert sent.getheader("Cache-Control") == "private, no-store"
    assert b"const __console_grid = " in page and b"<style>" in page
    assert b'src="/dashboard.js"' not in page and b"modulepreload" not in page
    api, data = await fetch(server, f"/api/exam/{exam.id}", cookie, Accept_Encoding="gzip")
    assert api.getheader("Cache-Control") == "private, no-store"
    assert b"warning_limit" in (
        gzip.decompress(data) if api.getheader("Content-Encoding") else data
    )
