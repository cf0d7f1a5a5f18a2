"""The seams between the exam server and automated analysis (identity photos, snapshots,
client device signals). The server calls these; the detection feature fills them in.

Every implementation must be safe to call from the event loop: heavy work goes to an
executor inside the implementation, so joins and acknowledgements are never delayed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from shared.vision.image_header import check_image

MIN_SIDE = 160  # pixels; an identity photo smaller than this cannot show a face well


@dataclass(frozen=True, slots=True)
class IdentityVerdict:
    accepted: bool
    reasons: list[str] = field(default_factory=list)  # words a candidate understands
    details: dict[str, Any] = field(default_factory=dict)  # figures for staff and the store
    codes: list[str] = field(default_factory=list)  # stable codes of the reasons, to translate


@dataclass(frozen=True, slots=True)
class ViolationDraft:
    """A flag raised by analysis; the server stores it as a violation record."""

    kind: str
    confidence: float
    started_at: datetime
    ended_at: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class IdentityChecker(Protocol):
    async def check(
        self, attempt_id: str, photo: bytes, reference: bytes | None
    ) -> IdentityVerdict: ...


class SnapshotAnalyzer(Protocol):
    """Snapshots of one attempt come one at a time, in order (the analysis queue sees to it)."""

    async def analyze(
        self, attempt_id: str, snapshot_id: str, jpeg: bytes, at: datetime
    ) -> list[ViolationDraft]: ...

    async def finish(self, attempt_id: str, at: datetime) -> None:
        """The attempt finished at `at`: end (in the store) the violations still open from
        its snapshots, no later than `at`, and forget the attempt; later snapshots of it
        raise nothing."""
        ...

    async def close(self) -> None: ...


class ClientSignals(Protocol):
    def assess(self, client: dict[str, Any], at: datetime) -> list[ViolationDraft]: ...


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """Decode image bytes to a BGR array; None when they are not a decodable image."""
    import cv2

    if not check_image(data).ok:  # not a JPEG, or a size out of bounds: never decoded
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


class JpegSanityChecker:
    """The basic identity check: a decodable JPEG of a sensible size (no face analysis)."""

    async def check(
        self, attempt_id: str, photo: bytes, reference: bytes | None
    ) -> IdentityVerdict:
        header = check_image(photo)  # the declared size, before anything is decoded
        size = {"width": header.width, "height": header.height}
        if header.code in ("too_large", "bad_shape"):
            return IdentityVerdict(
                False,
                [f"The photo is too large ({header.width}×{header.height})."],
                size,
                ["too_large"],
            )
        if (
            header.ok and min(header.width, header.height) < MIN_SIDE
        ) or header.code == "too_small":
            return IdentityVerdict(
                False,
                [
                    f"The photo is too small ({header.width}×{header.height}). "
                    "Please use the camera preview."
                ],
                size,
                ["too_small"],
            )
        # decoding takes milliseconds to seconds: never on the event loop
        image = await asyncio.to_thread(decode_jpeg, photo) if header.ok else None
        if image is None:
            return IdentityVerdict(
                False, ["The photo could not be read. Please take it again."], {}, ["unreadable"]
            )
        height, width = image.shape[:2]
        return IdentityVerdict(True, [], {"width": width, "height": height})


class NoAnalysis:
    """Snapshot analysis that flags nothing (used until detection is configured)."""

    async def analyze(
        self, attempt_id: str, snapshot_id: str, jpeg: bytes, at: datetime
    ) -> list[ViolationDraft]:
        return []

    async def finish(self, attempt_id: str, at: datetime) -> None:
        return None

    async def close(self) -> None:
        return None


class NoClientSignals:
    def assess(self, client: dict[str, Any], at: datetime) -> list[ViolationDraft]:
        return []
