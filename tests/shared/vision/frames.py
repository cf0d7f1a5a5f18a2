"""Test frames built from real photographs that installed packages ship (scikit-image's
`astronaut` and the LFW subset; both load from files inside the package, no download), and
the generated variants the detectors must handle: shifts, flips, crops, darkening, blur, masks,
two faces side by side, a face shown small like a badge, frozen and noisy camera frames."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

FRAME = (640, 480)  # width, height of a webcam snapshot


@cache
def astronaut() -> np.ndarray:
    from skimage import data

    rgb = np.asarray(data.astronaut(), dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


@cache
def astronaut_head() -> np.ndarray:
    """The astronaut's head and shoulders (her face is about 44% of this crop's width)."""
    return astronaut()[10:270, 100:330].copy()


@cache
def _lfw() -> np.ndarray:
    from skimage import data

    return np.asarray(data.lfw_subset(), dtype=np.float64)


def lfw_face(index: int, width: int = 220) -> np.ndarray:
    """One of the 100 LFW faces (25×25 grey, different people), enlarged, as BGR."""
    gray: np.ndarray = (_lfw()[index] * 255).astype(np.uint8)
    big = cv2.resize(gray, (width, width), interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)


def lfw_patch(index: int) -> np.ndarray:
    """One of the 100 LFW non-face patches (index 0–99), enlarged, as BGR."""
    return lfw_face(100 + index)


def room(seed: int = 0) -> np.ndarray:
    """A plain room behind the candidate: a wall gradient, a door, a shelf, a lamp."""
    rng = np.random.default_rng(seed)
    width, height = FRAME
    y = np.linspace(0, 1, height)[:, None]
    x = np.linspace(0, 1, width)[None, :]
    base = 150 + 40 * x - 30 * y + rng.normal(0, 1, (height, width))
    image = np.stack([base * 0.95, base, base * 1.05], axis=-1)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, width - 120)), int(rng.integers(0, height - 120))
        w, h = int(rng.integers(40, 160)), int(rng.integers(40, 200))
        color = rng.integers(40, 220, 3)
        image[y0 : y0 + h, x0 : x0 + w] = color
    return np.clip(image, 0, 255).astype(np.uint8)


def place(
    background: np.ndarray, picture: np.ndarray, width: int, center: tuple[int, int]
) -> np.ndarray:
    """`picture` scaled to `width` pixels and pasted with its centre at `center` (clipped)."""
    out = background.copy()
    height = round(picture.shape[0] * width / picture.shape[1])
    pic = cv2.resize(
        picture,
        (width, height),
        interpolation=cv2.INTER_AREA if width < picture.shape[1] else cv2.INTER_LINEAR,
    )
    cx, cy = center
    x0, y0 = cx - width // 2, cy - height // 2
    bx0, by0 = max(0, x0), max(0, y0)
    bx1, by1 = min(out.shape[1], x0 + width), min(out.shape[0], y0 + height)
    if bx1 <= bx0 or by1 <= by0:
        return out
    out[by0:by1, bx0:bx1] = pic[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0]
    return out


def candidate(
    width: int = 300, center: tuple[int, int] = (320, 250), seed: int = 0, flip: bool = False
) -> np.ndarray:
    """A webcam frame: the astronaut at the desk in front of a room."""
    head = astronaut_head()
    if flip:
        head = cv2.flip(head, 1)
    return place(room(seed), head, width, center)


def other_person(
    index: int = 3, width: int = 240, center: tuple[int, int] = (320, 240)
) -> np.ndarray:
    return place(room(7), lfw_face(index), width, center)


def two_people(seed: int = 0, shift: int = 0) -> np.ndarray:
    """The astronaut and a second person side by side (both moved by `shift` pixels: people
    are never still from one snapshot to the next, pictures are)."""
    frame = candidate(260, (180 + shift, 250), seed)
    return place(frame, lfw_face(5, 200), 200, (480 - shift, 230 + shift // 2))


def with_badge(seed: int = 0, badge_width: int = 60) -> np.ndarray:
    """The candidate wearing a badge with a (real) face photo on it."""
    frame = candidate(300, (300, 230), seed)
    return place(frame, astronaut_head(), badge_width, (470, 420))


def empty_room(seed: int = 0) -> np.ndarray:
    return room(seed)


def darken(image: np.ndarray, factor: float) -> np.ndarray:
    darker: np.ndarray = np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)
    return darker


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def mask_lower_face(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A medical-style mask over the lower half of the face in `box` (x, y, w, h)."""
    out = image.copy()
    x, y, w, h = box
    cv2.rectangle(out, (x, y + int(h * 0.55)), (x + w, y + int(h * 1.1)), (235, 235, 240), -1)
    return out


def cover(image: np.ndarray, seed: int = 0, level: int = 35) -> np.ndarray:
    """A hand or tape over the lens: a flat dim picture with sensor noise."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(level, 1.5, image.shape)
    return np.clip(noise, 0, 255).astype(np.uint8)


def black(image: np.ndarray) -> np.ndarray:
    return np.zeros_like(image)


def shift(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    return cv2.warpAffine(
        image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE
    )


def noisy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Sensor noise (Gaussian, `sigma` grey levels)."""
    rng = np.random.default_rng(seed)
    return np.clip(image.astype(np.float32) + rng.normal(0, sigma, image.shape), 0, 255).astype(
        np.uint8
    )


def camera(
    image: np.ndarray, rng: np.random.Generator, sigma: float = 1.5, quality: int = 85
) -> bytes:
    """What a live camera sends: the scene with fresh sensor noise, as a JPEG."""
    noisy = np.clip(image.astype(np.float32) + rng.normal(0, sigma, image.shape), 0, 255)
    return jpeg(noisy.astype(np.uint8), quality)


def camera_jpeg(image: np.ndarray, seed: int) -> bytes:
    """`camera` with its own generator: a different noise pattern per seed."""
    return camera(image, np.random.default_rng(seed))


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()
