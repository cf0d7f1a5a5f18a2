"""What the app's tracks hand to the encoders: the camera image as an I420 frame of the size
asked for, with the pixel values PyAV's own scaler gives (`tracks.video_frame`); the
microphone read a few buffers at a time and sent as 20 ms frames, every sample in order."""

from __future__ import annotations

import numpy as np
import pytest
from av import VideoFrame

from proctor_client.devices.microphones import ToneMicrophone
from proctor_client.media.tracks import (
    AUDIO_BUFFERS_PER_READ,
    AUDIO_PTIME_S,
    MicrophoneTrack,
    video_frame,
)


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


class CountingTone:
    """A tone microphone (not paced) that counts its reads."""

    def __init__(self) -> None:
        self.inner = ToneMicrophone(realtime=False)
        self.name, self.sample_rate = self.inner.name, self.inner.sample_rate
        self.reads: list[int] = []
        self.given: list[np.ndarray] = []

    def read(self, count: int) -> np.ndarray:
        self.reads.append(count)
        samples = self.inner.read(count)
        self.given.append(samples)
        return samples

    def close(self) -> None:
        self.inner.close()


async def test_the_microphone_is_read_three_buffers_at_a_time_and_sent_one_by_one() -> None:
    microphone = CountingTone()
    track = MicrophoneTrack(microphone)
    try:
        frames = [await track.recv() for _ in range(3 * AUDIO_BUFFERS_PER_READ)]
    finally:
        track.stop()
    chunk = round(microphone.sample_rate * AUDIO_PTIME_S)
    assert microphone.reads == [chunk * AUDIO_BUFFERS_PER_READ] * 3
    assert [f.samples for f in frames] == [chunk] * len(frames)  # 20 ms each
    assert [f.pts for f in frames] == [i * chunk for i in range(len(frames))]
    sent = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    assert np.array_equal(sent, np.concatenate(microphone.given))  # every sample, in order
