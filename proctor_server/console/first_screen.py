"""The console's first screen, written by the server into the page it sends: the exam's title,
its counts and the first rows of the grid in the page's default order (risk, highest first),
so that the browser's first frame after parsing the document already shows the grid, before
the page's module has run, its feed's socket opened or its snapshot arrived.

Only for a signed-in proctor, and only the exam that proctor's feed would follow
(`core.console.feed_exam`: a proctor's own; a chief's `?exam=ID` or the only live exam). The
rows come from the same read as the feed's snapshot (`console/grid_cache.py`: the socket the
page opens next is given that read and the events since, not a read of its own), as the page
would draw them right after that snapshot: no violations by kind and no warning limit yet
(`/api/exam` comes after the first grid), no thumbnail loaded yet (their addresses wait in
`data-src`).

The page's module takes these rows over (`grid.js`, `adopt`) and fills them again from the
snapshot. Their markup is the one `grid.js` `makeRow` and `fill` write, element for element:
`tests/browser/test_console_first_screen.py` compares the two in Chromium. The words are the
page's own (`dashboard/i18n.js`, read from that file), in the language the page will use: the
`proctor_lang` cookie the page keeps in step with its choice, else the browser's first
language. Every text and attribute value is HTML-escaped."""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from importlib import resources

from websockets.datastructures import Headers

from proctor_server.console import auth
from proctor_server.console.grid_cache import Place
from proctor_server.core.console import feed_exam
from proctor_server.core.records import ProctorRecord, ProctorRole
from proctor_server.proctor_feed import FeedDeps, exam_snapshot
from shared import proctor_protocol as pp
from shared.errors import RuleError
from shared.proctor_protocol import MediaStatus, SeatState
from shared.timeutil import from_wire
from shared.vocabulary import Mode

ROWS = 14  # the rows written when the page has not said how many its grid shows (a window
# 1,000 pixels high shows 12): only those on screen, grid.js adds the overscan
MAX_ROWS = 40
ROWS_COOKIE = "proctor_rows"
ROW_HEIGHT = 76  # grid.js ROW_HEIGHT
ACTIONS = (
    "watch", "warn", "message", "extend", "terminate", "review", "accept_identity", "verdict",
    "admit",
)  # fmt: skip  # grid.js ACTIONS, in its order
FINISHED = frozenset({SeatState.SUBMITTED, SeatState.TIMED_OUT, SeatState.TERMINATED})
COUNTS = ("total", "in_exam", "offline", "absent", "flagged", "finished")
LANG_COOKIE = "proctor_lang"
LANGS = ("en", "zh")
_PAIR = re.compile(r'"([a-z0-9_.]+)":\s*("(?:[^"\\]|\\.)*")')
_PARAM = re.compile(r"\{(\w+)\}")
_I18N_TEXT = re.compile(r'(<(\w+)\b[^>]*\bdata-i18n="([a-z0-9_.]+)"[^>]*>)[^<]*(</\2>)')
SAFE_EXAM = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_I18N_PLACEHOLDER = re.compile(r'\bdata-i18n-placeholder="([a-z0-9_.]+)"')


@functools.cache
def words() -> dict[str, dict[str, str]]:
    """The page's tables (`const EN = {...}` and `const ZH = {...}` in i18n.js), by language."""
    source = resources.files("proctor_server.dashboard").joinpath("i18n.js").read_text("utf-8")
    tables: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        start = source.index(f"const {lang.upper()} = {{")
        body = source[start : source.index("\n};", start)]
        tables[lang] = {key: ast.literal_eval(text) for key, text in _PAIR.findall(body)}
    return tables


def t(lang: str, key: str, **params: object) -> str:
    """i18n.js `t`: the key's text in `lang` (else English, else the key), `{name}` filled."""
    text = words()[lang].get(key) or words()["en"].get(key) or key
    if params:
        text = _PARAM.sub(lambda m: str(params[m[1]]) if m[1] in params else m[0], text)
    return text


def media_reason(lang: str, text: str) -> str:
    """i18n.js `mediaReason`: one of the server's fixed reasons for no live video (the English
    texts of the "media.reason." keys) in `lang`; any other as it came."""
    key = _media_reasons().get(text)
    return t(lang, key) if key else text


@functools.cache
def _media_reasons() -> dict[str, str]:
    return {text: key for key, text in words()["en"].items() if key.startswith("media.reason.")}


