"""The product's vocabulary, declared once: attempt modes, the events a client reports, the
violations the server records, who raised them, why an attempt finished, and the WebSocket
close codes. Wire fields are typed with these enums, so decoding rejects any other value.

`StrEnum` members compare equal to their values and encode as them, so the wire, the
database and the logs keep the same words.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Mode(StrEnum):
    EXAM = "exam"
    TRIAL = "trial"


class EventKind(StrEnum):
    """What a candidate's app reports about its screen and devices (R16)."""

    FOCUS_LOST = "focus_lost"
    FOCUS_BACK = "focus_back"
    WINDOW_MINIMIZED = "window_minimized"
    WINDOW_RESTORED = "window_restored"
    APP_INACTIVE = "app_inactive"
    APP_ACTIVE = "app_active"
    SCREEN_ADDED = "screen_added"
    SCREEN_REMOVED = "screen_removed"
    # Device figures (cameras, virtual-machine probes) as `detail`; the server judges them.
    DEVICE_SIGNAL = "device_signal"


# The events that take the candidate off the exam screen, and those that bring them back.
LEAVING_EVENTS: frozenset[EventKind] = frozenset(
    {EventKind.FOCUS_LOST, EventKind.WINDOW_MINIMIZED, EventKind.APP_INACTIVE}
)
RETURNING_EVENTS: frozenset[EventKind] = frozenset(
    {EventKind.FOCUS_BACK, EventKind.WINDOW_RESTORED, EventKind.APP_ACTIVE}
)


class ViolationKind(StrEnum):
    """What the server records as a violation, whoever raised it."""

    LEFT_EXAM_WINDOW = "left_exam_window"
    EXTRA_SCREEN = "extra_screen"
    IDENTITY_MISMATCH = "identity_mismatch"
    MULTIPLE_FACES = "multiple_faces"
    FACE_ABSENT = "face_absent"
    LOOKING_AWAY = "looking_away"
    CAMERA_BLOCKED = "camera_blocked"
    CAMERA_FROZEN = "camera_frozen"
    VIRTUAL_CAMERA = "virtual_camera"
    VIRTUAL_MACHINE = "virtual_machine"
    SPEAKING = "speaking"
    LOW_EVIDENCE_QUALITY = "low_evidence_quality"


class Source(StrEnum):
    """Who raised a violation: the candidate's app, the server's own analysis, a proctor."""

    CLIENT = "client"
    SERVER = "server"
    PROCTOR = "proctor"


class WarningSource(StrEnum):
    """Who gave a warning: the server's rules on a reported event, or a proctor."""

    SYSTEM = "system"
    PROCTOR = "proctor"


class WarningLimitAction(StrEnum):
    """What reaching the exam's warning limit does: the proctors are alerted (the attempt goes
    on), or the attempt is terminated. Set per exam; sent in `welcome`."""

    ALERT = "alert"
    TERMINATE = "terminate"


class FinishReason(StrEnum):
    SUBMITTED = "submitted"
    TIME_UP = "time_up"
    TERMINATED = "terminated"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (RFC 6455 codes and the product's 4xxx)."""

    GOING_AWAY = 1001  # a proctor feed closed by the server (fell behind, shutting down)
    POLICY_VIOLATION = 1008  # too many malformed messages
    MESSAGE_TOO_BIG = 1009
    BAD_TOKEN = 4401  # proctor sign-in refused
    HELLO_REFUSED = 4403  # after the error answering hello (bad ticket, entry window...)
    HELLO_TIMEOUT = 4408
    REPLACED = 4409  # a newer connection took over this attempt
