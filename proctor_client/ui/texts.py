"""Translated texts for keys that come from ui-free code: error codes, photo hints, address
errors, result reasons. One context ("Texts") so the translation file keeps them together."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from proctor_client.ui.address import AddressError
from proctor_client.ui.photo_hints import PhotoHint


def error_title(code: str) -> str:
    titles = {
        "entry_not_open": QCoreApplication.translate("Texts", "The exam entry is not open yet"),
        "entry_closed": QCoreApplication.translate("Texts", "The exam entry has closed"),
        "bad_ticket": QCoreApplication.translate("Texts", "This admission ticket is not valid"),
        "exam_over": QCoreApplication.translate("Texts", "This exam is over for you"),
        "unreachable": QCoreApplication.translate("Texts", "The exam server cannot be reached"),
        "trial_unavailable": QCoreApplication.translate("Texts", "The trial exam is not available"),
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
    }
    return texts[hint]


def identity_reason(reason: str) -> str:
    """The server's reasons for refusing an identity photo, where we know them."""
    texts = {
        "no_face": QCoreApplication.translate("Texts", "No face was found in the photo."),
        "several_faces": QCoreApplication.translate("Texts", "More than one face is in the photo."),
        "mismatch": QCoreApplication.translate(
            "Texts", "The photo does not match the registered candidate."
        ),
        "too_dark": QCoreApplication.translate("Texts", "The photo is too dark."),
        "blurred": QCoreApplication.translate("Texts", "The photo is blurred."),
    }
    return texts.get(reason, reason)


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


def result_reason(reason: str) -> str:
    texts = {
        "submitted": QCoreApplication.translate("Texts", "You submitted the exam."),
        "time_up": QCoreApplication.translate(
            "Texts", "The time was up; your saved answers were scored."
        ),
        "terminated": QCoreApplication.translate("Texts", "The proctor ended your exam."),
    }
    return texts.get(reason, reason)
