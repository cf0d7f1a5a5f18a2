"""The console's first screen as the server writes it into the page (`console/first_screen.py`):
the page's words, the rows' order, states and clocks, escaping, the page cut where the screen
goes, and the page's gzip joined from pieces. That the rows are the markup the page's own
code writes is checked in Chromium (tests/browser/test_console_first_screen.py)."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from websockets.datastructures import Headers

from proctor_server.console import web
from proctor_server.console.bundle import console_page
from proctor_server.console.first_screen import (
    ROWS,
    SLOTS,
    FirstScreen,
    clock,
    counts,
    first_screen,
    in_order,
    localise,
    media_reason,
    page_lang,
    page_pieces,
    row_html,
    rows_wanted,
    screen_pieces,
    status,
    t,
    with_first_screen,
    words,
)
from proctor_server.media import gateway, remote_gateway
from shared import proctor_protocol as pp
from shared.proctor_protocol import MediaStatus, SeatState
from shared.timeutil import to_wire
from shared.vocabulary import Mode

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOSTILE = "</script><img src=x onerror=alert(1)> \"Bobby\" 'Tables' & <b>"


def seat(**fields: object) -> pp.AttemptSummary:
    base: dict[str, object] = {"candidate": "C00001", "name": "Ada", "state": SeatState.IN_PROGRESS}
    return pp.AttemptSummary(**{**base, **fields})  # type: ignore[arg-type]


class Texts(HTMLParser):
    """A document's elements (tag, attributes) and its text, as a browser's parser reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Texts:
    found = Texts()
    found.feed(html)
    return found


def test_the_pages_words_are_read_in_both_languages() -> None:
    tables = words()
    assert tables["en"]["state.in_exam"] == "in exam"
    assert tables["zh"]["state.in_exam"] == "考试中"
    assert set(tables["zh"]) <= set(tables["en"])
    assert len(tables["en"]) > 150
    assert t("en", "count.total", n=3) == "3 tickets"
    assert t("en", "no.such.key") == "no.such.key"
    assert t("zh", "warnings.of", n=1, limit=3) == "1 / 3"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"state": SeatState.NOT_ENTERED, "attempt": ""}, "not_entered"),
        ({"state": SeatState.NOT_ENTERED, "attempt": "", "admitted": True}, "admitted"),
        ({"state": SeatState.SUBMITTED, "attempt": "a"}, "submitted"),
        ({"state": SeatState.IN_PROGRESS, "attempt": "a", "connected": False}, "offline"),
        ({"state": SeatState.WAITING, "attempt": "a", "connected": True}, "identity_pending"),
        ({"state": SeatState.VERIFIED, "attempt": "a", "connected": True}, "waiting"),
        ({"state": SeatState.IN_PROGRESS, "attempt": "a", "connected": True}, "in_exam"),
    ],
)  # fmt: skip
def test_a_seats_status_is_the_pages(fields: dict[str, object], expected: str) -> None:
    assert status(seat(**fields)) == expected


@pytest.mark.parametrize(
    ("lang", "seconds", "text"),
    [
        ("en", None, "—"), ("en", 0, "over"), ("zh", -3, "已到时"), ("en", 59.9, "00:59"),
        ("en", 600, "10:00"), ("en", 3725.5, "1:02:05"),
    ],
)  # fmt: skip
def test_clocks_read_as_the_pages(lang: str, seconds: float | None, text: str) -> None:
    assert clock(lang, seconds) == text


def test_rows_come_by_risk_then_violations_warnings_and_code() -> None:
    rows = [
        seat(candidate="C3"), seat(candidate="C1", warnings=1), seat(candidate="C2", risk=10.0),
        seat(candidate="C0"), seat(candidate="C4", risk=10.0, violations=2),
    ]  # fmt: skip
    assert [a.candidate for a in in_order(rows)] == ["C4", "C2", "C1", "C0", "C3"]


def test_counts_are_the_pages() -> None:
    rows = [
        seat(attempt="a", connected=True), seat(attempt="b"), seat(state=SeatState.NOT_ENTERED),
        seat(attempt="c", state=SeatState.TERMINATED, violations=1),
    ]  # fmt: skip
    assert counts(rows) == {
        "total": 4, "in_exam": 1, "offline": 1, "absent": 1, "flagged": 1, "finished": 1,
    }  # fmt: skip


