"""Each attempt's connection quality as the proctor's grid shows it: the candidate socket's
round trip, how many times the attempt came back on a new connection, and its live media.

- **Round trip**: what the server measures itself, the time from a keepalive ping to its pong
  on the candidate's socket (`websockets`' `latency`, refreshed every ping interval, 20 s by
  default). Nothing the candidate's app reports is taken for it.
- **Reconnects**: entries that resumed an attempt already started, counted by this process
  (a server restart makes every connected candidate come back once, and that counts).
- **Media**: the last status the media gateway reported for the attempt's stream (`live`, or
  `no_live_video` with its reason), seen as the `media` events go by.

One `Quality` per exam runtime. The grid's snapshot reads it; `sample()` turns noticeable
changes of round trip into `connection` events, which the runtime publishes every
`SAMPLE_EVERY` while a proctor follows the exam."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from shared import proctor_protocol as pp

SAMPLE_EVERY = timedelta(seconds=5)
RTT_CHANGE_MS = 20  # a change smaller than this (and than RTT_CHANGE_SHARE) is not news
RTT_CHANGE_SHARE = 0.25


class Pinged(Protocol):
    """The candidate's socket as far as quality goes (`ServerConnection` is one)."""

    @property
    def latency(self) -> float: ...

    async def ping(self) -> Awaitable[float]: ...


@dataclass(slots=True)
class _Seat:
    socket: Pinged | None = None
    reconnects: int = 0
    reported_rtt: int | None = None  # what the proctors were last told
    media: pp.MediaStatus | None = None
    media_reason: str | None = None


class Quality:
    def __init__(self) -> None:
        self._seats: dict[str, _Seat] = {}

    def _seat(self, attempt: str) -> _Seat:
        seat = self._seats.get(attempt)
        if seat is None:
            seat = self._seats[attempt] = _Seat()
        return seat

    # ------------------------------------------------------------ what happens

    def entered(self, attempt: str, resumed: bool) -> int:
        """An entry to `attempt`; returns its reconnect count so far."""
        seat = self._seat(attempt)
        if resumed:
            seat.reconnects += 1
        return seat.reconnects

    def linked(self, attempt: str, socket: Pinged) -> None:
        """`socket` now carries the attempt (its round trip is read from it)."""
        seat = self._seat(attempt)
        seat.socket = socket
        seat.reported_rtt = None

    def unlinked(self, attempt: str, socket: Pinged) -> None:
        seat = self._seats.get(attempt)
        if seat is not None and seat.socket is socket:
            seat.socket = None

    async def measure(self, attempt: str) -> int | None:
        """Measure the attempt's round trip now (a ping, waiting for its pong), rather than at
        the next keepalive; None when it is not connected."""
        seat = self._seats.get(attempt)
        if seat is None or seat.socket is None:
            return None
        pong = await seat.socket.ping()
        await pong
        return self.rtt_ms(attempt)

    def observe(self, event: pp.AttemptEvent) -> None:
        """Every event the runtime publishes goes by here (the media status is kept)."""
        if isinstance(event, pp.Media):
            seat = self._seat(event.attempt)
            seat.media, seat.media_reason = event.status, event.reason

    # ------------------------------------------------------------ what the grid reads

    def rtt_ms(self, attempt: str) -> int | None:
        """The round trip in milliseconds; None while offline or before the first pong."""
        seat = self._seats.get(attempt)
        if seat is None or seat.socket is None or seat.socket.latency <= 0:
            return None
        return round(seat.socket.latency * 1000) or 1  # as `fill` writes it

    def row(self, attempt: str) -> tuple[int | None, int, pp.MediaStatus | None, str | None]:
        """(rtt_ms, reconnects, media, media_reason): the attempt's grid row (`fill`)."""
        rtt: list[int | None] = [None]
        media: list[pp.MediaStatus | None] = [None]
        reason: list[str | None] = [None]
        reconnects = [0]
        self.fill({attempt: 0}, rtt, reconnects, media, reason)
        return rtt[0], reconnects[0], media[0], reason[0]

    def fill(
        self,
        where: dict[str, int],
        rtt: list[int | None],
        reconnects: list[int],
        media: list[pp.MediaStatus | None],
        media_reason: list[str | None],
    ) -> None:
        """Each attempt's row written into the snapshot's columns (which hold the defaults)
        at its position in `where`, for every attempt this process has seen that `where` has.
        A round trip a snapshot carries counts as told (no `connection` event follows for it
        unless it changes). One pass, no call or tuple per seat, a seat's defaults left as they
        are: a thousand connected candidates cost a fifth of a millisecond."""
        seats = self._seats
        if len(where) < len(seats):  # a few rows (`row`'s one): looked up
            pairs: Iterable[tuple[str, _Seat]] = [(a, seats[a]) for a in where if a in seats]
        else:  # a grid: every seat this process has seen
            pairs = seats.items()
        for attempt, seat in pairs:
            i = where.get(attempt)
            if i is None:
                continue
            socket = seat.socket
            if socket is not None:
                latency = socket.latency
                if latency > 0:
                    told = rtt[i] = round(latency * 1000) or 1
                    if seat.reported_rtt is None:
                        seat.reported_rtt = told
            if seat.reconnects:
                reconnects[i] = seat.reconnects
            if seat.media is not None:
                media[i], media_reason[i] = seat.media, seat.media_reason

    def sample(self) -> list[tuple[str, int, int]]:
        """(attempt, rtt_ms, reconnects) for each connected attempt whose round trip changed
        noticeably since the proctors were last told; remembers it as told."""
        changed = []
        for attempt, seat in self._seats.items():
            rtt = self.rtt_ms(attempt)
            if rtt is None or not noticeable(seat.reported_rtt, rtt):
                continue
            seat.reported_rtt = rtt
            changed.append((attempt, rtt, seat.reconnects))
        return changed


def noticeable(before: int | None, now: int) -> bool:
    """Whether a round trip of `now` ms is worth an event after `before` was reported."""
    if before is None:
        return True
    delta = abs(now - before)
    return delta >= RTT_CHANGE_MS and delta >= RTT_CHANGE_SHARE * before
