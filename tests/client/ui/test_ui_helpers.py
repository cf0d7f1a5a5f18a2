"""The Qt-free helpers of the UI: photo hints, address validation, countdown text."""

from __future__ import annotations

from datetime import timedelta, timezone

import cv2
import numpy as np
import pytest

from proctor_client.devices.fake_cameras import SyntheticCamera
from proctor_client.ui.address import AddressError, MailAddress, validate
from proctor_client.ui.photo_hints import PhotoHint, encode_jpeg, photo_hints
from proctor_client.ui.timefmt import format_countdown, local_time

CAMERA = SyntheticCamera(realtime=False)
FACE = CAMERA.read()  # the shipped fake camera: a lit, sharp face-like scene


def darker(frame: np.ndarray, factor: float) -> np.ndarray:
    return (frame.astype(np.float32) * factor).astype(np.uint8)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (FACE, []),
        (cv2.cvtColor(FACE, cv2.COLOR_BGR2GRAY), []),  # grey input
        (cv2.resize(FACE, (1920, 1440)), []),  # a large frame is measured at the working width
        (darker(FACE, 0.3), [PhotoHint.TOO_DARK]),
        (np.clip(FACE.astype(np.int16) + 170, 0, 255).astype(np.uint8), [PhotoHint.TOO_BRIGHT]),
        (cv2.GaussianBlur(FACE, (0, 0), 6), [PhotoHint.BLURRED]),
        (np.zeros((480, 640, 3), np.uint8), [PhotoHint.COVERED]),  # black
        (np.full((480, 640, 3), 128, np.uint8), [PhotoHint.COVERED]),  # flat: lens covered
    ],
)
def test_photo_hints(frame: np.ndarray, expected: list[PhotoHint]) -> None:
    assert photo_hints(frame) == expected


@pytest.mark.parametrize("shape", [(10,), (4, 4, 2), (0, 0, 3)])
def test_photo_hints_refuse_what_is_not_an_image(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        photo_hints(np.zeros(shape, np.uint8))


def test_encode_jpeg_gives_a_jpeg() -> None:
    jpeg = encode_jpeg(FACE)
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"


GOOD = MailAddress("张三", "138 0013 8000", "北京市海淀区中关村大街 1 号 3 楼 301", "100080")


def test_a_good_address_is_cleaned() -> None:
    value, errors = validate(GOOD)
    assert errors == {}
    assert value.phone == "13800138000"
    assert value.address == "北京市海淀区中关村大街 1 号 3 楼 301"


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"name": "  "}, "name", AddressError.REQUIRED),
        ({"name": "x" * 51}, "name", AddressError.NAME_TOO_LONG),
        ({"phone": ""}, "phone", AddressError.REQUIRED),
        ({"phone": "12345"}, "phone", AddressError.BAD_PHONE),
        ({"phone": "1380013800a"}, "phone", AddressError.BAD_PHONE),
        ({"phone": "1380013"}, "phone", AddressError.BAD_PHONE),
        ({"phone": "12800138000"}, "phone", AddressError.BAD_PHONE),
        ({"address": "北京"}, "address", AddressError.ADDRESS_TOO_SHORT),
        ({"address": "街" * 201}, "address", AddressError.ADDRESS_TOO_LONG),
        ({"postcode": ""}, "postcode", AddressError.REQUIRED),
        ({"postcode": "1"}, "postcode", AddressError.BAD_POSTCODE),
        ({"postcode": "10008#"}, "postcode", AddressError.BAD_POSTCODE),
        # an address written in Chinese has a Chinese postcode: 6 digits
        ({"postcode": "1000"}, "postcode", AddressError.BAD_POSTCODE),
        ({"postcode": "10008"}, "postcode", AddressError.BAD_POSTCODE),
        ({"postcode": "1000800"}, "postcode", AddressError.BAD_POSTCODE),
        ({"postcode": "SW1A 1AA"}, "postcode", AddressError.BAD_POSTCODE),
    ],
)
def test_each_bad_field_is_named(change: dict[str, str], field: str, error: AddressError) -> None:
    raw = MailAddress(**{**GOOD.__dict__, **change})
    _, errors = validate(raw)
    assert errors == {field: error}


@pytest.mark.parametrize(
    ("address", "postcode"),
    [
        ("10 Downing Street, London", "SW1A 2AA"),
        ("Bahnhofstrasse 1, Zürich", "8001"),
        ("北京市海淀区中关村大街 1 号", "100080"),
    ],
)
def test_postcodes_accepted(address: str, postcode: str) -> None:
    _, errors = validate(MailAddress(**{**GOOD.__dict__, "address": address, "postcode": postcode}))
    assert errors == {}


@pytest.mark.parametrize("phone", ["+8613800138000", "8613800138000", "+44 20 7946 0958"])
def test_phones_accepted(phone: str) -> None:
    _, errors = validate(MailAddress(**{**GOOD.__dict__, "phone": phone}))
    assert errors == {}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "--:--"),
        (-5, "00:00"),
        (0, "00:00"),
        (0.2, "00:01"),
        (65, "01:05"),
        (3725, "1:02:05"),
    ],
)
def test_format_countdown(seconds: float | None, text: str) -> None:
    assert format_countdown(seconds) == text


def test_local_time_shows_the_offset() -> None:
    beijing = timezone(timedelta(hours=8))
    assert local_time("2026-07-25T06:00:00.000Z", beijing) == "2026-07-25 14:00 (UTC+08:00)"
