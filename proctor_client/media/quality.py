"""What the app publishes, chosen from the uplink the environment check measured: a table,
one row per quality, each with the uplink it needs. Live video takes about a third of the
line at most, so answers, acknowledgements and snapshots keep the rest; 320x240 at 15 fps
(300 kb/s) is the floor, for a 1 Mb/s line or an uplink not measured yet."""

from __future__ import annotations

from dataclasses import dataclass

from proctor_client.media.tracks import VideoSettings


@dataclass(frozen=True, slots=True)
class VideoQuality:
    min_uplink_mbps: float  # the measured upload speed this row needs
    video: VideoSettings
    max_bitrate: int  # bits per second, the video encoder's cap


QUALITIES: tuple[VideoQuality, ...] = (  # from the floor up
    VideoQuality(0.0, VideoSettings(320, 240, 15.0), 300_000),
    VideoQuality(2.0, VideoSettings(480, 360, 15.0), 500_000),
    VideoQuality(3.0, VideoSettings(640, 480, 15.0), 800_000),
    VideoQuality(5.0, VideoSettings(640, 480, 24.0), 1_200_000),
)
FLOOR = QUALITIES[0]


def quality_for(uplink_mbps: float | None) -> VideoQuality:
    """The best row the uplink carries; the floor when it was not measured (None), or is
    too slow for any other row (a line below 1 Mb/s gets the floor too: less would not be
    worth watching, and the exam itself never waits for media)."""
    if uplink_mbps is None or uplink_mbps != uplink_mbps:  # None or NaN
        return FLOOR
    chosen = FLOOR
    for row in QUALITIES:
        if uplink_mbps >= row.min_uplink_mbps:
            chosen = row
    return chosen
