"""The candidate's conduct on the client side (R16), pure: what one leave of the exam screen
is, which events go to the server, and how the warnings the server sends are kept.

The system may send several signals for one leave (the app becomes inactive, the window loses
the focus, the window is minimised). The server counts one warning per leaving event it
receives, so the app decides here what a leave is: it opens with the first leaving event and
closes with the first returning event. Only the event that opened the leave is sent (it is the
one warning), and the event that closed it (its `detail` lists every signal of the leave, as
evidence). Signals inside a leave, and a return without a leave, are not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from proctor_client.core.state import ClientState, MessageSource, WarningView
from shared import protocol as p
from shared.errors import ProctorError
from shared.timeutil import from_wire
from shared.vocabulary import LEAVING_EVENTS, RETURNING_EVENTS, EventKind

# The version of the rules of conduct and the recording notice that the app shows before
# entry (proctor_client/ui/rules_screen.py); the candidate's consent names it.
RULES_VERSION = "2026-11-28"

# Events that use one warning each (the server's rules of conduct count them the same way).
COUNTED_EVENTS: frozenset[EventKind] = LEAVING_EVENTS | {EventKind.SCREEN_ADDED}


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one off-screen signal: send it or not, and extra detail to send."""

    send: bool
    detail: dict[str, object]


def off_screen(state: ClientState, kind: EventKind) -> tuple[ClientState, Decision]:
    """Fold one off-screen signal into the current leave (the paper is open)."""
    if kind in LEAVING_EVENTS:
        if state.away is not None:  # the same leave, another signal of it
            if kind not in state.away_signals:
                state = replace(state, away_signals=(*state.away_signals, kind))
            return state, Decision(False, {})
        state = replace(state, away=kind, away_signals=(kind,))
        return _count(state, kind), Decision(True, {})
    if kind in RETURNING_EVENTS:
        if state.away is None:
            return state, Decision(False, {})  # a return without a leave (a second signal)
        signals = [str(s) for s in state.away_signals]
        state = replace(state, away=None, away_signals=())
        return state, Decision(True, {"leave_signals": signals})
    if kind in COUNTED_EVENTS:  # a screen connected
        return _count(state, kind), Decision(True, {})
    return state, Decision(True, {})


def _count(state: ClientState, kind: EventKind) -> ClientState:
    used = state.warnings_used + 1 if state.warning_limit is not None else state.warnings_used
    return replace(state, warnings_used=used, last_counted=kind)


def on_warning(state: ClientState, message: p.ProctorWarning) -> ClientState:
    """A warning from the server: its count wins; an automatic one is about the last event
    this app reported that uses a warning."""
    proctor = message.source is p.WarningSource.PROCTOR
    view = WarningView(
        text=message.text,
        count=message.count,
        limit=message.limit,
        source=MessageSource.PROCTOR if proctor else MessageSource.SYSTEM,
        kind=None if proctor else state.last_counted,
    )
    return replace(
        state,
        warnings=(*state.warnings, view),
        warnings_used=state.warnings_used if message.count is None else message.count,
        warning_limit=state.warning_limit if message.limit is None else message.limit,
    )


def on_notice(state: ClientState, message: p.Notice) -> ClientState:
    view = WarningView(text=message.text, source=MessageSource.PROCTOR, notice=True)
    return replace(state, warnings=(*state.warnings, view))


def on_deadline(state: ClientState, message: p.Deadline) -> ClientState:
    """The attempt's deadline moved (extra time): the countdown follows."""
    exam = state.exam
    if exam is None:
        return state
    state = replace(state, exam=replace(exam, ends_at=message.ends_at))
    if state.server_origin is None:
        return state
    try:
        ends = (from_wire(message.ends_at) - state.server_origin) / timedelta(seconds=1)
    except ProctorError:
        return state
    return replace(state, ends_at_mono=ends)
