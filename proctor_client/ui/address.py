"""The postal address for the paper certificate (R14): validation without Qt.

Returns error keys per field so that the screen can show a translated message next to each
field. Accepts mainland China mobile numbers (with or without +86) and other international
numbers written with their + and country code (8–15 digits). The postcode of an address
written in Chinese is 6 digits; elsewhere 3–10 letters, digits, spaces, dashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class AddressError(StrEnum):
    REQUIRED = "required"
    NAME_TOO_LONG = "name_too_long"
    BAD_PHONE = "bad_phone"
    ADDRESS_TOO_SHORT = "address_too_short"
    ADDRESS_TOO_LONG = "address_too_long"
    BAD_POSTCODE = "bad_postcode"


FIELDS = ("name", "phone", "address", "postcode")
MAX_NAME = 50
MIN_ADDRESS = 5
MAX_ADDRESS = 200

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_CN_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_INTERNATIONAL = re.compile(r"^\+\d{8,15}$")  # E.164, with its leading +
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,8}[A-Za-z0-9]$")
_CN_POSTCODE = re.compile(r"^\d{6}$")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class MailAddress:
    name: str
    phone: str
    address: str
    postcode: str

    def cleaned(self) -> MailAddress:
        """Trimmed fields; the phone without spaces, dashes or brackets."""
        return MailAddress(
            name=" ".join(self.name.split()),
            phone=_PHONE_SEPARATORS.sub("", self.phone),
            address=" ".join(self.address.split()),
            postcode=self.postcode.strip().upper(),
        )


def validate(raw: MailAddress) -> tuple[MailAddress, dict[str, AddressError]]:
    """The cleaned address and a map of field -> error (empty when the address is good)."""
    value = raw.cleaned()
    errors: dict[str, AddressError] = {}
    for field in FIELDS:
        if not getattr(value, field):
            errors[field] = AddressError.REQUIRED
    if "name" not in errors and len(value.name) > MAX_NAME:
        errors["name"] = AddressError.NAME_TOO_LONG
    if "phone" not in errors and not (
        _CN_MOBILE.match(value.phone) or _INTERNATIONAL.match(value.phone)
    ):
        errors["phone"] = AddressError.BAD_PHONE
    if "address" not in errors:
        if len(value.address) < MIN_ADDRESS:
            errors["address"] = AddressError.ADDRESS_TOO_SHORT
        elif len(value.address) > MAX_ADDRESS:
            errors["address"] = AddressError.ADDRESS_TOO_LONG
    chinese = bool(_CHINESE.search(value.address))
    postcode = _CN_POSTCODE if chinese else _POSTCODE
    if "postcode" not in errors and not postcode.match(value.postcode):
        errors["postcode"] = AddressError.BAD_POSTCODE
    return value, errors
