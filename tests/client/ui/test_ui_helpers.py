"""The Qt-free helpers of the UI: photo hints, address validation, countdown text."""

from __future__ import annotations

from datetime import timedelta, timezone

import numpy as np
import pytest

from proctor_client.ui.address import AddressError, MailAddress, validate
from proctor_client.ui.photo_hints import PhotoHint, encode_jpeg, laplacian_variance, photo_hints
from proctor_client.ui.timefmt import format_countdown, local_time


def textured(mean: int, amplitude: int = 60, size: tuple[int, int] = (240, 320)) -> np.ndarray:
    """A sharp checkerboard around `mean` (BGR)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    board = ((yy // 8 + xx // 8) % 2) * 2 - 1
    grey = np.clip(mean + amplitude * board, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (textured(128), []),
        (textured(25, 15), [PhotoHint.TOO_DARK]),
        (textured(235, 15), [PhotoHint.TOO_BRIGHT]),
        (np.full((240, 320, 3), 128, np.uint8), [PhotoHint.BLURRED]),
        (np.full((240, 320, 3), 10, np.uint8), [PhotoHint.TOO_DARK, PhotoHint.BLURRED]),
        (textured(128)[:, :, 0], []),  # grey input
    ],
)
def test_photo_hints(frame: np.ndarray, expected: list[PhotoHint]) -> None:
    assert photo_hints(frame) == expected


def test_photo_hints_on_a_large_frame_use_a_coarse_picture() -> None:
    assert photo_hints(textured(128, size=(1080, 1920))) == []


@pytest.mark.parametrize("shape", [(10,), (4, 4, 2), (0, 0, 3)])
def test_photo_hints_refuse_what_is_not_an_image(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        photo_hints(np.zeros(shape, np.uint8))


def test_laplacian_variance_of_flat_and_tiny_images_is_zero() -> None:
    assert laplacian_variance(np.zeros((2, 2), np.float32)) == 0.0
    assert laplacian_variance(np.full((20, 20), 7, np.float32)) == 0.0


def test_encode_jpeg_gives_a_jpeg() -> None:
    jpeg = encode_jpeg(textured(128))
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
    ],
)
def test_each_bad_field_is_named(change: dict[str, str], field: str, error: AddressError) -> None:
    raw = MailAddress(**{**GOOD.__dict__, **change})
    _, errors = validate(raw)
    assert errors == {field: error}


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
