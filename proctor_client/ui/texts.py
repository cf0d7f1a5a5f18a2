"""Translated texts for keys that come from ui-free code: error codes, photo hints, address
errors, result reasons. One context ("Texts") so the translation file keeps them together."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from proctor_client.runtime.model import FinishReason
from proctor_client.ui.address import AddressError
from proctor_client.ui.photo_hints import PhotoHint

# Fatal refusals the app words itself (title and advice); the server's words are not shown.
KNOWN_CODES = frozenset(
    {
        "entry_not_open",
        "entry_closed",
        "bad_ticket",
        "exam_over",
        "trial_unavailable",
        "unsupported_protocol",
        "replaced",
    }
)


def error_title(code: str) -> str:
    titles = {
        "entry_not_open": QCoreApplication.translate("Texts", "The exam entry is not open yet"),
        "entry_closed": QCoreApplication.translate("Texts", "The exam entry has closed"),
        "bad_ticket": QCoreApplication.translate("Texts", "This admission ticket is not valid"),
        "exam_over": QCoreApplication.translate("Texts", "This exam is over for you"),
        "unreachable": QCoreApplication.translate("Texts", "The exam server cannot be reached"),
        "trial_unavailable": QCoreApplication.translate("Texts", "The trial exam is not available"),
        "replaced": QCoreApplication.translate(
            "Texts", "The exam was opened on another device or window"
        ),
        "unsupported_protocol": QCoreApplication.translate("Texts", "This app is too old"),
    }
    return titles.get(code, QCoreApplication.translate("Texts", "Something went wrong"))


def error_advice(code: str) -> str:
    advice = {
        "entry_not_open": QCoreApplication.translate(
            "Texts",
            "You can enter from 30 minutes before the start. Please come back then; "
            "you may run the trial exam meanwhile.",
        ),
        "entry_closed": QCoreApplication.translate(
            "Texts",
            "The entry closes 30 minutes after the start. A candidate who has not entered "
            "by then is counted as absent.",
        ),
        "bad_ticket": QCoreApplication.translate(
            "Texts",
            "Check the ticket in your exam notice (copy it again without spaces). "
            "If it still fails, contact the exam staff.",
        ),
        "exam_over": QCoreApplication.translate(
            "Texts",
            "Your attempt was already submitted, timed out or ended. "
            "Your result notice will follow.",
        ),
        "unreachable": QCoreApplication.translate(
            "Texts",
            "Check your network connection and the server address, then try again. "
            "Anything you have answered is kept on this computer.",
        ),
        "trial_unavailable": QCoreApplication.translate(
            "Texts",
            "The trial is open before the exam only. Contact the exam staff if you need it.",
        ),
        "replaced": QCoreApplication.translate(
            "Texts",
            "Only one window may hold your exam. Continue in the other one, or close it and "
            "enter again here.",
        ),
        "unsupported_protocol": QCoreApplication.translate(
            "Texts", "Install the latest version of the exam app, then enter again."
        ),
    }
    return advice.get(
        code,
        QCoreApplication.translate(
            "Texts", "Please try again. If it keeps happening, contact the exam staff."
        ),
    )


def photo_hint(hint: PhotoHint) -> str:
    texts = {
        PhotoHint.TOO_DARK: QCoreApplication.translate(
            "Texts", "Too dark: turn on a light in front of you."
        ),
        PhotoHint.TOO_BRIGHT: QCoreApplication.translate(
            "Texts", "Too bright: move away from the window or the lamp behind the camera."
        ),
        PhotoHint.BLURRED: QCoreApplication.translate(
            "Texts", "Blurred: hold still and clean the camera lens."
        ),
        PhotoHint.COVERED: QCoreApplication.translate(
            "Texts", "The camera shows nothing: uncover the lens or choose another camera."
        ),
    }
    return texts[hint]


# The server's reasons for refusing an identity photo are sentences in English
# (proctor_server/vision/identity.py); these are translated where they match word for word.
SERVER_REASONS = (
    QT_TRANSLATE_NOOP("ServerReasons", "The photo could not be read. Please take it again."),
    QT_TRANSLATE_NOOP(
        "ServerReasons",
        "We could not find your face. Face the camera with your whole face in view.",
    ),
    QT_TRANSLATE_NOOP(
        "ServerReasons", "More than one face is in the photo. Only you should be in view."
    ),
    QT_TRANSLATE_NOOP(
        "ServerReasons", "Your face is too small in the photo. Move closer to the camera."
    ),
    QT_TRANSLATE_NOOP(
        "ServerReasons", "The camera shows only black. Uncover the camera or choose another one."
    ),
    QT_TRANSLATE_NOOP("ServerReasons", "The camera shows nothing. Uncover the camera lens."),
    QT_TRANSLATE_NOOP("ServerReasons", "The photo is too dark. Turn on a light in front of you."),
    QT_TRANSLATE_NOOP(
        "ServerReasons",
        "The photo is too bright. Move away from a window or bright light behind the camera.",
    ),
    QT_TRANSLATE_NOOP(
        "ServerReasons", "The photo is blurred. Hold still and check that the camera lens is clean."
    ),
    QT_TRANSLATE_NOOP("ServerReasons", "Look straight at the camera."),
    QT_TRANSLATE_NOOP(
        "ServerReasons",
        "The photo does not match your registration photo. If this is you, ask the "
        "exam staff for help.",
    ),
)


# The stable codes of the same reasons (identity_result.codes): the app words them itself.
_REASON_SOURCES: dict[str, object] = {
    "unreadable": SERVER_REASONS[0],
    "no_face": SERVER_REASONS[1],
    "several_faces": SERVER_REASONS[2],
    "face_small": SERVER_REASONS[3],
    "black": SERVER_REASONS[4],
    "covered": SERVER_REASONS[5],
    "dark": SERVER_REASONS[6],
    "bright": SERVER_REASONS[7],
    "blurred": SERVER_REASONS[8],
    "turned": SERVER_REASONS[9],
    "mismatch": SERVER_REASONS[10],
    "too_small": QT_TRANSLATE_NOOP(
        "ServerReasons", "The photo is too small. Please take it with the camera preview."
    ),
    "too_large": QT_TRANSLATE_NOOP(
        "ServerReasons", "The photo is too large. Please take it with the camera preview."
    ),
}


REASON_CODES: dict[str, str] = {code: str(text) for code, text in _REASON_SOURCES.items()}


def identity_reason(reason: str, code: str = "") -> str:
    """A refusal reason in the candidate's language: from its code when the app knows it,
    else the server's sentence translated word for word, else as sent."""
    source = REASON_CODES.get(code)
    if source is None and code:
        message = error_message(code, "")
        if message:
            return message
    return QCoreApplication.translate("ServerReasons", source or reason)


