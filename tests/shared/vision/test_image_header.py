"""Image headers read before decoding: real encoder output, and files that lie about their size."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from shared.vision.image_header import MAX_SIDE, check_image, jpeg_size, png_size


def encoded(width: int, height: int, ext: str = ".jpg") -> bytes:
    ok, data = cv2.imencode(ext, np.full((height, width, 3), 90, np.uint8))
    assert ok
    return bytes(data)


def declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim another size (an image bomb:
    a few hundred bytes that would decode to width × height pixels)."""
    data = bytearray(encoded(64, 48))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(640, 480), (320, 240), (1920, 1080), (17, 16)])
def test_the_size_of_real_jpegs_and_pngs(width: int, height: int) -> None:
    assert jpeg_size(encoded(width, height)) == (width, height)
    assert png_size(encoded(width, height, ".png")) == (width, height)


def test_a_progressive_jpeg_is_read_too() -> None:
    ok, data = cv2.imencode(
        ".jpg", np.zeros((120, 200, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
    )
    assert ok and jpeg_size(bytes(data)) == (200, 120)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (encoded(640, 480), ""),
        (declaring(16000, 16000), "too_large"),  # 629 bytes declaring 256 megapixels
        (declaring(5000, 4000), "too_large"),
        (declaring(4096, 4096), "too_large"),  # within the side limit, past the pixel limit
        (declaring(16, 4000), "bad_shape"),  # a strip upscaled to the analysis width
        (declaring(8, 8), "too_small"),
        (b"#!/bin/sh\nrm -rf /\n", "not_jpeg"),
        (b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 20, "no_size"),  # image data, no frame header
        (b"\xff\xd8\xff\xe0\x00\x01", "no_size"),  # a length that cannot be
        (encoded(640, 480)[:20], "no_size"),  # cut before its frame header
        (b"", "not_jpeg"),
    ],
)
def test_check_image(data: bytes, code: str) -> None:
    checked = check_image(data)
    assert checked.ok is (code == "")
    assert checked.code == code
    if code:
        assert checked.reason


def test_bombs_are_judged_without_decoding() -> None:
    bomb = declaring(16000, 16000)
    assert len(bomb) < 1000 and check_image(bomb).width == 16000
    assert MAX_SIDE < 16000


def test_pngs_only_where_asked() -> None:
    png = encoded(320, 240, ".png")
    assert check_image(png).code == "not_jpeg"
    assert check_image(png, png=True).ok
