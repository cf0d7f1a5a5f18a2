"""The observable state the UI shows, and the calls the UI makes on the runtime.

The UI (or a script) holds an :class:`ExamRuntimeAPI`, subscribes to it, and redraws from each
:class:`ClientState` snapshot it receives. Snapshots are frozen; a new one replaces the old on
every change. Listeners run on the asyncio loop thread, synchronously, in subscription order;
they must not block.

Countdowns: ``state.seconds_to_start(time.monotonic())`` and
``state.seconds_left(time.monotonic())`` — the runtime anchors both on the server's clock.

Phases (``state.phase``), in the usual order::

    CONNECTING -> IDENTITY -> PROFILE (exam only) -> WAITING_ROOM -> EXAM -> SUBMITTED -> RESULT
    OFFLINE   the server was never reached yet; the runtime keeps retrying
    ERROR     fatal (``state.error.code``: bad_ticket, entry_not_open, entry_closed, exam_over,
              trial_unavailable, unsupported_protocol, replaced)
    TERMINATED the proctors ended the attempt (a RESULT may follow)

While connected once and then cut off, the phase stays where it was and ``state.offline`` is
True: the UI says it is offline and that answers are kept (``state.unsaved_count`` are waiting
in the local outbox and will be sent on reconnect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from proctor_client.core.state import (
    ClientState,
    ErrorView,
    ExamInfoView,
    MessageSource,
    OptionView,
    Phase,
    QuestionView,
    ResultView,
    WarningView,
)
from shared.vocabulary import LEAVING_EVENTS, RETURNING_EVENTS, EventKind, FinishReason, Mode

__all__ = [
    "LEAVING_EVENTS",
    "RETURNING_EVENTS",
    "ClientState",
    "ErrorView",
    "EventKind",
    "ExamInfoView",
    "ExamRuntimeAPI",
    "FinishReason",
    "Listener",
    "MessageSource",
    "Mode",
    "OptionView",
    "Phase",
    "QuestionView",
    "ResultView",
    "Unsubscribe",
    "WarningView",
]

Listener = Callable[[ClientState], None]
Unsubscribe = Callable[[], None]


class ExamRuntimeAPI(Protocol):
    """What the UI may call. Every call returns at once: the runtime does the network work.

    Calls that the current phase does not accept, or with bad input (unknown question, an
    option that is not in the question, two options on a single-choice question, an unknown
    event kind, an empty photo) raise :class:`proctor_client.core.flow.InvalidAction`, a
    :class:`shared.errors.ProctorError`, and change nothing.
    """

    @property
    def state(self) -> ClientState:
        """The latest snapshot."""
        ...

    def subscribe(self, listener: Listener) -> Unsubscribe:
        """Call `listener` with every new snapshot (and once now with the current one)."""
        ...

    def start(self) -> None:
        """Begin connecting; needs a running asyncio loop. Idempotent."""
        ...

    def send_identity_photo(self, jpeg: bytes) -> str:
        """Send the identity photo (phase IDENTITY); returns its id. The answer arrives as
        `identity_accepted` / `identity_reasons` in a later snapshot."""
        ...

    def send_profile(self, name: str, phone: str, address: str, postcode: str) -> str:
        """Store the postal address for the certificate (phase PROFILE, R14); returns its id."""
        ...

    def answer(self, question_id: str, option_ids: list[str]) -> str:
        """Choose options (phase EXAM); saved at once, kept while offline; returns the id.
        An empty list clears the answer."""
        ...

    def report_event(
        self, kind: EventKind | str, detail: dict[str, Any] | None = None
    ) -> int | None:
        """Report an event (an EventKind): an off-screen event while the paper is open (R16),
        or `DEVICE_SIGNAL` with the device figures as `detail` while the attempt is open.
        Returns how many warnings are left when the exam sets a limit, else None."""
        ...

    def accept_rules(self, version: str) -> str:
        """The candidate accepted the rules of conduct of `version` (R16); kept until
        acknowledged, sent once. Returns the id."""
        ...

    def submit(self) -> str:
        """Hand the paper in (the UI confirms first); the result follows. Returns the id."""
        ...

    async def close(self) -> None:
        """Stop everything and close the connection. Idempotent. The outbox keeps what is
        unsent, so a new runtime on the same outbox resumes."""
        ...
