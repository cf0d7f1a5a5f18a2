"""The seams between the exam server and automated analysis (identity photos, snapshots,
client device signals). The server calls these; the detection feature fills them in.

Every implementation must be safe to call from the event loop: heavy work goes to an
executor inside the implementation, so joins and acknowledgements are never delayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

MIN_SIDE = 160  # pixels; an identity photo smaller than this cannot show a face well
MAX_SIDE = 4096


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

    if not data.startswith(b"\xff\xd8"):
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


class JpegSanityChecker:
    """The basic identity check: a decodable JPEG of a sensible size (no face analysis)."""

    async def check(
        self, attempt_id: str, photo: bytes, reference: bytes | None
    ) -> IdentityVerdict:
        image = decode_jpeg(photo)
        if image is None:
            return IdentityVerdict(
                False, ["The photo could not be read. Please take it again."], {}, ["unreadable"]
            )
        height, width = image.shape[:2]
        if min(height, width) < MIN_SIDE:
            return IdentityVerdict(
                False,
                [f"The photo is too small ({width}×{height}). Please use the camera preview."],
                {"width": width, "height": height},
                ["too_small"],
            )
        if max(height, width) > MAX_SIDE:
            return IdentityVerdict(
                False,
                [f"The photo is too large ({width}×{height})."],
                {"width": width, "height": height},
                ["too_large"],
            )
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
