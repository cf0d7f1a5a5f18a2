"""What an image claims before anyone decodes it: its size, read from the JPEG frame header
(SOF) or the PNG header (IHDR).

A 600-byte file can declare 16000×16000 pixels and cost gigabytes to decode; a 16×4000 strip
is upscaled to the analysis width. Every image a candidate sends is checked here first, on its
header alone (no decoding, no allocation beyond the bytes), and refused with a reason when it is
not a JPEG or its size is out of bounds. Pure: bytes in, a verdict out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_SIDE = 4096  # pixels on the longer side
MAX_PIXELS = 4096 * 3072  # 12.6 megapixels: a phone photo; a webcam frame is far smaller
MIN_SIDE = 16
MAX_ASPECT = 4.0  # longer side over shorter side; cameras give 4:3, 16:9, 21:9 at most

# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length field
_SOS = 0xDA
_U16 = struct.Struct(">H")


@dataclass(frozen=True, slots=True)
class ImageCheck:
    ok: bool
    width: int = 0
    height: int = 0
    reason: str = ""  # why it was refused, in plain words
    code: str = ""  # a stable code of the reason: not_jpeg, no_size, too_large, ...


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first frame header, or None when `data` is not a JPEG whose
    header can be read before the image data starts."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = _U16.unpack_from(data, pos + 2)
        if length < 2:
            return None
        if marker in _SOF:
            if pos + 9 > end or length < 7:
                return None
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        if marker == _SOS:
            return None  # image data before any frame header
        pos += 2 + length
    return None


_PNG = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None."""
    if len(data) < 24 or not data.startswith(_PNG) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


def check_image(data: bytes, *, png: bool = False) -> ImageCheck:
    """Whether these bytes may be stored and analysed, judged on the header alone. A
    candidate's images are JPEGs; staff tools may pass PNGs too (`png=True`)."""
    size = png_size(data) if png and data.startswith(_PNG) else jpeg_size(data)
    if size is None:
        if not data.startswith(b"\xff\xd8"):
            return ImageCheck(False, reason="the image is not a JPEG", code="not_jpeg")
        return ImageCheck(False, reason="the JPEG's size cannot be read", code="no_size")
    width, height = size
    long, short = max(width, height), min(width, height)
    if short < MIN_SIDE:
        return ImageCheck(
            False, width, height, f"the image is too small ({width}×{height})", "too_small"
        )
    if long > MAX_SIDE or width * height > MAX_PIXELS:
        return ImageCheck(
            False,
            width,
            height,
            f"the image is too large ({width}×{height}; at most {MAX_SIDE} px a side "
            f"and {MAX_PIXELS // 1_000_000} megapixels)",
            "too_large",
        )
    if long > MAX_ASPECT * short:
        return ImageCheck(
            False, width, height, f"the image is too narrow ({width}×{height})", "bad_shape"
        )
    return ImageCheck(True, width, height)
