"""The identity photo on entry: exactly one face, large, sharp and lit well enough, facing the
camera, and the same person as the ticket's reference photo when there is one. Reasons are
sentences a candidate can act on; figures go to `details` for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from proctor_server.analysis import MIN_SIDE, IdentityVerdict
from proctor_server.store import Store
from proctor_server.vision.calibration import CalibrationTable, from_frame
from proctor_server.vision.pools import JobPool
from proctor_server.vision.worker import IdentityFigures, identity_job
from shared.vision.faces import MATCH_DISTANCE
from shared.vision.image_header import MAX_SIDE

ENTRY_MIN_FRACTION = 0.18  # the face must be at least this wide relative to the photo
ENTRY_MAX_YAW = 30.0  # degrees: beyond, the candidate is not facing the camera

TEXTS = {
    "unreadable": "The photo could not be read. Please take it again.",
    "too_small": "The photo is too small ({width}×{height}). Please use the camera preview.",
    "too_large": "The photo is too large ({width}×{height}).",
    "no_face": "We could not find your face. Face the camera with your whole face in view.",
    "several_faces": "More than one face is in the photo. Only you should be in view.",
    "face_small": "Your face is too small in the photo. Move closer to the camera.",
    "black": "The camera shows only black. Uncover the camera or choose another one.",
    "covered": "The camera shows nothing. Uncover the camera lens.",
    "dark": "The photo is too dark. Turn on a light in front of you.",
    "bright": "The photo is too bright. Move away from a window or bright light behind the camera.",
    "blurred": "The photo is blurred. Hold still and check that the camera lens is clean.",
    "turned": "Look straight at the camera.",
    "mismatch": "The photo does not match your registration photo. If this is you, ask the "
    "exam staff for help.",
}


def verdict(figures: IdentityFigures) -> IdentityVerdict:
    """Accept or refuse an identity photo from what was measured (pure)."""
    photo = figures.photo
    if photo is None:
        return IdentityVerdict(False, [TEXTS["unreadable"]], {"readable": False}, ["unreadable"])
    size = {"width": photo.width, "height": photo.height}
    if min(photo.width, photo.height) < MIN_SIDE:
        return IdentityVerdict(False, [TEXTS["too_small"].format(**size)], size, ["too_small"])
    if max(photo.width, photo.height) > MAX_SIDE:
        return IdentityVerdict(False, [TEXTS["too_large"].format(**size)], size, ["too_large"])
    details: dict[str, Any] = photo.as_dict()
    codes: list[str] = []  # stable reason codes; the texts are their English wording
    quality = photo.quality
    counted = [f for f in photo.faces if f.counted]
    if quality.covered:
        codes.append("black" if quality.black else "covered")
    elif not counted:
        codes.append("no_face")
    elif len(counted) > 1:
        codes.append("several_faces")
    if len(counted) == 1 and not quality.covered:
        if counted[0].fraction < ENTRY_MIN_FRACTION:
            codes.append("face_small")
        for code in ("dark", "bright", "blurred"):
            if code in quality.reasons:
                codes.append(code)
        if photo.pose is not None and abs(photo.pose.yaw) > ENTRY_MAX_YAW:
            codes.append("turned")
    elif not counted and not quality.covered:
        for code in ("dark", "blurred"):  # a likely cause of not finding the face
            if code in quality.reasons:
                codes.append(code)
    if figures.reference_given:
        reference = figures.reference
        usable = reference is not None and reference.embedding is not None
        details["reference"] = {"usable": usable}
        if figures.distance is not None:
            match = figures.distance <= MATCH_DISTANCE
            details["identity"] = {"distance": round(figures.distance, 3), "match": match}
            if not match and not codes:
                codes.append("mismatch")
    reasons = [TEXTS[code] for code in codes]
    return IdentityVerdict(not codes, reasons, details, codes)


class FaceIdentityChecker:
    """`IdentityChecker` with faces; an accepted photo becomes the attempt's calibration."""

    def __init__(self, store: Store, pool: JobPool, calibrations: CalibrationTable):
        self.store = store
        self.pool = pool
        self.calibrations = calibrations

    async def check(
        self, attempt_id: str, photo: bytes, reference: bytes | None
    ) -> IdentityVerdict:
        figures = await self.pool.run(identity_job, photo, reference)
        result = verdict(figures)
        if result.accepted and figures.photo is not None:
            attempt = await self.store.get_attempt(attempt_id)
            ticket = None if attempt is None else attempt.ticket
            now = datetime.now().astimezone()
            await self.calibrations.put(
                attempt_id, ticket, from_frame(figures.photo, "identity"), now
            )
        return result