def test_a_row_says_what_the_page_says() -> None:
    a = seat(
        attempt="a-1", connected=True, ends_at=to_wire(NOW + timedelta(minutes=4)), warnings=2,
        violations=3, risk=62.5, risk_reasons=["looked away"], rtt_ms=420, reconnects=1,
        media=MediaStatus.NO_LIVE_VIDEO, media_reason="no camera", mode=Mode.TRIAL,
    )  # fmt: skip
    html = row_html(a, 2, "en", NOW)
    found = parsed(html)
    _, row_attrs = found.tags[0]
    assert row_attrs["class"] == "row st-in_exam high"
    assert row_attrs["data-candidate"] == "C00001" and row_attrs["data-attempt"] == "a-1"
    assert row_attrs["style"] == "transform: translateY(152px);"
    text = " | ".join(found.text)
    for shown in ("C00001", "Ada", "trial", "in exam", "04:00", "420 ms", "1 reconnect",
                  "no live video: no camera", "2", "3", "63", "looked away"):  # fmt: skip
        assert shown in found.text, (shown, text)
    classes = {attrs.get("class") for _, attrs in found.tags}
    assert {"time low", "conn-rtt slow", "conn-media bad"} <= classes
    hidden = {
        attrs["data-action"]
        for _, attrs in found.tags
        if "hidden" in attrs and "data-action" in attrs
    }
    assert hidden == {"accept_identity", "verdict", "admit"}


# every fixed reason the server gives proctors for no live video (`media` events, a refused
# offer's error), from the gateways: each has its words in both languages (i18n.js)
NO_VIDEO_REASONS = [
    gateway.CONNECTION_CLOSED, gateway.MOVED, gateway.ATTEMPT_OVER, gateway.SHUTTING_DOWN,
    gateway.RESTARTING, gateway.NOT_ENABLED, gateway.ICE_FAILED, gateway.CLOSED,
    gateway.TIMED_OUT, remote_gateway.LOST,
    "the media server gave no answer to the offer",  # janus_gateway.py
    "the connection failed (ICE failed)", "the connection failed (DTLS alert)",  # Janus's own
]  # fmt: skip


@pytest.mark.parametrize("reason", NO_VIDEO_REASONS)
def test_the_servers_reasons_for_no_live_video_have_words_in_both_languages(reason: str) -> None:
    assert media_reason("en", reason) == reason
    assert media_reason("zh", reason) != reason


def test_no_live_video_says_why_in_the_proctors_language() -> None:
    """A fixed reason is worded in the page's language; any other (a media server's own
    message) is shown as it came."""
    for reason, shown in (
        (gateway.CONNECTION_CLOSED, "无实时视频：考生的连接已断开"),
        (gateway.MOVED, "无实时视频：考生已通过另一台服务器重新连接"),
        (
            "the media server is unavailable: refused",
            "无实时视频：the media server is unavailable: refused",
        ),
    ):
        a = seat(attempt="a-1", media=MediaStatus.NO_LIVE_VIDEO, media_reason=reason)
        assert shown in parsed(row_html(a, 0, "zh", NOW)).text
    english = seat(attempt="a-1", media=MediaStatus.NO_LIVE_VIDEO, media_reason=gateway.MOVED)
    assert f"no live video: {gateway.MOVED}" in parsed(row_html(english, 0, "en", NOW)).text


def test_an_absentee_can_be_admitted_and_has_no_attempt_or_pictures() -> None:
    found = parsed(row_html(seat(state=SeatState.NOT_ENTERED), 0, "zh", NOW))
    assert "data-attempt" not in found.tags[0][1]
    images = [attrs for tag, attrs in found.tags if tag == "img"]
    assert [i["data-src"] for i in images] == ["", ""] and all("hidden" in i for i in images)
    shown = {
        attrs["data-action"]
        for _, attrs in found.tags
        if "data-action" in attrs and "hidden" not in attrs
    }
    assert shown == {"open", "admit"}
    assert "未进入" in found.text


