"""What the app's video track hands to the encoder: the camera image as an I420 frame of the
size asked for, with the pixel values PyAV's own scaler gives (`tracks.video_frame`)."""

from __future__ import annotations

import numpy as np
import pytest
from av import VideoFrame

from proctor_client.media.tracks import video_frame


def _scene(height: int, width: int) -> np.ndarray:
    """Flat regions of known colours (an area resize and a bicubic one agree inside them)."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (255, 255, 255)
    image[:, : width // 2, 2] = 200
    image[height // 2 :, width // 2 :] = (40, 160, 90)
    return image


def _pyav(image: np.ndarray, width: int, height: int) -> np.ndarray:
    frame = VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
    return frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ((480, 640), (320, 240)),  # the synthetic camera to the floor quality
        ((720, 1280), (640, 360)),  # a 720p webcam to a 16:9 publishing size
        ((240, 320), (320, 240)),  # already the size: converted only
        ((480, 640), (640, 480)),
    ],
)
def test_frames_are_i420_of_the_size_asked_with_pyavs_values(
    source: tuple[int, int], size: tuple[int, int]
) -> None:
    image = _scene(*source)
    width, height = size
    frame = video_frame(image, width, height)
    assert (frame.width, frame.height, frame.format.name) == (width, height, "yuv420p")
    ours, theirs = frame.to_ndarray().astype(int), _pyav(image, width, height).astype(int)
    # inside each flat region the two agree to a level; only the edges between them differ
    h, w = height, width
    for y, x in [
        (h // 4, w // 4),
        (h // 4, 3 * w // 4),
        (3 * h // 4, w // 4),
        (3 * h // 4, 3 * w // 4),
    ]:
        assert abs(ours[y, x] - theirs[y, x]) <= 1
        u_row, v_row = h + y // 4, h + h // 4 + y // 4  # the chroma planes, packed by PyAV
        assert abs(ours[u_row, x // 2] - theirs[u_row, x // 2]) <= 1
        assert abs(ours[v_row, x // 2] - theirs[v_row, x // 2]) <= 1


def test_an_odd_size_goes_through_pyavs_scaler() -> None:
    frame = video_frame(_scene(480, 640), 321, 241)
    assert (frame.width, frame.height, frame.format.name) == (321, 241, "yuv420p")
