"""Images a candidate sends: the identity photo (checked, then the attempt is verified and the
paper released) and snapshots (stored, acknowledged, then handed to analysis)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace

from proctor_server.core.records import PhotoRecord
from proctor_server.session.live import LiveAttempt
from proctor_server.session.writes import require_writable
from shared import proctor_protocol as pp
from shared import protocol as p
from shared.errors import ErrorCode, RuleError
from shared.states import Trigger
from shared.timeutil import to_wire
from shared.vision.image_header import check_image


async def image(live: LiveAttempt, header: p.ImageHeader, data: bytes) -> bool:
    """Take one image; True when it was newly stored."""
    require_writable(live, header.id, needs_paper=False)
    checked = check_image(data)  # on the header alone: nothing out of bounds is ever decoded
    if not checked.ok:
        raise RuleError(checked.reason, code=ErrorCode.BAD_IMAGE, ref=header.id)
    if header.type == "snapshot":
        return await _snapshot(live, header, data)
    return await _identity_photo(live, header, data)


def _record(live: LiveAttempt, header: p.ImageHeader, data: bytes) -> PhotoRecord:
    store, attempt = live.deps.store, live.attempt
    photo_id = store.photo_id(attempt.id, header.id)
    digest = hashlib.sha256(data).hexdigest()
    folder = "identity" if header.type == "identity_photo" else "snapshots"
    return PhotoRecord(
        id=photo_id,
        attempt_id=attempt.id,
        kind=header.type,
        client_id=header.id,
        # named by content too: other bytes under the same id never overwrite the first file
        path=f"{folder}/{attempt.exam_id}/{attempt.id}/{photo_id}-{digest[:16]}.jpg",
        sha256=digest,
        size=len(data),
        received_at=live.deps.clock.now(),
    )


async def _snapshot(live: LiveAttempt, header: p.ImageHeader, data: bytes) -> bool:
    record = _record(live, header, data)
    new = await _save(live, record, data, header.id)
    await live.send(p.Ack(id=header.id))
    if new:
        live.runtime.analysis.submit_snapshot(
            live.attempt_id, live.code, record.id, data, record.received_at
        )
    return new


async def _identity_photo(live: LiveAttempt, header: p.ImageHeader, data: bytes) -> bool:
    deps, runtime = live.deps, live.runtime
    if live.attempt.identity_accepted:
        await live.send(p.Ack(id=header.id))
        await live.send(p.IdentityResult(id=header.id, accepted=True, reasons=[]))
        return False
    reference = None
    if live.ticket.reference_photo:
        reference = await asyncio.to_thread(deps.store.blobs.read, live.ticket.reference_photo)
    verdict = await runtime.analysis.check_identity(live.attempt_id, data, reference)
    record = replace(
        _record(live, header, data), accepted=verdict.accepted, reasons=verdict.reasons
    )
    new = await _save(live, record, data, header.id)
    if verdict.accepted:
        live.attempt, _ = await deps.store.transition(
            live.attempt_id,
            Trigger.IDENTITY_ACCEPTED,
            record.received_at,
            "identity photo accepted",
            questions=runtime.questions_for(live.attempt),
            pass_score=runtime.pass_score_for(live.attempt),
        )
    runtime.publish(
        pp.Identity(
            exam=runtime.exam.id,
            at=to_wire(record.received_at),
            attempt=live.attempt_id,
            candidate=live.code,
            accepted=verdict.accepted,
            reasons=verdict.reasons,
            photo=record.id,
        )
    )
    await live.send(p.Ack(id=header.id))
    await live.send(
        p.IdentityResult(
            id=header.id, accepted=verdict.accepted, reasons=verdict.reasons, codes=verdict.codes
        )
    )
    if verdict.accepted:
        await live.release_paper()
    return new


async def _save(live: LiveAttempt, record: PhotoRecord, data: bytes, ref: str) -> bool:
    try:
        return await live.deps.store.save_photo(record, data)
    except RuleError as exc:
        exc.ref = ref
        raise