def error_message(code: str, fallback: str) -> str:
    """A refusal the app survives, worded from its code; `fallback` (the server's words)
    for a code this app does not know."""
    messages = {
        "not_allowed": QCoreApplication.translate("Texts", "This is not possible at this step."),
        "deadline_passed": QCoreApplication.translate(
            "Texts", "The time is over: this was not saved."
        ),
        "identity_required": QCoreApplication.translate(
            "Texts", "Your identity photo must be accepted first."
        ),
        "unknown_question": QCoreApplication.translate(
            "Texts", "This question is not in your paper."
        ),
        "bad_choice": QCoreApplication.translate("Texts", "This choice is not valid."),
        "protocol_error": QCoreApplication.translate(
            "Texts", "The app and the server did not understand each other. Update the app."
        ),
        "internal_error": QCoreApplication.translate(
            "Texts", "The server failed; it will be tried again."
        ),
        "client_error": QCoreApplication.translate(
            "Texts", "This computer could not keep your work (is the disk full?)."
        ),
        "replaced": QCoreApplication.translate(
            "Texts", "The exam was opened on another device or window; this one stopped."
        ),
    }
    return messages.get(code, fallback)


def address_error(error: AddressError) -> str:
    texts = {
        AddressError.REQUIRED: QCoreApplication.translate("Texts", "Required"),
        AddressError.NAME_TOO_LONG: QCoreApplication.translate("Texts", "Name is too long"),
        AddressError.BAD_PHONE: QCoreApplication.translate(
            "Texts", "Enter a mobile number such as 13800138000"
        ),
        AddressError.ADDRESS_TOO_SHORT: QCoreApplication.translate(
            "Texts", "Enter the full address: street, building, room"
        ),
        AddressError.ADDRESS_TOO_LONG: QCoreApplication.translate("Texts", "Address is too long"),
        AddressError.BAD_POSTCODE: QCoreApplication.translate(
            "Texts", "Enter a postcode such as 100080"
        ),
    }
    return texts[error]


def result_reason(reason: FinishReason) -> str:
    texts = {
        FinishReason.SUBMITTED: QCoreApplication.translate("Texts", "You submitted the exam."),
        FinishReason.TIME_UP: QCoreApplication.translate(
            "Texts", "The time was up; your saved answers were scored."
        ),
        FinishReason.TERMINATED: QCoreApplication.translate(
            "Texts", "The proctor ended your exam."
        ),
    }
    return texts.get(reason, str(reason))