def page_lang(headers: Headers) -> str:
    """The language the page will choose: the page's cookie, else the browser's first."""
    chosen = auth.cookie_value(headers, LANG_COOKIE)
    if chosen in LANGS:
        return chosen
    first = headers.get("Accept-Language", "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def localise(html: str, lang: str) -> str:
    """The page's static words (`data-i18n`, `data-i18n-placeholder`) in `lang`."""
    html = html.replace('<html lang="en">', f'<html lang="{"zh-CN" if lang == "zh" else "en"}">')
    html = _I18N_TEXT.sub(lambda m: f"{m[1]}{escape(t(lang, m[3]))}{m[4]}", html)
    return _I18N_PLACEHOLDER.sub(lambda m: f'{m[0]} placeholder="{escape(t(lang, m[1]))}"', html)


# ---------------------------------------------------------------- the rows (model.js, grid.js)


def status(a: pp.AttemptSummary) -> str:
    """model.js `status`, before any event (no identity refused yet)."""
    if a.state == SeatState.NOT_ENTERED:
        return "admitted" if a.admitted else "not_entered"
    if a.state in FINISHED:
        return str(a.state)
    if not a.connected:
        return "offline"
    if a.state == SeatState.WAITING:
        return "identity_pending"
    if a.state == SeatState.VERIFIED:
        return "waiting"
    return "in_exam"


def in_order(rows: Iterable[pp.AttemptSummary]) -> list[pp.AttemptSummary]:
    """model.js `view` with its defaults: every seat, by risk, violations, warnings, code."""
    return sorted(rows, key=lambda a: (-a.risk, -a.violations, -a.warnings, a.candidate))


def counts(rows: Sequence[pp.AttemptSummary]) -> dict[str, int]:
    """model.js `counts`."""
    c = dict.fromkeys(COUNTS, 0)
    for a in rows:
        c["total"] += 1
        s = status(a)
        if s == "in_exam":
            c["in_exam"] += 1
        elif s == "offline":
            c["offline"] += 1
        elif a.state == SeatState.NOT_ENTERED:
            c["absent"] += 1
        elif a.state in FINISHED:
            c["finished"] += 1
        if a.violations > 0 or a.warnings > 0:
            c["flagged"] += 1
    return c


def clock(lang: str, seconds: float | None) -> str:
    """grid.js `clock`."""
    if seconds is None:
        return t(lang, "time.none")
    if seconds <= 0:
        return t(lang, "time.over")
    s = math.floor(seconds)
    h, m, r = s // 3600, (s % 3600) // 60, s % 60
    return f"{h}:{m:02d}:{r:02d}" if h else f"{m:02d}:{r:02d}"


def seconds_left(a: pp.AttemptSummary, now: datetime) -> float | None:
    """model.js `secondsLeft`."""
    if not a.ends_at or a.state in FINISHED:
        return None
    return max(0.0, (from_wire(a.ends_at) - now).total_seconds())


def _attrs(pairs: Iterable[tuple[str, str | None]]) -> str:
    return "".join(f' {k}="{escape(v)}"' if v is not None else "" for k, v in pairs)


def _tag(
    tag: str, attrs: Iterable[tuple[str, str | None]], text: str = "", *, hidden: bool = False
) -> str:
    flag = ' hidden=""' if hidden else ""
    return f"<{tag}{_attrs(attrs)}{flag}>{escape(text)}</{tag}>"


def _image(cls: str, url: str) -> str:
    return (
        f"<img{_attrs([('class', cls), ('alt', ''), ('loading', 'lazy'), ('decoding', 'async')])}"
        f"{_attrs([('data-src', url)])}{' hidden' if not url else ''}>"
    )


def _js_round(x: float) -> int:
    return math.floor(x + 0.5)


def row_html(a: pp.AttemptSummary, index: int, lang: str, now: datetime) -> str:
    """One row as grid.js `makeRow` then `fill` write it for this seat, at `index`."""
    st = status(a)
    attempt = a.attempt
    high = " high" if a.risk >= 50 else ""
    photo = f"/evidence/{attempt}/identity?v=0{a.state}" if attempt else ""
    bucket = math.floor(now.timestamp() * 1000 / 30000)
    snap = (
        f"/evidence/{attempt}/snapshot/latest?v={bucket}.0"
        if attempt and a.state != SeatState.NOT_ENTERED
        else ""
    )
    badges = []
    if a.mode == Mode.TRIAL:
        badges.append(t(lang, "mode.badge.trial"))
    if a.verdict:
        badges.append(t(lang, f"verdict.{a.verdict}"))
    if a.score is not None:
        badges.append(f"{a.score}/{'null' if a.max_score is None else a.max_score}")
    left = seconds_left(a, now)
    warnings = t(lang, "warnings.none", n=a.warnings) if attempt else t(lang, "conn.never")
    kinds = str(a.violations) if a.violations else "—"
    why = "; ".join(a.risk_reasons) if a.risk_reasons else t(lang, "risk.none")
    live = bool(attempt) and a.state not in FINISHED
    show = {
        "admit": not attempt,
        "watch": live, "warn": live and a.state != SeatState.WAITING, "message": live,
        "extend": live and a.state != SeatState.WAITING, "terminate": live,
        "accept_identity": live and a.state == SeatState.WAITING,
        "review": bool(attempt) and a.violations > 0,
        "verdict": bool(attempt) and a.state in FINISHED and a.mode == Mode.EXAM,
    }  # fmt: skip
    cell = '<div class="cell c-{}" role="cell">{}</div>'.format
    return "".join(
        [
            f'<div class="row st-{st}{high}" role="row"',
            _attrs([("data-candidate", a.candidate), ("data-attempt", attempt or None)]),
            f' style="transform: translateY({index * ROW_HEIGHT}px);">',
            cell("photo", _image("photo", photo)),
            cell(
                "who",
                '<button class="who" data-action="open" type="button">'
                + _tag("b", [("class", "code"), ("elementtiming", "grid-row")], a.candidate)
                + _tag("span", [("class", "name")], a.name)
                + "</button>"
                + _tag("span", [("class", "badges")], " · ".join(badges)),
            ),
            cell("state", _tag("span", [("class", "state-badge")], t(lang, f"state.{st}"))),
            cell(
                "time",
                _tag("span", [("class", "time low" if left is not None and left < 300 else "time")], clock(lang, left)),
            ),
            cell("conn", _connection(a, lang)),
            cell("warnings", _tag("span", [("class", "warnings")], warnings)),
            cell("violations", _tag("span", [("class", "kinds")], kinds)),
            cell(
                "risk",
                _tag("span", [("class", "risk-badge")], str(_js_round(a.risk)))
                + _tag("span", [("class", "why"), ("title", why)], why),
            ),
            cell(
                "snapshot",
                _image("snap", snap)
                + '<video class="live" muted="" playsinline="" autoplay="" hidden=""></video>'
                + '<span class="video-note"></span>',
            ),
            cell(
                "actions",
                "".join(
                    _tag("button", [("class", f"act act-{k}"), ("data-action", k), ("type", "button")],
                         t(lang, f"action.{k}"), hidden=not show[k])
                    for k in ACTIONS
                ),
            ),
            "</div>",
        ]
    )  # fmt: skip


def _connection(a: pp.AttemptSummary, lang: str) -> str:
    """grid.js `fillConnection`."""
    never = a.state == SeatState.NOT_ENTERED or a.state in FINISHED
    rtt = a.rtt_ms if a.connected and a.rtt_ms is not None else None
    n = a.reconnects
    status_text = (
        t(lang, "conn.never")
        if never
        else t(lang, "conn.connected" if a.connected else "conn.offline")
    )
    rtt_text = (
        "" if never or not a.connected else "…" if rtt is None else t(lang, "conn.rtt", ms=rtt)
    )
    reconnects = (
        ""
        if never or not n
        else t(lang, "conn.reconnects1")
        if n == 1
        else t(lang, "conn.reconnects", n=n)
    )
    media = ""
    if not never and a.media == MediaStatus.LIVE:
        media = t(lang, "conn.media.live")
    elif not never and a.media == MediaStatus.NO_LIVE_VIDEO:
        media = (
            t(lang, "conn.media.why", reason=media_reason(lang, a.media_reason))
            if a.media_reason
            else t(lang, "conn.media.no_live_video")
        )
    data = [
        ("data-rtt", "" if rtt is None else str(rtt)),
        ("data-reconnects", str(n)),
        ("data-media", a.media or ""),
    ]
    return (
        f'<span class="conn"{_attrs(data)}>'
        + _tag("span", [("class", "conn-status")], status_text)
        + _tag("span", [("class", "conn-rtt slow" if rtt is not None and rtt >= 300 else "conn-rtt"),
                        ("title", t(lang, "conn.rtt_none") if rtt is None else "")], rtt_text)
        + _tag("span", [("class", "conn-reconnects")], reconnects)
        + _tag("span", [("class", "conn-media bad" if a.media == MediaStatus.NO_LIVE_VIDEO else "conn-media"),
                        ("title", media or None)], media)
        + "</span>"
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FirstScreen:
    """What the page's document holds of the grid before its module runs."""

    title: str
    summary: str  # the counts' spans
    shown: str
    height: int  # the grid's full height in pixels (every seat, ROW_HEIGHT each)
    rows: str


def first_screen(snapshot: pp.Snapshot, lang: str, now: datetime, rows: int = ROWS) -> FirstScreen:
    """The exam's first screen from its snapshot, at `now`, in `lang`."""
    ordered = in_order(snapshot.attempts)
    c = counts(ordered)
    summary = "".join(
        _tag("span", [("class", f"count count-{k}")], t(lang, f"count.{k}", n=c[k])) for k in COUNTS
    )
    return FirstScreen(
        title=snapshot.exam.title,
        summary=summary,
        shown=t(lang, "count.shown", n=len(ordered)),
        height=len(ordered) * ROW_HEIGHT,
        rows="".join(row_html(a, i, lang, now) for i, a in enumerate(ordered[:rows])),
    )


SLOTS = (
    ('<span id="title" class="exam-title">', "</span>"),
    ('<div id="console"', " hidden>"),
    ('<span id="shown" class="shown">', "</span>"),
    ('<div id="summary" class="summary">', "</div>"),
    ('<div id="grid-space" class="grid-space" role="rowgroup"', "></div>"),
)  # where the first screen goes in the page: after each opening, in place of what follows


def page_pieces(html: str) -> list[str]:
    """The console page cut where its first screen goes: `len(SLOTS) + 1` pieces."""
    pieces: list[str] = []
    rest = html
    for opening, empty in SLOTS:
        at = rest.find(opening + empty)
        if at < 0:
            raise ValueError(f"the console page has no {opening + empty}")
        cut = at + len(opening)
        pieces.append(rest[:cut])
        rest = rest[cut + len(empty) :]
    return [*pieces, rest]


def screen_pieces(screen: FirstScreen) -> list[str]:
    """What goes into each of the page's slots (SLOTS, in order)."""
    return [
        f"{escape(screen.title)}</span>",
        ">",
        f"{escape(screen.shown)}</span>",
        f"{screen.summary}</div>",
        f' style="height: {screen.height}px;">{screen.rows}</div>',
    ]


def with_first_screen(html: str, screen: FirstScreen) -> str:
    """The console page with its first screen in it, the console shown."""
    static = page_pieces(html)
    return "".join(
        p for pair in zip(static, [*screen_pieces(screen), ""], strict=True) for p in pair
    )


def rows_wanted(headers: Headers) -> int:
    """How many rows the proctor's grid shows at once (the page's `proctor_rows` cookie, kept
    by grid.js), else ROWS; at most MAX_ROWS."""
    rows = auth.cookie_value(headers, ROWS_COOKIE)
    if rows.isdigit():
        return max(1, min(MAX_ROWS, int(rows)))
    return ROWS


# ---------------------------------------------------------------- the read


async def page_place(deps: FeedDeps, proctor: ProctorRecord, path: str) -> tuple[str, Place] | None:
    """The exam the page's feed will follow and its grid read (`GridCache.place`), started now
    if none is recent (None when the feed would refuse the proctor: a chief with several live
    exams and no `?exam=`, an exam that is not theirs or does not exist). The sign-in starts
    it while the browser follows its redirect; the page and its socket are then given it."""
    requested = auth.query_value(path, "exam") or None
    live: list[str] = []
    if proctor.role is ProctorRole.CHIEF and requested is None:
        live = [e.id for e in await deps.store.list_live_exams(deps.clock.now())]
    try:
        exam_id = feed_exam(proctor, requested, live)
    except RuleError:
        return None
    if not SAFE_EXAM.match(exam_id) or await deps.exams.load(exam_id) is None:
        return None
    return exam_id, deps.grids.place(exam_id)


async def page_snapshot(deps: FeedDeps, proctor: ProctorRecord, path: str) -> pp.Snapshot | None:
    """The snapshot the page's feed will be sent, for the exam that feed will follow (None
    when it would refuse the proctor, `page_place`). The grid's read is the one the feed's
    socket is given next: one read for the document and its socket."""
    found = await page_place(deps, proctor, path)
    if found is None:
        return None
    exam_id, place = found
    frame = await exam_snapshot(deps, exam_id, place)
    snapshot = pp.decode_feed(pp.encode(frame))
    return snapshot if isinstance(snapshot, pp.Snapshot) else None