@pytest.mark.parametrize("field", ["name", "candidate", "risk_reasons", "media_reason", "title"])
def test_what_people_typed_is_text_never_markup(field: str) -> None:
    a = seat(
        attempt="a-1", connected=True, media=MediaStatus.NO_LIVE_VIDEO,
        **{field: [HOSTILE] if field == "risk_reasons" else HOSTILE} if field != "title" else {},
    )  # fmt: skip
    exam = pp.ExamSummary(
        id="e", title=HOSTILE if field == "title" else "T", starts_at="", ends_at=""
    )
    snapshot = pp.Snapshot(server_time=to_wire(NOW), exam=exam, attempts=[a])
    page = with_first_screen(console_page().decode(), first_screen(snapshot, "en", NOW))
    body = page[page.index("<body>") : page.index('<script type="module">')]
    found = parsed(body)
    assert not any(tag == "img" and "onerror" in attrs for tag, attrs in found.tags)
    assert "</script><img" not in page
    assert any(HOSTILE in text for text in found.text) or any(
        HOSTILE in (v or "") for _, attrs in found.tags for v in attrs.values()
    )


def test_the_page_is_cut_where_its_first_screen_goes() -> None:
    html = localise(console_page().decode(), "en")
    pieces = page_pieces(html)
    screen = FirstScreen(
        title="T", summary="<span>S</span>", shown="9 shown", height=684, rows="<div>R</div>"
    )
    whole = with_first_screen(html, screen)
    cut = html
    for opening, empty in SLOTS:  # the cut loses only what the first screen replaces
        cut = cut.replace(opening + empty, opening, 1)
    assert "".join(pieces) == cut
    assert '<div id="console">' in whole and '<div id="console" hidden>' not in whole
    assert '<span id="title" class="exam-title">T</span>' in whole
    assert 'role="rowgroup" style="height: 684px;"><div>R</div></div>' in whole
    assert '<span id="shown" class="shown">9 shown</span>' in whole
    assert len(screen_pieces(screen)) == len(pieces) - 1


def test_the_static_words_are_in_the_proctors_language() -> None:
    html = localise(console_page().decode(), "zh")
    assert '<html lang="zh-CN">' in html
    assert 'data-i18n="filter.absent">未进入</button>' in html
    assert 'placeholder="' in html


@pytest.mark.parametrize(
    ("headers", "lang"),
    [
        ({}, "en"),
        ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh"),
        ({"Accept-Language": "en-GB,zh;q=0.9"}, "en"),
        ({"Cookie": "proctor_lang=zh", "Accept-Language": "en"}, "zh"),
        ({"Cookie": "proctor_lang=en; other=1", "Accept-Language": "zh-CN"}, "en"),
        ({"Cookie": "proctor_lang=fr", "Accept-Language": "zh-TW"}, "zh"),
    ],
)  # fmt: skip
def test_the_language_is_the_pages_choice(headers: dict[str, str], lang: str) -> None:
    assert page_lang(Headers(headers)) == lang


@pytest.mark.parametrize(
    ("cookie", "rows"),
    [(None, ROWS), ("proctor_rows=17", 17), ("proctor_rows=0", 1), ("proctor_rows=999", 40),
     ("proctor_rows=-3", ROWS), ("proctor_rows=x", ROWS)],
)  # fmt: skip
def test_as_many_rows_as_the_proctors_grid_shows(cookie: str | None, rows: int) -> None:
    assert rows_wanted(Headers({"Cookie": cookie} if cookie else {})) == rows


def test_the_page_gzipped_from_pieces_is_one_valid_stream() -> None:
    static, deflated = web._console_pieces("en")
    screen = [b"x" * 5000, b"</span>", "张三".encode(), b"", b"<div>" * 100]
    pieces = [p for pair in zip(static, [*screen, b""], strict=True) for p in pair]
    joined = [
        p
        for pair in zip(deflated, [*[web._deflated(s, 6) for s in screen], b""], strict=True)
        for p in pair
    ]
    assert gzip.decompress(web.gzip_joined(pieces, joined)) == b"".join(pieces)


def test_the_first_screen_of_an_exam() -> None:
    rows = [seat(candidate=f"C{n:05d}", name=f"N{n}", risk=float(n % 7)) for n in range(100)]
    exam = pp.ExamSummary(id="e", title="Exam", starts_at="", ends_at="")
    screen = first_screen(
        pp.Snapshot(server_time=to_wire(NOW), exam=exam, attempts=rows), "en", NOW, 5
    )
    assert screen.height == 100 * 76
    assert screen.shown == "100 shown"
    assert re.findall(r'data-candidate="(C\d+)"', screen.rows) == [
        "C00006",
        "C00013",
        "C00020",
        "C00027",
        "C00034",
    ]
